"""Registers the shell backend."""

from lamina.backends.shell.target_types import TARGET_TYPES


def target_types():
    """Shell target types."""
    return TARGET_TYPES


def generated_files():
    """A ``shell_command`` generates its output files."""
    from lamina.backends.shell.rules import shell_command_outputs

    return {alias.alias: shell_command_outputs for alias in TARGET_TYPES}

"""Registers the shell backend."""

from lamina.backends import lazy
from lamina.backends.shell.target_types import TARGET_TYPES


def target_types():
    """Shell target types."""
    return TARGET_TYPES


def generated_files():
    """A ``shell_command`` generates its output files (its rules imported only when one runs)."""

    outputs = lazy("lamina.backends.shell.rules", "shell_command_outputs")
    return {target_type.alias: outputs for target_type in TARGET_TYPES}

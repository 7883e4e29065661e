"""Registers the shell backend."""

from lamina.backends.shell.target_types import TARGET_TYPES


def target_types():
    """Shell target types."""
    return TARGET_TYPES


def generated_files():
    """A ``shell_command`` generates its output files (its rules imported only when one runs)."""

    def shell_command_outputs(target, context):
        from lamina.backends.shell.rules import shell_command_outputs as outputs

        return outputs(target, context)

    return {target_type.alias: shell_command_outputs for target_type in TARGET_TYPES}

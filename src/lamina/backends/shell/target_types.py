"""``shell_command``: a command whose output files other targets use (a Dockerfile copies them)."""

from lamina.graph.target import Field, TargetType

_FIELDS = (
    Field("command", "The command, run by bash in the working directory.", required=True),
    Field("tools", "Programs of this machine the command may run (put on its PATH by name).", ()),
    Field("execution_dependencies", "Targets whose files the command reads (at their repository paths).", ()),
    Field("runnable_dependencies", "Pants' field; lamina does not run other targets.", ()),
    Field("output_files", "Files the command writes, relative to its working directory.", ()),
    Field("output_directories", "Directories the command writes, relative to its working directory.", ()),
    Field("workdir", "Where the command runs: relative to the BUILD file's directory, or '/' for the build root.", "."),
    Field("extra_env_vars", "Environment variables passed through: NAME, or NAME=value.", ()),
    Field("timeout", "Seconds the command may run.", 30),
    *(
        Field(name, "Pants' field; lamina ignores it.")
        for name in ("environment", "log_output", "output_dependencies", "root_output_directory", "cache_scope",
                     "outputs_match_mode", "path_env_modify", "restartable", "workspace_invalidation_sources")
    ),
)  # fmt: skip

TARGET_TYPES = [
    TargetType(alias, "A command run in a sandbox (no network) whose output files are used by other targets.", _FIELDS)
    for alias in ("shell_command", "experimental_shell_command")
]

"""The shell backend: Pants' ``shell_command``, run sandboxed to generate files."""

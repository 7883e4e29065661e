"""Pants target types accepted with any fields; ``list`` shows them, ``package`` skips them."""

from lamina.graph.target import TargetType

_ALIASES = (
    "python_tests", "python_test", "python_test_utils", "pex_binary", "pex_binaries", "python_distribution",
    "docker_image", "shell_sources", "shell_source", "shunit2_tests", "target",
    "python_awslambda", "python_aws_lambda_function", "python_google_cloud_function", "pyoxidizer_binary",
    "relocated_files", "archive", "protobuf_sources", "thrift_sources", "experimental_shell_command",
    "shell_command", "run_shell_command", "adhoc_tool", "system_binary", "go_binary", "go_package", "go_mod",
    "jvm_artifact", "java_sources", "scala_sources", "helm_chart", "terraform_module", "vcs_version",
)  # fmt: skip

TARGET_TYPES = [
    TargetType(alias, f"Pants' `{alias}` (read, not built by lamina).", None, builds=False) for alias in _ALIASES
]

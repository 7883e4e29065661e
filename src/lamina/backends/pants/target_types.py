"""The target types of Pants' built-in backends that lamina reads, lists and walks but does
not build, so a Pants repository loads unchanged. Their fields are not checked (Pants
checks them); file generators make one target per file of their default globs, as Pants."""

from lamina.graph.target import TargetType

# generator -> (the type it generates, its default sources), as in Pants' backends
FILE_GENERATORS = {
    "python_tests": ("python_test", ("test_*.py", "*_test.py", "tests.py", "test_*.pyi", "*_test.pyi", "tests.pyi")),
    "python_test_utils": ("python_source", ("conftest.py", "test_*.pyi", "*_test.pyi", "tests.pyi")),
    "shell_sources": ("shell_source", ("*.sh", "!*_test.sh")),
    "shunit2_tests": ("shunit2_test", ("*_test.sh",)),
    "protobuf_sources": ("protobuf_source", ("*.proto",)),
    "thrift_sources": ("thrift_source", ("*.thrift",)),
    "avro_sources": ("avro_source", ("*.avsc", "*.avpr", "*.avdl")),
    "java_sources": ("java_source", ("*.java", "!*Test.java")),
    "junit_tests": ("junit_test", ("*Test.java",)),
    "scala_sources": ("scala_source", ("*.scala", "!*Test.scala", "!*Spec.scala")),
    "scalatest_tests": ("scalatest_test", ("*Spec.scala",)),
    "scala_junit_tests": ("scala_junit_test", ("*Test.scala",)),
    "kotlin_sources": ("kotlin_source", ("*.kt", "!*Test.kt")),
    "kotlin_junit_tests": ("kotlin_junit_test", ("*Test.kt",)),
    "javascript_sources": ("javascript_source", ("*.js", "*.cjs", "*.mjs", "!*.test.js", "!*.test.cjs", "!*.test.mjs")),
    "javascript_tests": ("javascript_test", ("*.test.js", "*.test.cjs", "*.test.mjs")),
    "jsx_sources": ("jsx_source", ("*.jsx", "!*.test.jsx")),
    "jsx_tests": ("jsx_test", ("*.test.jsx",)),
    "typescript_sources": ("typescript_source", ("*.ts", "!*.test.ts", "!*.d.ts")),
    "typescript_tests": ("typescript_test", ("*.test.ts",)),
    "tsx_sources": ("tsx_source", ("*.tsx", "!*.test.tsx")),
    "tsx_tests": ("tsx_test", ("*.test.tsx",)),
    "sql_sources": ("sql_source", ("*.sql",)),
    "openapi_documents": ("openapi_document", ("openapi.json", "openapi.yaml")),
    "openapi_sources": ("openapi_source", ("*.json", "*.yaml")),
    "helm_unittest_tests": ("helm_unittest_test", ("tests/*_test.yaml",)),
    "k8s_sources": ("k8s_source", ("*.yaml", "*.yml")),
    "cc_sources": ("cc_source", ("*.c", "*.cc", "*.cpp", "*.cxx", "*.h", "*.hh", "*.hpp")),
    "_lockfiles": ("_lockfile", ()),
}
# generators whose targets come from a file's entries (a backend may register how)
ENTRY_GENERATORS = {
    "pex_binaries": "pex_binary",
    "jvm_artifacts": "jvm_artifact",
    "go_mod": "go_third_party_package",
    "pipenv_requirements": "python_requirement",
    "pants_requirements": "python_requirement",
    "nfpm_content_files": "nfpm_content_file",
    "nfpm_content_dirs": "nfpm_content_dir",
    "nfpm_content_symlinks": "nfpm_content_symlink",
}
PLAIN = (
    "adhoc_tool", "archive", "code_quality_tool", "deploy_jar", "docker_environment",
    "experimental_run_in_sandbox", "experimental_run_shell_command",
    "experimental_test_shell_command", "experimental_wrap_as_go_package", "experimental_wrap_as_java_sources",
    "experimental_wrap_as_kotlin_sources", "experimental_wrap_as_python_sources", "experimental_wrap_as_resources",
    "experimental_wrap_as_scala_sources", "go_binary", "go_package", "helm_artifact", "helm_chart",
    "helm_deployment", "jvm_war", "local_environment", "remote_environment", "workspace_environment",
    "makeself_archive", "node_build_script", "node_test_script", "node_third_party_package", "package_json",
    "nfpm_apk_package", "nfpm_archlinux_package", "nfpm_deb_package", "nfpm_rpm_package", "nfpm_content_dir",
    "nfpm_content_symlink", "openapi_bundle", "python_aws_lambda_function", "python_aws_lambda_layer",
    "python_awslambda", "python_distribution", "python_google_cloud_function", "pyoxidizer_binary",
    "relocated_files", "run_shell_command", "scalac_plugin", "system_binary", "target",
    "terraform_backend", "terraform_deployment", "terraform_module", "terraform_var_files", "test_shell_command",
    "vcs_version", "uv_requirements", "k8s_bundle", "cc_binary", "cc_library", "semgrep_rule_source",
    "_target_generator_sources_helper",
)  # fmt: skip


def _read(alias: str, **kwargs) -> TargetType:
    return TargetType(alias, f"Pants' `{alias}` (read and listed, not built by lamina).", None, builds=False, **kwargs)


GENERATED = {generated for generated, _ in FILE_GENERATORS.values()} | set(ENTRY_GENERATORS.values())
TARGET_TYPES = [
    *(
        _read(alias, generates=generated, default_sources=sources)
        for alias, (generated, sources) in FILE_GENERATORS.items()
    ),
    *(_read(alias, generates=generated) for alias, generated in ENTRY_GENERATORS.items()),
    *(_read(alias) for alias in sorted(set(PLAIN) | GENERATED - {"python_source", "python_requirement"})),
]

"""Python target types, each field defined once with its help text."""

from lamina.graph.target import Field, TargetType

RESOLVE = Field(
    "resolve", "The resolve (lock) whose requirements this target uses; defaults to [python] default_resolve."
)
SOURCES = Field(
    "sources",
    "Glob patterns relative to the BUILD file's directory; `!pattern` excludes.",
    ("*.py", "!*_test.py", "!test_*.py", "!conftest.py"),
)
MODULE_MAPPING = Field(
    "module_mapping", "Distribution name -> the modules it provides, where they differ from its name.", {}
)

TARGET_TYPES = [
    TargetType(
        "python_sources",
        "Python source files; generates one `python_source` per file.",
        (
            SOURCES,
            RESOLVE,
            Field("interpreter_constraints", "Ignored by lamina (the base image decides)."),
            Field("overrides", "Per-file field overrides.", {}),
            Field("skip_mypy", "Pants' option; ignored."),
            Field("skip_black", "Pants' option; ignored."),
            Field("skip_ruff", "Pants' option; ignored."),
        ),
        generates="python_source",
    ),
    TargetType("python_source", "One Python source file.", (Field("source", "The file."), RESOLVE)),
    TargetType(
        "python_requirements",
        "Requirements from a requirements.txt-style file; generates one `python_requirement` per line (`dir:name#dist`).",
        (
            Field("source", "The requirements file, relative to the BUILD file.", "requirements.txt"),
            RESOLVE,
            MODULE_MAPPING,
            Field("type_stubs_module_mapping", "Pants' option; ignored.", {}),
            Field("overrides", "Per-requirement field overrides.", {}),
        ),
        generates="python_requirement",
    ),
    TargetType(
        "python_requirement",
        "Third-party requirements, in pip's syntax.",
        (
            Field("requirements", "Requirement strings, e.g. ['fastapi>=0.110'].", (), required=True),
            Field("modules", "Modules these requirements provide, where they differ from the name."),
            RESOLVE,
            Field("type_stub_modules", "Pants' option; ignored."),
        ),
    ),
    TargetType(
        "python_image",
        "A runnable OCI image of a Python entry point, its first-party closure and locked third-party closure.",
        (
            Field(
                "entry_point",
                "What runs: 'pkg.mod:func', 'pkg.mod', or a file relative to this BUILD file ('main.py[:func]').",
                required=True,
            ),
            Field(
                "base", "The base image: docker-archive:PATH, oci-layout:PATH[:TAG], docker-daemon:NAME:TAG or scratch."
            ),
            Field("repository", "Image repository name; defaults to the target's name."),
            Field("tags", "Tags of the image; defaults to ['latest'].", ()),
            Field("env", "Environment variables of the container.", {}),
            Field("ports", "Ports the container exposes (8000 or '53/udp').", ()),
            Field("user", "User (name or uid[:gid]) the container runs as."),
            Field("workdir", "Working directory; defaults to the app directory."),
            Field("labels", "Image labels.", {}),
            Field("layout", "How Python code is laid out in the image; 'venv' today.", "venv"),
            RESOLVE,
        ),
    ),
]

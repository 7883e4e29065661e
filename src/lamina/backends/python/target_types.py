"""Python target types, each field defined once with its help text."""

import posixpath

from lamina.graph.target import Field, Target, TargetType

RESOLVE = Field(
    "resolve", "The resolve (lock) whose requirements this target uses; defaults to [python] default_resolve."
)
SOURCES = Field(
    "sources",
    "Glob patterns relative to the BUILD file's directory; `!pattern` excludes.",
    (
        "*.py",
        "*.pyi",
        "!test_*.py",
        "!*_test.py",
        "!tests.py",
        "!conftest.py",
        "!test_*.pyi",
        "!*_test.pyi",
        "!tests.pyi",
    ),
)
INTERPRETER_CONSTRAINTS = Field(
    "interpreter_constraints",
    "The Pythons this code runs on, in Pants' syntax (e.g. ['CPython==3.12.*']); default: its resolve's "
    "(with default_to_resolve_interpreter_constraints), else [python] interpreter_constraints. A pex_binary no "
    "image holds is built for, and runs with, the oldest matching CPython on [python-bootstrap] search_path.",
)
# Fields Pants' python_source(s) have for its linters, checkers and `run`; accepted, not used.
PANTS_SOURCE_FIELDS = tuple(
    Field(name, "Pants' field; lamina ignores it.")
    for name in (
        "restartable", "run_goal_use_sandbox", "skip_autoflake", "skip_bandit",
        "skip_black", "skip_docformatter", "skip_flake8", "skip_isort", "skip_mypy", "skip_pydocstyle",
        "skip_pylint", "skip_pytype", "skip_pyupgrade", "skip_ruff", "skip_yapf",
    )
)  # fmt: skip
# Fields Pants' pex_binary has that change how Pants runs pex or checks the result; accepted, not used.
PANTS_PEX_FIELDS = tuple(
    Field(name, "Pants' field; lamina ignores it.")
    for name in (
        "check", "compile", "emit_warnings", "environment", "extra_build_args", "ignore_errors",
        "platforms", "resolve_local_platforms", "restartable", "sh_boot",
        "strip_pex_env", "venv_hermetic_scripts", "venv_site_packages_copies",
    )
)  # fmt: skip
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
            Field(
                "overrides",
                "Fields of the generated python_source targets, by file path or glob relative to this BUILD file "
                "(or a tuple of them), e.g. {'main.py': {'dependencies': [':extra']}}.",
                {},
            ),
            INTERPRETER_CONSTRAINTS,
            *PANTS_SOURCE_FIELDS,
        ),
        generates="python_source",
    ),
    TargetType(
        "python_source",
        "One Python source file.",
        (Field("source", "The file."), RESOLVE, INTERPRETER_CONSTRAINTS, *PANTS_SOURCE_FIELDS),
    ),
    TargetType(
        "python_requirements",
        "Requirements from a requirements file or a PEP 621 pyproject.toml; one `python_requirement` per "
        "distribution (`dir:name#dist`).",
        (
            Field("source", "The requirements file, relative to the BUILD file.", "requirements.txt"),
            RESOLVE,
            MODULE_MAPPING,
            Field("type_stubs_module_mapping", "Pants' option; ignored.", {}),
            Field(
                "overrides",
                "Fields of the generated python_requirement targets, by requirement name (or a tuple of names), "
                "e.g. {'pyyaml': {'modules': ['yaml']}}.",
                {},
            ),
        ),
        generates="python_requirement",
    ),
    TargetType(
        "poetry_requirements",
        "Requirements from a Poetry pyproject.toml; generates one `python_requirement` per dependency.",
        (
            Field("source", "The pyproject.toml, relative to the BUILD file.", "pyproject.toml"),
            RESOLVE,
            MODULE_MAPPING,
            Field("type_stubs_module_mapping", "Pants' option; ignored.", {}),
            Field("overrides", "Fields of the generated python_requirement targets, by requirement name.", {}),
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
                "What runs: 'pkg.mod:func', 'pkg.mod', or a file relative to this BUILD file ('main.py[:func]'); "
                "required unless binary= names a pex_binary.",
            ),
            Field(
                "binary",
                "A pex_binary whose loose pex the image holds (a layer per distribution, shared by every image "
                "using it) and runs, instead of a venv; its entry_point is the image's.",
            ),
            Field(
                "base",
                "The base image: a base target's address (':name', '//dir:name'), REGISTRY/REPO[:TAG][@sha256:DIGEST], "
                "docker-archive:PATH, oci-layout:PATH[:TAG], docker-daemon:NAME:TAG or scratch.",
            ),
            Field("repository", "Image repository name; defaults to the target's name."),
            Field("image_tags", "Tags the image is written and published under; defaults to ['latest'].", ()),
            Field("env", "Environment variables of the container.", {}),
            Field("ports", "Ports the container exposes (8000 or '53/udp').", ()),
            Field("user", "User (name or uid[:gid]) the container runs as."),
            Field("workdir", "Working directory; defaults to the app directory."),
            Field("labels", "Image labels.", {}),
            Field(
                "layout",
                "How Python code is laid out: 'venv' (a venv at [oci] venv_dir and the app dir) or 'pex' (a loose "
                "pex of the closure in the app dir, a layer per distribution; implied by binary=).",
                "venv",
            ),
            Field(
                "bytecode",
                "Compile the third-party layers' bytecode with the base's CPython at build time (unchecked-hash "
                ".pyc files), so containers do not compile at every start.",
                True,
            ),
            Field(
                "builder",
                "The base target (a debian_base with a compiler and python3.X-dev) in which sdists with native code are "
                "built, sandboxed; defaults to [python] builder.",
            ),
            RESOLVE,
        ),
    ),
    TargetType(
        "pex_binary",
        "A self-contained, executable Python application (a .pex), built by pex from the closure of its entry point "
        "and the locked wheels it needs.",
        (
            Field(
                "entry_point",
                "What runs: 'pkg.mod:func', 'pkg.mod', a file relative to this BUILD file ('main.py', './app.py:func'), "
                "a third-party module, or '<none>' for an interpreter.",
            ),
            Field("script", "A console script of one of the distributions to run instead of an entry_point."),
            Field("args", "Arguments the pex always passes to its entry point, before the caller's.", ()),
            Field("env", "Environment variables set when the pex runs.", {}),
            Field(
                "layout",
                "'zipapp' (one file), 'packed' (a directory of zipped parts) or 'loose' (a directory).",
                "zipapp",
            ),
            Field(
                "execution_mode", "'zipapp', or 'venv' (the pex installs itself into a venv on first run).", "zipapp"
            ),
            Field(
                "include_sources", "Include first-party sources (False for the 'deps' half of a deps/srcs pair).", True
            ),
            Field("include_requirements", "Include third-party distributions (False for the 'srcs' half).", True),
            Field("include_tools", "Include pex's tools (PEX_TOOLS=1 ./app.pex venv ...).", False),
            Field("inherit_path", "Let the pex see the interpreter's site-packages: 'false', 'prefer' or 'fallback'."),
            Field(
                "shebang", "The pex's #! line; defaults to the interpreter of the image using it, else pex's default."
            ),
            Field(
                "complete_platforms",
                "Addresses of file targets holding pex complete platforms (`pex3 interpreter inspect --markers --tags`); "
                "default: the platforms of the images using the pex, else the host's Python its interpreter_constraints allow.",
                (),
            ),
            Field("output_path", "Where the pex goes under the dist dir; default 'dir.sub/name.pex'."),
            RESOLVE,
            INTERPRETER_CONSTRAINTS,
            *PANTS_PEX_FIELDS,
        ),
    ),
]


def output_path(target: Target) -> str:
    """``output_path``, else Pants' default ``${spec_path_normalized}/${target_name_normalized}.pex``."""
    given = target.get("output_path")
    if given:
        return given
    address = target.address
    return posixpath.join(address.spec_path.replace("/", ".") or ".", f"{address.name}.pex")


def builder_spec(target: Target, config) -> str | None:
    """What names ``target``'s builder: its ``builder=``, else ``[python] builder``; None when neither."""
    return target.get("builder") or config.python_builder

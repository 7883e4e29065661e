"""Data files: ``resources`` are placed by source root (for importlib.resources/pkgutil), ``files`` by path.

``resource`` and ``file`` are Pants' one-file spellings of the same targets.
"""

from lamina.graph.target import Field, TargetType

SOURCES = Field(
    "sources", "Glob patterns relative to the BUILD file's directory; `!pattern` excludes.", (), required=True
)
OVERRIDES = Field("overrides", "Fields of the generated targets, by file path or glob relative to this BUILD file.", {})
SOURCE = Field("source", "One file, relative to the BUILD file's directory.", None, required=True)

RESOURCE_ALIASES = ("resource",)  # what ``resources`` generates, one per file
FILE_ALIASES = ("file",)  # what ``files`` generates

TARGET_TYPES = [
    TargetType(
        "resources",
        "Data files loaded as package resources, placed under their source root; one `resource` per file.",
        (SOURCES, OVERRIDES),
        generates="resource",
    ),
    TargetType("resource", "One data file loaded as a package resource.", (SOURCE,)),
    TargetType(
        "files",
        "Loose files, placed at their path relative to the build root; one `file` per file.",
        (SOURCES, OVERRIDES),
        generates="file",
    ),
    TargetType("file", "One loose file.", (SOURCE,)),
]

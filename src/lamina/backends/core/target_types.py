"""Data files: ``resources`` are placed by source root (for importlib.resources/pkgutil), ``files`` by path.

``resource`` and ``file`` are Pants' one-file spellings of the same targets.
"""

from lamina.graph.target import Field, TargetType

SOURCES = Field(
    "sources", "Glob patterns relative to the BUILD file's directory; `!pattern` excludes.", (), required=True
)
SOURCE = Field("source", "One file, relative to the BUILD file's directory.", None, required=True)

RESOURCE_ALIASES = ("resources", "resource")
FILE_ALIASES = ("files", "file")

TARGET_TYPES = [
    TargetType("resources", "Data files loaded as package resources; placed under their source root.", (SOURCES,)),
    TargetType("resource", "One data file loaded as a package resource.", (SOURCE,)),
    TargetType("files", "Loose files; placed at their path relative to the build root.", (SOURCES,)),
    TargetType("file", "One loose file.", (SOURCE,)),
]

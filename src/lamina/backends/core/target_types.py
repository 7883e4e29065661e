"""``resources`` (placed by source root, loadable with importlib.resources) and ``files`` (placed by path)."""

from lamina.graph.target import Field, TargetType

SOURCES = Field("sources", "Glob patterns relative to the BUILD file's directory; `!pattern` excludes.", (), required=True)

TARGET_TYPES = [
    TargetType("resources", "Data files loaded as package resources; placed under their source root.", (SOURCES,)),
    TargetType("files", "Loose files; placed at their path relative to the build root.", (SOURCES,)),
]

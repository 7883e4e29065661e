"""Which requirement provides a module: explicit mappings, wheel metadata, or the name itself."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from packaging.utils import canonicalize_name

# Well-known distributions whose module names differ from their names (as Pants' default mapping).
DEFAULT_MODULE_MAPPING: dict[str, tuple[str, ...]] = {
    "attrs": ("attr", "attrs"),
    "beautifulsoup4": ("bs4",),
    "pillow": ("PIL",),
    "python-dateutil": ("dateutil",),
    "pyyaml": ("yaml",),
    "scikit-learn": ("sklearn",),
    "protobuf": ("google.protobuf",),
    "typing-extensions": ("typing_extensions",),
    "opencv-python": ("cv2",),
    "python-dotenv": ("dotenv",),
    "pyjwt": ("jwt",),
    "setuptools": ("setuptools", "pkg_resources"),
    "google-cloud-storage": ("google.cloud.storage",),
    "psycopg2-binary": ("psycopg2",),
    "pymysql": ("pymysql",),
    "msgpack-python": ("msgpack",),
    "ansicolors": ("colors",),
}

ModuleNamesHook = Callable[[str, str], Sequence[str] | None]


def default_modules(dist: str) -> tuple[str, ...]:
    """The modules a distribution is assumed to provide when nothing better is known."""
    name = canonicalize_name(dist)
    return DEFAULT_MODULE_MAPPING.get(name, (name.replace("-", "_"),))

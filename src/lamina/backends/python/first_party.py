"""The first-party files a closure carries, where they go relative to the code's root:
sources and resources with their source root stripped, ``file`` targets at their repo
paths, plus every ``__init__.py`` above the sources (as Pants packages them), so packages
import as regular packages. Images put them under the app directory; pex puts them in
the ``.pex``."""

from __future__ import annotations

from pathlib import Path

from lamina.backends.core.target_types import FILE_ALIASES, RESOURCE_ALIASES
from lamina.backends.python.inference import PythonInference
from lamina.graph.target import Target


def first_party_files(closure: list[Target], graph, build_root: Path, *, files: bool = True) -> dict[str, Path]:
    """``{path relative to the code's root: source file}``; ``files=False`` leaves ``file``
    targets out (a pex carries only sources and resources, as in Pants)."""
    roots = graph.source_roots
    inference = PythonInference.of(graph)
    inits = {i.sources[0]: i for t in closure if t.alias == "python_source" for i in inference.ancestor_init_files(t)}
    closure = [*closure, *(i for path, i in sorted(inits.items()) if i not in closure)]
    found: dict[str, Path] = {}
    for target in closure:
        if target.alias == "python_source" or target.alias in RESOURCE_ALIASES:
            found.update((roots.strip(p), build_root / p) for p in target.sources)
        elif files and target.alias in FILE_ALIASES:
            found.update((p, build_root / p) for p in target.sources)
    return found

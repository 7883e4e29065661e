"""What a packager may use, and nothing else: the build context.

Packagers run concurrently on a pool of workers, so what they share is spelled out
here: configuration, the graph and the target types are read-only; the cache, the
package index and registry clients are safe to use from many threads (the cache writes
every entry under a temporary name and renames it into place); ``once`` holds the values
a run computes once and every worker reuses (a base several images share, a warning
given once), computed by the first worker that asks while the others wait.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lamina.cache import Cache
from lamina.config import Config
from lamina.graph.graph import BuildGraph
from lamina.graph.target import Registry
from lamina.once import Once
from lamina.python.index import PackageIndex
from lamina.registry.client import RegistryClient
from lamina.stamp import Stamp
from lamina.transport import Transport


@dataclass(frozen=True)
class BuildContext:
    """The repository as packagers see it during one run."""

    build_root: Path
    config: Config
    registry: Registry  # target types, packagers, base builders
    graph: BuildGraph
    cache: Cache
    index: PackageIndex
    transport: Transport
    registry_client: Callable[[str], RegistryClient]  # one client per registry host, with its credentials
    stamp_facts: Stamp | None = None  # what --stamp puts into images; None when not stamping
    jobs: int = 1  # targets (and layers of one image) built at once
    once: Once = field(default_factory=Once)

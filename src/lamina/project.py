"""A loaded repository: build root, configuration, backends, build graph, cache and clients."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from lamina.backends import default_registry
from lamina.backends.context import BuildContext
from lamina.backends.python.module_names import WheelModuleNames
from lamina.cache import Cache, default_cache_dir
from lamina.config import Config, find_build_root, load_config
from lamina.graph.changed import ChangedSince
from lamina.graph.graph import BuildGraph
from lamina.graph.target import Registry
from lamina.python.index import PackageIndex
from lamina.registry.auth import docker_credentials
from lamina.registry.client import RegistryClient
from lamina.registry.reference import parse_reference
from lamina.registry.remote_cache import RegistryCache
from lamina.stamp import Stamp, read_stamp
from lamina.transport import Transport


@dataclass
class Project:
    """Everything a goal needs to know about the repository and where to keep work."""

    build_root: Path
    config: Config
    registry: Registry
    cache: Cache
    graph: BuildGraph
    transport: Transport
    stamp: bool = False  # put the revision and other facts of the checkout into images (opt-in)
    jobs: int = 1  # targets built at once
    _clients: dict = field(default_factory=dict)
    _clients_lock: threading.Lock = field(default_factory=threading.Lock)

    @cached_property
    def stamp_facts(self) -> Stamp | None:
        """What ``--stamp`` puts into images, read from the checkout once; None when not stamping."""
        return read_stamp(self.build_root) if self.stamp else None

    @cached_property
    def index(self) -> PackageIndex:
        """The package index locked artifacts are fetched from."""
        return PackageIndex(self.config.index_urls, self.transport)

    def registry_client(self, host: str) -> RegistryClient:
        """The client of registry ``host`` (one per run), with its credentials."""
        with self._clients_lock:
            if host not in self._clients:
                self._clients[host] = RegistryClient(host, self.transport, credentials=lambda: docker_credentials(host))
            return self._clients[host]

    @cached_property
    def context(self) -> BuildContext:
        """What packagers get: the typed, read-only view of this repository for one run."""
        return BuildContext(
            build_root=self.build_root,
            config=self.config,
            registry=self.registry,
            graph=self.graph,
            cache=self.cache,
            index=self.index,
            transport=self.transport,
            registry_client=self.registry_client,
            stamp_facts=self.stamp_facts,
            jobs=self.jobs,
        )

    @property
    def dist_dir(self) -> Path:
        """Where ``package`` writes outputs."""
        return self.build_root / self.config.dist_dir


def default_jobs() -> int:
    """Targets built at once when neither ``--jobs`` nor ``[lamina] jobs`` says: one per CPU this
    process may use (its affinity, so a CI container's share of a big machine), at least one."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def load_project(
    build_root: Path | None = None,
    cache_dir: Path | None = None,
    *,
    stamp: bool | None = None,
    tags: tuple[str, ...] = (),
    changed: ChangedSince | None = None,
    jobs: int | None = None,
) -> Project:
    """Find the build root (nearest ``pants.toml``), read config, load backends and BUILD files;
    ``tags`` are Pants' ``--tag`` filters on the targets specs select, ``changed`` Pants'
    ``--changed-since`` and ``--changed-dependents``."""
    root = (build_root or find_build_root(Path.cwd())).absolute()
    config = load_config(root)
    registry = default_registry(config.backend_packages, config.pythonpath)
    cache = Cache(cache_dir or (root / config.cache_dir if config.cache_dir else default_cache_dir()))
    jobs = jobs or config.jobs or default_jobs()
    # Each target being built, and each layer of it, may download with max_workers connections at once.
    pool_size = min(256, config.max_workers * jobs * jobs)
    transport = Transport(hosts=config.registries, credentials=config.credentials, pool_size=pool_size)
    module_names = WheelModuleNames(config, cache, lambda: project.index)
    graph = BuildGraph(config, registry, module_names=module_names, tag_filters=tags, changed=changed)
    project = Project(
        root, config, registry, cache, graph, transport, config.stamp if stamp is None else stamp,
        jobs=jobs,
    )  # fmt: skip
    if config.remote_cache:
        reference = parse_reference(config.remote_cache)
        client = project.registry_client(reference.registry)
        cache.actions.remote = RegistryCache(client, reference.repository, cache.blobs)
    return project

"""How a ``debian_base`` is locked (``generate-lockfiles``): archives verified, the
closure resolved per architecture, the lock written."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lamina.backends.context import BuildContext
from lamina.backends.debian.rules import lock_path, lock_request, target_sources
from lamina.debian.archive import Keyring, fetch_release, packages
from lamina.debian.lock import DebianLock, LockedDeb
from lamina.debian.resolve import Resolver
from lamina.graph.target import Target


def generate_lock(target: Target, context: BuildContext, *, verify: bool = True) -> tuple[Path, DebianLock]:
    """Resolve the target's packages against its verified sources and write its lock."""
    request = lock_request(target, context)
    sources = target_sources(target, context)
    transport = context.transport
    keyring = Keyring(context.config.debian_keyring)
    releases = [fetch_release(source, transport, keyring, verify=verify) for source in sources]
    where = f"{target.address} (at {target.build_file}:{target.line}): "

    def resolve(architecture: str) -> tuple[LockedDeb, ...]:
        candidates = [c for release in releases for c in packages(release, architecture, transport, context.cache)]
        resolved = Resolver(candidates, exclude=request["exclude"]).resolve(request["packages"], where=where)
        return tuple(LockedDeb(c.name, c.version, c.architecture, c.url, c.size, c.sha256) for c in resolved)

    with ThreadPoolExecutor(max_workers=2) as pool:
        pinned = dict(zip(request["architectures"], pool.map(resolve, request["architectures"])))
    lock = DebianLock(request, pinned)
    path = lock_path(target, context)
    lock.write(path)
    return path, lock

"""The action cache: small JSON results keyed by a hash of everything an action read.

A key covers the action's kind and version, its input digests and options; a result
names output blobs by digest, so an entry is only as good as the blobs it points at
and callers check those exist before trusting it. An entry is read against the shape
its action writes (``fits``): anything else, local or remote, is a miss, never a crash.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from lamina.cache.scratch import Scratch
from lamina.cache.store import is_digest

Shape = Any
"""What a result must look like: a type, a predicate, ``[shape]`` for a list of them, or a
dict of required keys to shapes (other keys are allowed)."""

DIGEST: Callable[[object], bool] = is_digest
LAYER_BLOB: Shape = {"digest": DIGEST, "diff_id": DIGEST, "size": int}


def fits(value: object, shape: Shape) -> bool:
    """Whether ``value`` has ``shape``."""
    if isinstance(shape, dict):
        return isinstance(value, dict) and all(key in value and fits(value[key], s) for key, s in shape.items())
    if isinstance(shape, list):
        return isinstance(value, list) and all(fits(item, shape[0]) for item in value)
    if isinstance(shape, type):
        return isinstance(value, shape) and not (shape is int and isinstance(value, bool))
    return bool(shape(value))


def action_key(kind: str, version: int, inputs: object) -> str:
    """sha256 over the canonical JSON of (kind, version, inputs)."""
    canonical = json.dumps([kind, version, inputs], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class RemoteActions(Protocol):
    """A shared tier behind the local action cache (e.g. a registry repository)."""

    def get(self, key: str) -> object | None:
        """The result stored under ``key``, or None."""
        ...

    def put(self, key: str, value: dict, layers: Sequence[dict]) -> None:
        """Store ``value`` and the layer blobs it names (``{"digest", "diff_id", "size"}``)."""
        ...

    def layer(self, blob: dict):
        """A lazily fetched layer for a blob the remote holds, or None."""
        ...


class ActionCache:
    """JSON entries under ``root/<key[:2]>/<key>.json``, written atomically; with a
    ``remote``, a local miss asks it, and shared results are also stored there."""

    def __init__(self, root: Path, remote: RemoteActions | None = None, scratch: Scratch | None = None) -> None:
        self.root = Path(root)
        self.remote = remote
        self.scratch = scratch or Scratch(self.root / "tmp")
        self._seen: dict[str, tuple[Shape, Any]] = {}  # key -> (shape, value): read and checked this run

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str, shape: Shape = dict, *, share: bool = True) -> Any | None:
        """The stored result if it has ``shape``, else None (missing, unreadable or misshapen: a miss);
        without ``share``, the remote tier is not asked (a result only this machine can have).
        An entry read and checked once is kept for the rest of the run (callers never change
        a result), so the hundred images of a monorepo that share an entry parse it once."""
        seen = self._seen.get(key)
        if seen is not None and seen[0] == shape:
            return seen[1]
        try:
            value = json.loads(self._path(key).read_bytes())
        except (OSError, ValueError):
            value = None
        if value is not None and fits(value, shape):
            self._seen[key] = (shape, value)
            return value
        if self.remote is None or not share:
            return None
        value = self.remote.get(key)
        return value if value is not None and fits(value, shape) else None

    def put(self, key: str, value: dict, *, layers: Sequence[dict] = (), share: bool = True) -> None:
        """Store ``value`` under ``key``, replacing any earlier entry atomically; with
        ``share``, also in the remote tier, with the layer blobs it names."""
        self._put_local(key, value)
        self._seen.pop(key, None)
        if share and self.remote is not None:
            self.remote.put(key, value, layers)

    def _put_local(self, key: str, value: dict) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.scratch.file(path.name)
        try:
            temp.write_text(json.dumps(value, sort_keys=True))
            os.replace(temp, path)
        finally:
            temp.unlink(missing_ok=True)

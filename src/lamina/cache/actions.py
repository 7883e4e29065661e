"""The action cache: small JSON results keyed by a hash of everything an action read.

A key covers the action's kind and version, its input digests and options; a result
names output blobs by digest, so an entry is only as good as the blobs it points at
and callers check those exist before trusting it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol


def action_key(kind: str, version: int, inputs: object) -> str:
    """sha256 over the canonical JSON of (kind, version, inputs)."""
    canonical = json.dumps([kind, version, inputs], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class RemoteActions(Protocol):
    """A shared tier behind the local action cache (e.g. a registry repository)."""

    def get(self, key: str) -> dict | None:
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

    def __init__(self, root: Path, remote: RemoteActions | None = None) -> None:
        self.root = Path(root)
        self.remote = remote

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        """The stored result, or None (a missing or unreadable entry is a miss)."""
        try:
            return json.loads(self._path(key).read_text())
        except (FileNotFoundError, ValueError):
            return self.remote.get(key) if self.remote is not None else None

    def put(self, key: str, value: dict, *, layers: Sequence[dict] = (), share: bool = True) -> None:
        """Store ``value`` under ``key``, replacing any earlier entry atomically; with
        ``share``, also in the remote tier, with the layer blobs it names."""
        self._put_local(key, value)
        if share and self.remote is not None:
            self.remote.put(key, value, layers)

    def _put_local(self, key: str, value: dict) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(value, handle, sort_keys=True)
            os.replace(temp, path)
        finally:
            if os.path.exists(temp):
                os.unlink(temp)

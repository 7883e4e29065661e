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
from pathlib import Path


def action_key(kind: str, version: int, inputs: object) -> str:
    """sha256 over the canonical JSON of (kind, version, inputs)."""
    canonical = json.dumps([kind, version, inputs], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class ActionCache:
    """JSON entries under ``root/<key[:2]>/<key>.json``, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        """The stored result, or None (a missing or unreadable entry is a miss)."""
        try:
            return json.loads(self._path(key).read_text())
        except (FileNotFoundError, ValueError):
            return None

    def put(self, key: str, value: dict) -> None:
        """Store ``value`` under ``key``, replacing any earlier entry atomically."""
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

"""Content-addressed blob storage: a file's name is the sha256 of its bytes.

Blobs are verified while they are written and renamed into place only when complete
(and, if an expected digest was given, only when they match it).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from lamina.errors import FetchError

_CHUNK = 1 << 20


def _split(digest: str) -> tuple[str, str]:
    algorithm, _, hexdigest = digest.partition(":")
    if algorithm != "sha256" or len(hexdigest) != 64 or not all(c in "0123456789abcdef" for c in hexdigest):
        raise ValueError(f"not a sha256 digest: {digest!r}")
    return algorithm, hexdigest


class BlobWriter:
    """A file being written into the store; hashes as it goes."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self._hash = hashlib.sha256()
        self.size = 0
        self.digest = ""

    def write(self, data: bytes) -> None:
        """Append ``data`` to the blob."""
        self._hash.update(data)
        self._handle.write(data)
        self.size += len(data)

    def _finish(self) -> str:
        self.digest = f"sha256:{self._hash.hexdigest()}"
        return self.digest


class BlobStore:
    """Blobs under ``root/sha256/<hex>``; present means complete and verified."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        """Where the blob with ``digest`` lives (whether or not it exists yet)."""
        algorithm, hexdigest = _split(digest)
        return self.root / algorithm / hexdigest

    def has(self, digest: str) -> bool:
        """Whether the blob is stored."""
        return self.path(digest).is_file()

    @contextmanager
    def writer(self, expected: str | None = None) -> Iterator[BlobWriter]:
        """Stream a blob in; it appears in the store only if the block completes and verifies."""
        directory = self.root / "sha256"
        directory.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=directory, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                blob = BlobWriter(handle)
                yield blob
            digest = blob._finish()
            if expected is not None and digest != expected:
                raise FetchError(f"content does not match its expected digest: expected {expected}, got {digest}")
            os.chmod(temp, 0o444)
            os.replace(temp, self.path(digest))
        finally:
            if os.path.exists(temp):
                os.unlink(temp)

    def put_bytes(self, data: bytes) -> str:
        """Store ``data``; return its digest."""
        with self.writer() as blob:
            blob.write(data)
        return blob.digest

    def put_file(self, src: Path, expected: str | None = None) -> str:
        """Copy the file at ``src`` into the store; return its digest."""
        with open(src, "rb") as handle, self.writer(expected) as blob:
            while chunk := handle.read(_CHUNK):
                blob.write(chunk)
        return blob.digest

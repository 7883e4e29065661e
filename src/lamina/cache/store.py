"""Content-addressed blob storage: a file's name is the sha256 of its bytes.

Blobs are hashed while they are written (in the process's scratch directory) and renamed
into place only when complete and, if an expected digest was given, only when they
match it. Bytes read back for use are hashed again: a blob damaged on disk is removed
and reported (``DamagedBlobError``), never passed on.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from lamina.cache.scratch import Scratch
from lamina.errors import DamagedBlobError, FetchError

_CHUNK = 1 << 20
_HEX = frozenset("0123456789abcdef")


def is_digest(value: object) -> bool:
    """Whether ``value`` is a ``sha256:<64 hex>`` digest."""
    if not isinstance(value, str):
        return False
    algorithm, _, hexdigest = value.partition(":")
    return algorithm == "sha256" and len(hexdigest) == 64 and set(hexdigest) <= _HEX


def file_digest(path: Path) -> str:
    """The sha256 digest of a file's bytes."""
    with open(path, "rb") as handle:
        return f"sha256:{hashlib.file_digest(handle, 'sha256').hexdigest()}"


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
    """Blobs under ``root/sha256/<hex>``; present means complete and verified when written."""

    def __init__(self, root: Path, scratch: Scratch | None = None) -> None:
        self.root = Path(root)
        self.scratch = scratch or Scratch(self.root / "tmp")
        # What this run stored: made here, or fetched (downloads name the digest they expect).
        self.made: set[str] = set()
        self.fetched: set[str] = set()

    def path(self, digest: str) -> Path:
        """Where the blob with ``digest`` lives (whether or not it exists yet)."""
        if not is_digest(digest):
            raise ValueError(f"not a sha256 digest: {digest!r}")
        return self.root / "sha256" / digest.partition(":")[2]

    def has(self, digest: str) -> bool:
        """Whether the blob is stored (its bytes are not re-read)."""
        return self.path(digest).is_file()

    def damaged(self, digest: str, actual: str) -> DamagedBlobError:
        """Remove the damaged blob ``digest`` and return the error that reports it."""
        path = self.path(digest)
        path.unlink(missing_ok=True)
        return DamagedBlobError(
            f"the cached blob {digest} ({path}) was damaged: its bytes hash to {actual}. lamina removed it "
            "from the cache; run the command again to download or rebuild it",
            digest=digest,
            path=str(path),
        )

    def verify(self, digest: str) -> Path:
        """The blob's path after re-hashing its bytes; raises ``DamagedBlobError`` (removing it) if they changed."""
        path = self.path(digest)
        actual = file_digest(path)
        if actual != digest:
            raise self.damaged(digest, actual)
        return path

    def intact(self, digest: str) -> bool:
        """Whether the blob is stored and its bytes still match (a damaged one is removed)."""
        try:
            self.verify(digest)
        except FileNotFoundError:
            return False
        except DamagedBlobError:
            return False
        return True

    def read_bytes(self, digest: str) -> bytes:
        """A (small) blob's bytes, verified; ``DamagedBlobError`` if they no longer match."""
        data = self.path(digest).read_bytes()
        actual = f"sha256:{hashlib.sha256(data).hexdigest()}"
        if actual != digest:
            raise self.damaged(digest, actual)
        return data

    @contextmanager
    def writer(self, expected: str | None = None) -> Iterator[BlobWriter]:
        """Stream a blob in; it appears in the store only if the block completes and verifies."""
        (self.root / "sha256").mkdir(parents=True, exist_ok=True)
        temp = self.scratch.file("blob")
        try:
            with open(temp, "xb") as handle:
                blob = BlobWriter(handle)
                yield blob
            digest = blob._finish()
            if expected is not None and digest != expected:
                raise FetchError(f"content does not match its expected digest: expected {expected}, got {digest}")
            os.chmod(temp, 0o444)
            os.replace(temp, self.path(digest))
            (self.made if expected is None else self.fetched).add(digest)
        finally:
            temp.unlink(missing_ok=True)

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

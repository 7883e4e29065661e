"""Download locked artifacts (wheels, sdists, .debs) into the blob store, in parallel,
each verified against the sha256 its lock names.

A stored artifact is re-hashed before it is used; one whose bytes changed on disk is
removed and downloaded again. A download cut off mid-way starts over (a bounded number
of times); a file that does not match the lock is never stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

from lamina import progress
from lamina.cache.store import BlobStore
from lamina.errors import FetchError
from lamina.redact import redact
from lamina.transport import Transport

_CHUNK = 1 << 20


class Artifact(Protocol):
    """Anything with a file name, a URL and the sha256 a lock pins it to."""

    filename: str
    url: str
    sha256: str


def fetch_one(file: Artifact, store: BlobStore, transport: Transport) -> Path:
    """The blob for ``file``, downloaded unless already stored intact; a hash mismatch stores nothing."""
    import requests

    digest = f"sha256:{file.sha256}"
    if store.intact(digest):
        return store.path(digest)
    where = f"{file.filename} from {redact(file.url)}"
    for attempt in range(1, transport.attempts + 1):
        response = transport.request("GET", file.url, stream=True, timeout=(10, 120))
        if response.status_code in (404, 410):
            raise FetchError(
                f"cannot download {where}: HTTP {response.status_code}; the server no longer has it: "
                "if the lock is old, re-pin it with `lamina generate-lockfiles`"
            )
        if not response.ok:
            raise FetchError(f"cannot download {where}: HTTP {response.status_code}")
        try:
            with response, store.writer(expected=digest) as blob:
                for chunk in response.iter_content(_CHUNK):
                    blob.write(chunk)
            return store.path(digest)
        except requests.RequestException as err:
            if attempt == transport.attempts:
                raise FetchError(f"cannot download {where}: cut off {attempt} times ({type(err).__name__})") from None
            transport.pause(attempt)
        except FetchError as err:
            raise FetchError(
                f"{where} does not match the lock's sha256 {file.sha256} ({err}); "
                "the lock and the index disagree: nothing was stored, check the lock or regenerate it"
            ) from None
    raise AssertionError("unreachable")


def fetch_all(
    files: Sequence[Artifact], store: BlobStore, transport: Transport, *, max_workers: int = 8
) -> dict[str, Path]:
    """Every file's blob path, keyed by its sha256 hex; downloads run in parallel."""
    unique = {f.sha256: f for f in files}

    def fetch(file: Artifact) -> Path:
        path = fetch_one(file, store, transport)
        advance()
        return path

    with (
        progress.step(f"fetching {progress.count(len(unique), 'file')}", len(unique)) as advance,
        ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool,
    ):
        paths = list(pool.map(fetch, unique.values()))
    return dict(zip(unique, paths))

"""Download artifacts into the blob store in parallel, each verified against the lock."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from lamina.cache.store import BlobStore
from lamina.errors import FetchError
from lamina.python.index import IndexFile, session

if TYPE_CHECKING:
    import requests

_CHUNK = 1 << 20


def fetch_one(file: IndexFile, store: BlobStore, http: requests.Session) -> Path:
    """The blob for ``file``, downloaded unless already stored; a hash mismatch stores nothing."""
    digest = f"sha256:{file.sha256}"
    if store.has(digest):
        return store.path(digest)
    import requests  # only when something must be downloaded

    try:
        with http.get(file.url, stream=True, timeout=120) as response:
            response.raise_for_status()
            with store.writer(expected=digest) as blob:
                for chunk in response.iter_content(_CHUNK):
                    blob.write(chunk)
    except requests.RequestException as err:
        raise FetchError(f"cannot download {file.filename} from {file.url}: {err}") from err
    except FetchError as err:
        raise FetchError(
            f"{file.filename} from {file.url} does not match the lock's sha256 {file.sha256} ({err}); "
            "the lock and the index disagree: nothing was stored, check the lock or regenerate it"
        ) from err
    return store.path(digest)


def fetch_all(files: Sequence[IndexFile], store: BlobStore, *, max_workers: int = 8, http=None) -> dict[str, Path]:
    """Every file's blob path, keyed by its sha256 hex; downloads run in parallel."""
    http = http or session(max_workers)
    unique = {f.sha256: f for f in files}
    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        paths = list(pool.map(lambda f: fetch_one(f, store, http), unique.values()))
    return dict(zip(unique, paths))

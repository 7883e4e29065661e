"""Download locked artifacts (wheels, sdists, .debs) into the blob store, in parallel,
each verified against the sha256 its lock names.

requests is imported where it is used: a no-op build never touches the network, and
importing requests and urllib3 would be a quarter of its start-up time.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from lamina.cache.store import BlobStore
from lamina.errors import FetchError

if TYPE_CHECKING:
    import requests

_CHUNK = 1 << 20


class Artifact(Protocol):
    """Anything with a file name, a URL and the sha256 a lock pins it to."""

    filename: str
    url: str
    sha256: str


def session(max_workers: int = 8) -> requests.Session:
    """An HTTP session that retries transient failures with backoff."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    http = requests.Session()
    retry = Retry(
        total=4, backoff_factor=0.5, status_forcelist=(429, 500, 502, 503, 504), allowed_methods=("GET", "HEAD")
    )
    adapter = HTTPAdapter(max_retries=retry, pool_maxsize=max_workers)
    http.mount("https://", adapter)
    http.mount("http://", adapter)
    return http


def fetch_one(file: Artifact, store: BlobStore, http: requests.Session) -> Path:
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
        gone = getattr(err.response, "status_code", None) in (404, 410)
        hint = (
            "; the server no longer has it: if the lock is old, re-pin it with `lamina generate-lockfiles`"
            if gone
            else ""
        )
        raise FetchError(f"cannot download {file.filename} from {file.url}: {err}{hint}") from err
    except FetchError as err:
        raise FetchError(
            f"{file.filename} from {file.url} does not match the lock's sha256 {file.sha256} ({err}); "
            "the lock and the index disagree: nothing was stored, check the lock or regenerate it"
        ) from err
    return store.path(digest)


def fetch_all(files: Sequence[Artifact], store: BlobStore, *, max_workers: int = 8, http=None) -> dict[str, Path]:
    """Every file's blob path, keyed by its sha256 hex; downloads run in parallel."""
    http = http or session(max_workers)
    unique = {f.sha256: f for f in files}
    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        paths = list(pool.map(lambda f: fetch_one(f, store, http), unique.values()))
    return dict(zip(unique, paths))

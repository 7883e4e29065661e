"""A client of PEP 691 (JSON) simple package indexes, for finding locked artifacts.

Index URLs come from lamina's configuration, never from the host's pip config.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from packaging.utils import canonicalize_name

from lamina.download import session
from lamina.errors import FetchError

if TYPE_CHECKING:
    import requests

ACCEPT = "application/vnd.pypi.simple.v1+json"
DEFAULT_INDEX = "https://pypi.org/simple"


@dataclass(frozen=True)
class IndexFile:
    """One downloadable artifact of a project on an index."""

    filename: str
    url: str
    sha256: str
    requires_python: str | None = None
    metadata_sha256: str | None = None  # PEP 658/714 core metadata served beside the file

    @property
    def has_metadata(self) -> bool:
        """Whether the index serves this file's METADATA on its own."""
        return self.metadata_sha256 is not None

    @property
    def is_wheel(self) -> bool:
        """Whether this is a wheel (else an sdist)."""
        return self.filename.endswith(".whl")


class PackageIndex:
    """The files of projects on one or more simple indexes, memoized for the run."""

    def __init__(self, urls: Sequence[str] = (DEFAULT_INDEX,), *, http: requests.Session | None = None) -> None:
        self.urls = tuple(u.rstrip("/") for u in urls)
        if http is not None:
            self.http = http
        self._files: dict[str, list[IndexFile]] = {}
        self._lock = threading.Lock()

    @cached_property
    def http(self) -> requests.Session:
        """The HTTP session, made on first use."""
        return session()

    def files(self, name: str) -> list[IndexFile]:
        """Every file of project ``name`` on every configured index."""
        name = canonicalize_name(name)
        with self._lock:
            if name in self._files:
                return self._files[name]
        found: list[IndexFile] = []
        for url in self.urls:
            found.extend(self._project(url, name))
        with self._lock:
            self._files[name] = found
        return found

    def _project(self, index: str, name: str) -> list[IndexFile]:
        import requests

        url = f"{index}/{name}/"
        try:
            response = self.http.get(url, headers={"Accept": ACCEPT}, timeout=60)
        except requests.RequestException as err:
            raise FetchError(f"cannot reach package index {index}: {err}") from err
        if response.status_code == 404:
            return []
        if not response.ok:
            raise FetchError(f"package index {index} answered {response.status_code} for {name}")
        try:
            entries = response.json()["files"]
        except (ValueError, KeyError) as err:
            raise FetchError(f"package index {index} did not answer {name} in the JSON simple API (PEP 691)") from err
        files = []
        for entry in entries:
            sha256 = (entry.get("hashes") or {}).get("sha256")
            if not sha256:
                continue
            metadata = entry.get("core-metadata") or entry.get("data-dist-info-metadata")
            files.append(
                IndexFile(
                    filename=entry["filename"],
                    url=urljoin(url, entry["url"]),
                    sha256=sha256,
                    requires_python=entry.get("requires-python"),
                    metadata_sha256=metadata.get("sha256") if isinstance(metadata, dict) else None,
                )
            )
        return files

    def metadata(self, file: IndexFile) -> bytes:
        """The file's core METADATA (PEP 658), verified against the index's hash."""
        import requests

        try:
            response = self.http.get(file.url.split("#")[0] + ".metadata", timeout=60)
            response.raise_for_status()
        except requests.RequestException as err:
            raise FetchError(f"cannot fetch metadata of {file.filename}: {err}") from err
        if file.metadata_sha256 and hashlib.sha256(response.content).hexdigest() != file.metadata_sha256:
            raise FetchError(f"metadata of {file.filename} does not match the index's sha256")
        return response.content

"""A client of PEP 691 (JSON) simple package indexes, for finding locked artifacts.

Index URLs come from lamina's configuration, never from the host's pip config. What an
index says is checked before it is believed: a file whose name is not a plain file name
ending like a wheel or sdist (``../x``, ``a/b.whl``) or whose sha256 is malformed is
ignored, so an index's words are never used as a path. (The full parse of a name waits
until the file is a candidate: a project page may list thousands of files.)
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urljoin

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from lamina.errors import FetchError, TransportError
from lamina.redact import redact
from lamina.transport import Transport

log = logging.getLogger(__name__)

ACCEPT = "application/vnd.pypi.simple.v1+json"
DEFAULT_INDEX = "https://pypi.org/simple"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+!-]*\.(?:whl|tar\.gz|zip)")
_MAX_METADATA = 16 << 20


def is_artifact_filename(filename: object) -> bool:
    """Whether ``filename`` is a plain wheel or sdist file name (no directory part)."""
    if not isinstance(filename, str) or not _PLAIN_NAME.fullmatch(filename):
        return False
    try:
        if filename.endswith(".whl"):
            parse_wheel_filename(filename)
        else:
            parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return False
    return True


@dataclass(frozen=True)
class IndexFile:
    """One downloadable artifact of a project on an index; ``href`` is relative to ``page``."""

    filename: str
    href: str
    sha256: str
    requires_python: str | None = None
    metadata_sha256: str | None = None  # PEP 658/714 core metadata served beside the file
    page: str = ""

    @property
    def url(self) -> str:
        """Where the file is (joined only when asked: most listed files are never fetched)."""
        return urljoin(self.page, self.href) if self.page else self.href

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

    def __init__(self, urls: Sequence[str], transport: Transport) -> None:
        self.urls = tuple(u.rstrip("/") for u in urls)
        self.transport = transport
        self._files: dict[str, list[IndexFile]] = {}
        self._lock = threading.Lock()

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
        url = f"{index}/{name}/"
        try:
            response = self.transport.request("GET", url, headers={"Accept": ACCEPT}, timeout=60)
        except TransportError as err:
            raise FetchError(f"cannot reach package index {redact(index)}: {err}") from None
        if response.status_code == 404:
            return []
        if not response.ok:
            raise FetchError(f"package index {redact(index)} answered HTTP {response.status_code} for {name}")
        try:
            entries = response.json()["files"]
            if not isinstance(entries, list):
                raise TypeError("files is not a list")
        except (ValueError, KeyError, TypeError) as err:
            raise FetchError(
                f"package index {redact(index)} did not answer {name} in the JSON simple API (PEP 691): {err}"
            ) from None
        return [file for entry in entries if (file := _index_file(entry, url, index)) is not None]

    def metadata(self, file: IndexFile) -> bytes:
        """The file's core METADATA (PEP 658), verified against the index's hash."""
        where = f"metadata of {file.filename}"
        try:
            response = self.transport.request("GET", file.url.split("#")[0] + ".metadata", timeout=60)
        except TransportError as err:
            raise FetchError(f"cannot fetch {where}: {err}") from None
        if not response.ok:
            raise FetchError(f"cannot fetch {where}: HTTP {response.status_code}")
        data = response.content
        if len(data) > _MAX_METADATA:
            raise FetchError(f"{where} is larger than {_MAX_METADATA >> 20} MB; refused")
        if file.metadata_sha256 and hashlib.sha256(data).hexdigest() != file.metadata_sha256:
            raise FetchError(f"{where} does not match the index's sha256")
        return data


def _index_file(entry: object, project_url: str, index: str) -> IndexFile | None:
    """One entry of a project page, or None when it is malformed or unsafe (logged)."""
    if not isinstance(entry, dict):
        return None
    filename, href = entry.get("filename"), entry.get("url")
    sha256 = (entry.get("hashes") or {}).get("sha256") if isinstance(entry.get("hashes"), dict) else None
    if not sha256 or not isinstance(href, str):
        return None
    if not isinstance(filename, str) or not _PLAIN_NAME.fullmatch(filename) or not _SHA256.fullmatch(str(sha256)):
        log.debug("package index %s lists a file with an unusable name or hash (%r); ignored", redact(index), filename)
        return None
    metadata = entry.get("core-metadata") or entry.get("data-dist-info-metadata")
    metadata_sha256 = metadata.get("sha256") if isinstance(metadata, dict) else None
    requires_python = entry.get("requires-python")
    return IndexFile(
        filename=filename,
        href=href,
        page=project_url,
        sha256=str(sha256),
        requires_python=requires_python if isinstance(requires_python, str) else None,
        metadata_sha256=metadata_sha256
        if isinstance(metadata_sha256, str) and _SHA256.fullmatch(metadata_sha256)
        else None,
    )

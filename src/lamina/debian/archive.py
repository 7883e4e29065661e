"""Debian archives: Release files verified against the archive keyring, Packages indexes.

What is trusted flows one way, as in apt: the keyring vouches for the Release file,
the Release file's SHA256 list vouches for each Packages index, and each index entry's
SHA256 (copied into the lock) vouches for a .deb.
"""

from __future__ import annotations

import lzma
from dataclasses import dataclass
from datetime import UTC
from importlib import resources
from pathlib import Path

from debian import deb822

from lamina.cache import Cache
from lamina.debian.request import Source
from lamina.errors import FetchError, SignatureError, TransportError
from lamina.redact import redact
from lamina.transport import Transport

_INDEX_FIELDS = [
    "Package", "Version", "Architecture", "Depends", "Pre-Depends", "Provides", "Filename", "Size", "SHA256",
]  # fmt: skip


class Keyring:
    """The OpenPGP certificates a Release file must be signed by."""

    def __init__(self, path: Path | None = None) -> None:
        import pysequoia

        self.path = path
        data = (
            path.read_bytes()
            if path
            else resources.files("lamina.debian")
            .joinpath("keyrings")
            .joinpath("debian-archive-keyring.pgp")
            .read_bytes()
        )
        self.certs = pysequoia.Cert.split_bytes(data)

    @property
    def name(self) -> str:
        """How errors name the keyring."""
        return str(self.path) if self.path else "lamina's copy of the Debian archive keyring"

    def verify_inline(self, signed: bytes) -> bytes:
        """The content of a clear-signed document, if a certificate of the keyring signed it."""
        import pysequoia

        result = pysequoia.verify(bytes=signed, store=lambda _ids: self.certs)
        if not result.valid_sigs:
            raise RuntimeError("no valid signature")
        return bytes(result.bytes)

    def verify_detached(self, data: bytes, signature: bytes) -> None:
        """Raise unless ``signature`` is a keyring certificate's signature of ``data``."""
        import pysequoia

        result = pysequoia.verify(
            bytes=data, store=lambda _ids: self.certs, signature=pysequoia.Sig.from_bytes(signature)
        )
        if not result.valid_sigs:
            raise RuntimeError("no valid signature")


@dataclass(frozen=True)
class IndexFileRef:
    """A file the Release file lists, with the sha256 and size it vouches for."""

    path: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Release:
    """A source's verified (or, when opted out, merely read) Release file."""

    source: Source
    sha256: str  # of the Release content, recorded in the lock
    files: dict[str, IndexFileRef]
    architectures: tuple[str, ...]


def _get(transport: Transport, url: str) -> bytes | None:
    try:
        response = transport.request("GET", url, timeout=60)
        if response.status_code == 404:
            return None
        if not response.ok:
            raise FetchError(f"cannot download {redact(url)}: HTTP {response.status_code}")
        return response.content
    except TransportError as err:
        raise FetchError(f"cannot download {redact(url)}: {err}") from None


def _unverified_hint(source: Source) -> str:
    return (
        f"the archive {source} cannot be trusted. If it is signed by another key, name its keyring in "
        'pants.toml ([debian] keyring = "path/to/keyring.pgp"); to use it unverified (not recommended), '
        "pass --debian-insecure-skip-verify to generate-lockfiles"
    )


def _check_fresh(release: deb822.Release, base: str) -> None:
    """Refuse a Release file past its ``Valid-Until`` (a mirror frozen in time, as apt refuses)."""
    from datetime import datetime
    from email.utils import parsedate_to_datetime

    valid_until = release.get("Valid-Until")
    if valid_until and parsedate_to_datetime(valid_until) < datetime.now(UTC):
        raise SignatureError(f"{base}: its Release file expired on {valid_until}; the mirror is out of date")


def fetch_release(source: Source, transport: Transport, keyring: Keyring, *, verify: bool = True) -> Release:
    """The Release file of ``source``: ``InRelease``, else ``Release`` + ``Release.gpg``."""
    import hashlib

    base = f"{source.url}/dists/{source.suite}"
    inline = _get(transport, f"{base}/InRelease")
    if inline is not None:
        if verify:
            try:
                content = keyring.verify_inline(inline)
            except (RuntimeError, ValueError) as err:  # pysequoia: a plain error with a Rust backtrace attached
                reason = str(err).splitlines()[0]
                raise SignatureError(
                    f"{base}/InRelease is not signed by {keyring.name} ({reason}); {_unverified_hint(source)}"
                ) from None
        else:
            content = inline
    else:
        content = _get(transport, f"{base}/Release")
        if content is None:
            raise FetchError(f"{base} has no InRelease or Release file: is {source.suite!r} a suite of {source.url}?")
        if verify:
            signature = _get(transport, f"{base}/Release.gpg")
            if signature is None:
                raise SignatureError(
                    f"{base}/Release has no signature (no InRelease, no Release.gpg); {_unverified_hint(source)}"
                )
            try:
                keyring.verify_detached(content, signature)
            except (RuntimeError, ValueError) as err:
                reason = str(err).splitlines()[0]
                raise SignatureError(
                    f"{base}/Release.gpg is not a signature by {keyring.name} ({reason}); {_unverified_hint(source)}"
                ) from None
    release = deb822.Release(content)
    _check_fresh(release, base)
    if source.suite not in (release.get("Suite"), release.get("Codename")):
        raise SignatureError(
            f"{base} serves the Release file of {release.get('Codename') or release.get('Suite')!r}, not {source.suite!r}: "
            "the mirror is wrong or replays another suite"
        )
    files = {
        entry["name"]: IndexFileRef(entry["name"], entry["sha256"], int(entry["size"]))
        for entry in release.get("SHA256", [])
    }
    return Release(source, hashlib.sha256(content).hexdigest(), files, tuple(release.get("Architectures", "").split()))


@dataclass(frozen=True)
class Candidate:
    """One package of a Packages index: what resolving needs, and where its .deb is."""

    name: str
    version: str
    architecture: str
    depends: str
    pre_depends: str
    provides: str
    url: str
    size: int
    sha256: str


def download_index(release: Release, path: str, transport: Transport, cache: Cache) -> str:
    """An index file the Release lists, stored in the blob store after it is verified against
    the Release's sha256; returns its digest."""
    ref = release.files[path]
    digest = f"sha256:{ref.sha256}"
    if not cache.blobs.intact(digest):
        url = f"{release.source.url}/dists/{release.source.suite}/{path}"
        data = _get(transport, url)
        if data is None:
            raise FetchError(f"{url} is listed in its Release file but missing")
        try:
            with cache.blobs.writer(expected=digest) as blob:
                blob.write(data)
        except FetchError as err:
            raise FetchError(
                f"{release.source} {path} does not match the sha256 its signed Release file gives ({err}); "
                "the mirror may be mid-sync: try again later"
            ) from None
    return digest


def _index_bytes(release: Release, path: str, transport: Transport, cache: Cache) -> bytes:
    return cache.blobs.read_bytes(download_index(release, path, transport, cache))


def packages(release: Release, architecture: str, transport: Transport, cache: Cache) -> list[Candidate]:
    """Every package of ``architecture`` (with ``all``) in the release's components."""
    found = []
    for component in release.source.components:
        stem = f"{component}/binary-{architecture}/Packages"
        if f"{stem}.xz" in release.files:
            text = lzma.decompress(_index_bytes(release, f"{stem}.xz", transport, cache))
        elif f"{stem}.gz" in release.files:
            import gzip

            text = gzip.decompress(_index_bytes(release, f"{stem}.gz", transport, cache))
        elif stem in release.files:
            text = _index_bytes(release, stem, transport, cache)
        elif architecture not in release.architectures:
            raise FetchError(
                f"{release.source} has no architecture {architecture!r}; it has: {', '.join(release.architectures)}"
            )
        else:
            continue  # e.g. an empty -updates component
        for paragraph in deb822.Deb822.iter_paragraphs(text, fields=_INDEX_FIELDS, use_apt_pkg=False):
            found.append(
                Candidate(
                    name=paragraph["Package"],
                    version=paragraph["Version"],
                    architecture=paragraph["Architecture"],
                    depends=paragraph.get("Depends", ""),
                    pre_depends=paragraph.get("Pre-Depends", ""),
                    provides=paragraph.get("Provides", ""),
                    url=f"{release.source.url}/{paragraph['Filename']}",
                    size=int(paragraph["Size"]),
                    sha256=paragraph["SHA256"],
                )
            )
    return found

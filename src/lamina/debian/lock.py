"""The lock of a ``debian_base``: per architecture, every package's name, version, URL,
size and sha256, plus what was asked for, so a lock that no longer matches its BUILD
target is noticed before anything is built."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from lamina.atomic import write_text
from lamina.errors import ResolveError
from lamina.oci.model import sha256_digest

VERSION = 1


@dataclass(frozen=True)
class LockedDeb:
    """One pinned .deb."""

    name: str
    version: str
    architecture: str
    url: str
    size: int
    sha256: str

    @property
    def filename(self) -> str:
        """The .deb's file name (for messages)."""
        return self.url.rsplit("/", 1)[-1]

    def to_json(self) -> dict:
        """The package's lock entry."""
        return {k: getattr(self, k) for k in ("name", "version", "architecture", "url", "size", "sha256")}


@dataclass(frozen=True)
class DebianLock:
    """What was asked for (``request``), and the packages pinned for it per architecture."""

    request: dict
    packages: dict[str, tuple[LockedDeb, ...]]

    @staticmethod
    def request_digest(request: dict) -> str:
        """A digest of the request: what the BUILD target asks for."""
        return sha256_digest(json.dumps(request, sort_keys=True).encode())

    def to_json(self) -> dict:
        """The lock file's content."""
        return {
            "version": VERSION,
            "generated_by": "lamina generate-lockfiles",
            "request": self.request,
            "architectures": {arch: [deb.to_json() for deb in debs] for arch, debs in sorted(self.packages.items())},
        }

    def write(self, path: Path) -> None:
        """Write the lock atomically (a failure leaves the old lock as it was)."""
        write_text(path, json.dumps(self.to_json(), indent=2, sort_keys=False) + "\n")


def read_lock(path: Path, *, display: str, regenerate: str) -> DebianLock:
    """Read a lock; ``display`` names it in errors and ``regenerate`` is the command that remakes it."""
    if not path.is_file():
        raise ResolveError(f"{display} does not exist; run `{regenerate}` to create it")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != VERSION:
            raise ValueError(f"lock version {data.get('version')!r}, lamina reads version {VERSION}")
        packages = {
            arch: tuple(LockedDeb(**{k: entry[k] for k in LockedDeb.__dataclass_fields__}) for entry in entries)
            for arch, entries in data["architectures"].items()
        }
        return DebianLock(data["request"], packages)
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise ResolveError(f"{display} is not a lamina Debian lock ({err}); run `{regenerate}` to remake it") from err

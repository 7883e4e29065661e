"""What ``--stamp`` puts into images: facts of the checkout, not of the image's inputs.

By default an image's digest depends only on what goes into it, so a commit that
changes nothing in an image (a README edit, an empty commit, another clone's history)
changes no digest and redeploys nothing. Stamping is opt-in, like Bazel's ``--stamp``:
it adds the git revision, the commit time (or ``$SOURCE_DATE_EPOCH``) and the remote's
URL (credentials removed) as OCI annotations and labels.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from lamina.redact import split_credentials

REVISION = "org.opencontainers.image.revision"
CREATED = "org.opencontainers.image.created"
SOURCE = "org.opencontainers.image.source"


@dataclass(frozen=True)
class Stamp:
    """The facts a stamped image carries; each None when unknown."""

    revision: str | None = None
    created: str | None = None  # RFC 3339, UTC
    source: str | None = None

    def annotations(self) -> dict[str, str]:
        """The OCI annotations (and labels) these facts make."""
        pairs = ((REVISION, self.revision), (CREATED, self.created), (SOURCE, self.source))
        return {key: value for key, value in pairs if value}


def _git(build_root: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(["git", *args], cwd=build_root, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def _rfc3339(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_stamp(build_root: Path) -> Stamp:
    """The stamp of the checkout at ``build_root``: HEAD's revision, its commit time (or
    ``$SOURCE_DATE_EPOCH`` when set) and the ``origin`` remote's URL."""
    revision = _git(build_root, "rev-parse", "HEAD")
    epoch = os.environ.get("SOURCE_DATE_EPOCH") or _git(build_root, "log", "-1", "--format=%ct")
    source = _git(build_root, "remote", "get-url", "origin")
    return Stamp(
        revision=revision,
        created=_rfc3339(int(epoch)) if epoch and epoch.isdigit() else None,
        source=split_credentials(source)[0] if source else None,
    )

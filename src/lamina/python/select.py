"""Choose the one artifact of a locked distribution to install on a target platform."""

from __future__ import annotations

from collections.abc import Sequence

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from lamina.errors import ResolveError
from lamina.python.index import IndexFile, is_artifact_filename
from lamina.python.lockfile import LockedDist
from lamina.python.platform import TargetPlatform


def _candidates(dist: LockedDist, files: Sequence[IndexFile]) -> list[IndexFile]:
    locked = {a.sha256 for a in dist.artifacts}
    found = {f.sha256: f for f in files if f.sha256 in locked}
    for artifact in dist.artifacts:  # pex locks carry their own URLs
        if artifact.sha256 not in found and artifact.url:
            filename = artifact.filename or artifact.url.rsplit("/", 1)[-1].split("#")[0]
            if is_artifact_filename(filename):  # a name from a lock is never used as a path either
                found[artifact.sha256] = IndexFile(filename, artifact.url, artifact.sha256)
    return sorted(found.values(), key=lambda f: f.filename)


def select_artifact(dist: LockedDist, files: Sequence[IndexFile], platform: TargetPlatform) -> IndexFile:
    """The best-ranked compatible wheel, else the sdist; an error naming what was tried."""
    candidates = _candidates(dist, files)
    rank = {tag: position for position, tag in enumerate(platform.tags())}
    best: tuple[int, IndexFile] | None = None
    sdist = None
    for file in candidates:
        if file.is_wheel:
            try:
                _, _, _, tags = parse_wheel_filename(file.filename)
            except InvalidWheelFilename:
                continue
            score = min((rank[t] for t in tags if t in rank), default=None)
            if score is not None and (best is None or score < best[0]):
                best = (score, file)
        elif file.filename.endswith((".tar.gz", ".zip")) and is_artifact_filename(file.filename):
            sdist = sdist or file
    if best is not None:
        return best[1]
    if sdist is not None:
        return sdist
    tried = ", ".join(str(t) for t in platform.tags()[:3])
    available = ", ".join(f.filename for f in candidates) or "none with a locked hash"
    raise ResolveError(
        f"no artifact of {dist.name}=={dist.version} fits the target platform ({tried}, ...); "
        f"locked artifacts: {available}. Pin a version that publishes a wheel for this platform, or an sdist."
    )

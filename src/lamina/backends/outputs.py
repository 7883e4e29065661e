"""Writing a ``BuiltFile`` into the dist dir: from its blob, re-hashed on the way out, into
place whole or not at all (a directory is unpacked beside its place and swapped in)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
from pathlib import Path

from lamina import atomic

_CHUNK = 1 << 20


def write_file_output(built, dist_dir: Path, blobs) -> str:
    """Write ``built`` under ``dist_dir``; return its path as the other outputs show theirs
    (from the directory holding the dist dir, the build root: ``dist/app/bin.pex``)."""
    target = Path(dist_dir) / built.output_path
    target.parent.mkdir(parents=True, exist_ok=True)
    source = blobs.path(built.digest)
    if not built.directory:
        digest = hashlib.sha256()
        with open(source, "rb") as handle, atomic.replacing(target, mode=0o755) as out:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
            if f"sha256:{digest.hexdigest()}" != built.digest:
                raise blobs.damaged(built.digest, f"sha256:{digest.hexdigest()}")
        return _shown(target, dist_dir)
    blobs.verify(built.digest)
    temp = target.parent / atomic.temp_name(target.name)
    try:
        with tarfile.open(source) as archive:
            archive.extractall(temp, filter="tar")
        if target.is_dir() and not target.is_symlink():
            old = target.parent / atomic.temp_name(target.name)
            os.replace(target, old)
            os.replace(temp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            if target.exists() or target.is_symlink():
                target.unlink()
            os.replace(temp, target)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return _shown(target, dist_dir)


def _shown(path: Path, dist_dir: Path) -> str:
    return str(path.relative_to(Path(dist_dir).parent))

"""Files that appear whole or not at all, and temporary files a later run can clean up.

Every temporary file or directory lamina makes is named after its owner, the running
process (``pid`` and start time, so a reused pid is not mistaken for its owner):
``.NAME.lamina-PID-START-RANDOM.tmp``. It is renamed into place when complete, and a
``sweep`` removes only those whose owner is gone, never another live process's work.
Writers of one output directory take turns through ``locked``.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import BinaryIO

_OWNED = re.compile(r"\.lamina-(?P<pid>\d+)-(?P<start>\d+)-[0-9a-f]+\.tmp$")


def _start_time(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot), None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:  # no procfs (e.g. macOS): the pid alone tells
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return 0
    return int(stat.rsplit(")", 1)[1].split()[19])


@cache
def _owner(pid: int) -> str:
    return f"{pid}-{_start_time(pid) or 0}"


def owner() -> str:
    """This process, as temporary names spell it."""
    return _owner(os.getpid())


def _alive(pid: int, start: int) -> bool:
    if pid == os.getpid():
        return True
    now = _start_time(pid)
    return now is not None and (start == 0 or now == 0 or now == start)


def temp_name(name: str) -> str:
    """A fresh temporary name for ``name``, owned by this process."""
    return f".{name}.lamina-{owner()}-{os.urandom(4).hex()}.tmp"


def sweep(directory: Path) -> list[Path]:
    """Remove the temporary files and directories in ``directory`` whose owner has exited; return them."""
    removed = []
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return removed
    for name in names:
        found = _OWNED.search(name)
        if found is None or _alive(int(found["pid"]), int(found["start"])):
            continue
        path = directory / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


@contextmanager
def replacing(path: Path, *, mode: int = 0o644, temp_dir: Path | None = None) -> Iterator[BinaryIO]:
    """Write ``path`` through a temporary file (in ``temp_dir``, default beside it, on the
    same file system) that is renamed over it only if the block completes."""
    directory = temp_dir or path.parent
    directory.mkdir(parents=True, exist_ok=True)
    temp = directory / temp_name(path.name)
    try:
        with open(temp, "xb") as handle:
            yield handle
        os.chmod(temp, mode)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def write_bytes(path: Path, data: bytes, *, mode: int = 0o644) -> bool:
    """Atomically make ``path`` hold ``data``; leaves an identical file alone. Returns whether it wrote."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:
        pass
    with replacing(path, mode=mode) as handle:
        handle.write(data)
    return True


def write_text(path: Path, text: str, *, mode: int = 0o644) -> bool:
    """``write_bytes`` of UTF-8 text."""
    return write_bytes(path, text.encode("utf-8"), mode=mode)


@contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``directory`` (created if missing) while the block runs, so
    two processes writing the same outputs take turns; released when the process dies."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)

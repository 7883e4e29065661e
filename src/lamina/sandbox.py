"""Running a build step in a sandbox, without a daemon: Debian's ``bubblewrap`` puts the
command in fresh user, mount, PID, network, IPC and UTS namespaces, with a root
filesystem given read-only, ``/tmp`` a private tmpfs, only the listed directories
mounted, and an environment of exactly what the caller sets plus fixed ``HOME``,
``TMPDIR``, ``PATH``, ``LANG`` and ``SOURCE_DATE_EPOCH``. No network: the sandbox has
its own loopback and nothing else. When the namespaces are unavailable, the error says
what is needed.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lamina.errors import LaminaError

SOURCE_DATE_EPOCH = "315532800"  # 1980-01-01, the earliest date a zip (a wheel) can hold
_BASE_ENVIRONMENT = {
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH,
    "PYTHONDONTWRITEBYTECODE": "1",
}


class SandboxError(LaminaError):
    """The sandbox cannot be made on this machine."""


@dataclass(frozen=True)
class Mount:
    """A host directory (or file) seen at ``target`` inside the sandbox. Targets live under
    ``/tmp`` (the sandbox's own tmpfs), since the root filesystem is read-only."""

    source: Path
    target: str
    writable: bool = False

    def __post_init__(self) -> None:
        if not self.target.startswith("/tmp/"):
            raise ValueError(f"sandbox mounts go under /tmp/, not {self.target}")


def _bwrap() -> str:
    found = shutil.which("bwrap")
    if found is None:
        raise SandboxError(
            "building native code needs a sandbox: install bubblewrap (`apt-get install bubblewrap`), "
            "or run lamina where user namespaces are allowed"
        )
    return found


def command_line(
    rootfs: Path,
    command: Sequence[str],
    *,
    mounts: Sequence[Mount] = (),
    environment: Mapping[str, str] | None = None,
    workdir: str = "/tmp",
) -> list[str]:
    """The ``bwrap`` command that runs ``command`` in ``rootfs`` as described above."""
    argv = [
        _bwrap(), "--unshare-all", "--die-with-parent", "--new-session",
        "--ro-bind", str(rootfs), "/", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
        "--clearenv",
    ]  # fmt: skip
    for name, value in {**_BASE_ENVIRONMENT, **(environment or {})}.items():
        argv += ["--setenv", name, value]
    for mount in mounts:
        argv += ["--bind" if mount.writable else "--ro-bind", str(mount.source), mount.target]
    return [*argv, "--chdir", workdir, "--", *command]


def run(
    rootfs: Path,
    command: Sequence[str],
    *,
    mounts: Sequence[Mount] = (),
    environment: Mapping[str, str] | None = None,
    workdir: str = "/tmp",
    timeout: float = 1800,
) -> subprocess.CompletedProcess:
    """Run ``command`` in the sandbox; its output is captured, its exit status returned."""
    argv = command_line(rootfs, command, mounts=mounts, environment=environment, workdir=workdir)
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise SandboxError(f"{command[0]} ran longer than {timeout:.0f} s in the sandbox and was stopped") from None
    if result.returncode != 0 and result.stderr.startswith("bwrap:"):
        problem = result.stderr.strip()
        hint = (
            "; lamina needs user namespaces for native builds (sysctl kernel.unprivileged_userns_clone=1, "
            "or run as root)"
            if "namespace" in problem or "not permitted" in problem
            else ""
        )
        raise SandboxError(f"the sandbox could not start ({problem}){hint}")
    return result

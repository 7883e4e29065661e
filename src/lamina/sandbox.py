"""Running a build step in a sandbox, without a daemon: Debian's ``bubblewrap`` puts the
command in fresh user, mount, PID, network, IPC and UTS namespaces, with a root
filesystem given read-only, ``/tmp`` a private tmpfs, only the listed directories
mounted, and an environment of exactly what the caller sets plus fixed ``HOME``,
``TMPDIR``, ``PATH``, ``LANG`` and ``SOURCE_DATE_EPOCH``. No network: the sandbox has
its own loopback and nothing else.

Where namespaces are unavailable (macOS, a locked-down container) the same command runs
in a container of the local Docker engine, on the root filesystem imported as an image
once, with the same mounts, environment, read-only root, private ``/tmp`` and no
network. Where neither works, the error says what is needed.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lamina.errors import LaminaError

SOURCE_DATE_EPOCH = "315532800"  # 1980-01-01, the earliest date a zip (a wheel) can hold
PATH = "/usr/local/bin:/usr/bin:/bin"
_BASE_ENVIRONMENT = {
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
    "PATH": PATH,
    "LANG": "C.UTF-8",
    "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH,
    "PYTHONDONTWRITEBYTECODE": "1",
}


SANDBOXES = ("auto", "bubblewrap", "docker")  # [python] sandbox: auto prefers bubblewrap


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


# uname's machine -> the name qemu-user-static registers with binfmt_misc for it
_QEMU = {"aarch64": "qemu-aarch64", "armv7l": "qemu-arm", "i686": "qemu-i386", "x86_64": "qemu-x86_64"}
BINFMT_MISC = Path("/proc/sys/fs/binfmt_misc")


def emulation_problem(machine: str, binfmt: Path = BINFMT_MISC) -> str | None:
    """Why this machine cannot run ``machine``'s programs in a sandbox, or None when it can:
    natively, or through qemu-user-static registered with binfmt_misc with the F flag (the
    emulator opened at registration, so it need not exist inside the sandbox's root)."""
    host = os.uname().machine
    if machine == host or (host, machine) == ("x86_64", "i686"):
        return None
    enable = (
        "register qemu-user-static with binfmt_misc (`apt-get install qemu-user-static binfmt-support`; "
        "lamina's build_support/enable_emulation.sh does it)"
    )
    try:
        lines = (binfmt / _QEMU.get(machine, f"qemu-{machine}")).read_text().splitlines()
    except OSError:
        return f"this {host} machine cannot run {machine} programs: {enable}"
    if lines[:1] != ["enabled"]:
        return f"this {host} machine has {machine} emulation registered but disabled: {enable}"
    if not any(line.startswith("flags:") and "F" in line.partition(":")[2] for line in lines):
        return f"{machine} emulation is registered without the F flag, so it cannot run in a sandbox: {enable}"
    return None


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
    kind: str = "auto",
) -> subprocess.CompletedProcess:
    """Run ``command`` in the sandbox ``kind`` names (``auto``: bubblewrap where it works, else
    the Docker engine); its output is captured, its exit status returned."""
    if _choose(kind) == "docker":
        return _run_in_docker(rootfs, command, mounts, {**_BASE_ENVIRONMENT, **(environment or {})}, workdir, timeout)
    argv = command_line(rootfs, command, mounts=mounts, environment=environment, workdir=workdir)
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise SandboxError(f"{command[0]} ran longer than {timeout:.0f} s in the sandbox and was stopped") from None
    if result.returncode != 0 and result.stderr.startswith("bwrap:"):
        raise SandboxError(f"the sandbox could not start ({result.stderr.strip()}){_NAMESPACE_HINT}")
    return result


_NAMESPACE_HINT = (
    "; lamina needs user namespaces for native builds (sysctl kernel.unprivileged_userns_clone=1, or run as root), "
    'or a Docker engine with [python] sandbox = "docker"'
)


def _choose(kind: str) -> str:
    if kind not in SANDBOXES:
        raise SandboxError(f"unknown sandbox {kind!r}: use one of {', '.join(SANDBOXES)}")
    if kind != "auto":
        return kind
    problem = _bubblewrap_problem()
    if problem is None:
        return "bubblewrap"
    try:
        _engine().close()
    except SandboxError as err:
        raise SandboxError(
            "building native code needs a sandbox, and this machine has none: bubblewrap with user namespaces "
            f"(`apt-get install bubblewrap`; here: {problem}) or a local Docker engine (here: {err})"
        ) from None
    return "docker"


@functools.cache
def _bubblewrap_problem() -> str | None:
    """Why bubblewrap cannot make a sandbox here, or None when it can (tried once per process)."""
    if shutil.which("bwrap") is None:
        return "bwrap is not installed"
    probe = subprocess.run(
        [_bwrap(), "--unshare-all", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return None if probe.returncode == 0 else (probe.stderr.strip() or f"bwrap exited {probe.returncode}")


def _engine():
    """The local Docker engine (a container's mounts are paths on the engine's machine, so a
    remote engine cannot see the sandbox's directories)."""
    from lamina.engine import client
    from lamina.errors import EngineError

    host = os.environ.get("DOCKER_HOST", "")
    if host and not host.startswith("unix://"):
        raise SandboxError(f"DOCKER_HOST={host} is not a local engine; builds need one on this machine")
    try:
        return client()
    except EngineError as err:
        raise SandboxError(str(err)) from None


def image_tag(rootfs: Path) -> str:
    """The tag of ``rootfs`` imported into the engine: one per tree (which never changes under its path)."""
    info = rootfs.stat()
    identity = f"{rootfs.resolve()}\0{info.st_ino}\0{info.st_mtime_ns}".encode()
    return f"lamina-sandbox:{hashlib.sha256(identity).hexdigest()[:32]}"


def _image_of(engine, rootfs: Path) -> str:
    """The engine's image of ``rootfs``, imported the first time."""
    import docker.errors

    tag = image_tag(rootfs)
    try:
        engine.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    with tempfile.TemporaryDirectory(prefix=".lamina-import-", dir=rootfs.parent) as scratch:
        archive = Path(scratch) / "rootfs.tar"
        with tarfile.open(archive, "w") as tar:
            for child in sorted(rootfs.iterdir()):
                tar.add(child, arcname=child.name)
        repository, _, name = tag.partition(":")
        engine.api.import_image(src=str(archive), repository=repository, tag=name)
    return tag


def _run_in_docker(
    rootfs: Path, command: Sequence[str], mounts: Sequence[Mount], environment: Mapping[str, str], workdir: str,
    timeout: float,
) -> subprocess.CompletedProcess:  # fmt: skip
    import docker.errors
    import requests

    engine = _engine()
    try:
        container = engine.containers.create(
            _image_of(engine, rootfs),
            list(command),
            environment=dict(environment),
            working_dir=workdir,
            network_mode="none",
            read_only=True,
            tmpfs={"/tmp": "rw,exec,mode=1777"},
            volumes={str(m.source): {"bind": m.target, "mode": "rw" if m.writable else "ro"} for m in mounts},
            user=f"{os.getuid()}:{os.getgid()}",
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
        )
    except docker.errors.DockerException as err:
        engine.close()
        raise SandboxError(f"the Docker engine could not make the sandbox ({err})") from None
    try:
        container.start()
        try:
            status = container.wait(timeout=timeout)["StatusCode"]
        except requests.RequestException:
            raise SandboxError(f"{command[0]} ran longer than {timeout:.0f} s in the sandbox and was stopped") from None
        stdout = container.logs(stdout=True, stderr=False).decode(errors="replace")
        stderr = container.logs(stdout=False, stderr=True).decode(errors="replace")
        return subprocess.CompletedProcess(list(command), status, stdout, stderr)
    finally:
        container.remove(force=True)
        engine.close()

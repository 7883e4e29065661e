"""The build sandbox (bubblewrap): no network, nothing written outside what is mounted
writable, a scrubbed environment. The host's own root serves as the sandbox's root here."""

from __future__ import annotations

import gc
import os
import socket
import sys
import warnings
from pathlib import Path

import pytest

from lamina.sandbox import SOURCE_DATE_EPOCH, Mount, SandboxError, _bubblewrap_problem, emulation_problem, run

PYTHON = sys.executable


def _python(code: str, **kwargs):
    return run(Path("/"), [PYTHON, "-c", code], **kwargs)


def test_the_sandbox_has_no_network():
    with socket.socket() as server:  # a server on the host's loopback, listening
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        reached = _python(
            "import socket\n"
            "try:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=5)\n"
            "    print('connected')\n"
            "except OSError as err:\n"
            "    print('refused', type(err).__name__)\n"
        )
    assert reached.returncode == 0, reached.stderr
    assert reached.stdout.startswith("refused"), reached.stdout


def test_writes_land_only_where_mounted_writable(tmp_path):
    outside, out = tmp_path / "outside.txt", tmp_path / "out"
    out.mkdir()
    result = _python(
        "import os, pathlib\n"
        f"pathlib.Path('/tmp/out/wheel.txt').write_text('built')\n"
        "pathlib.Path('/tmp/scratch').write_text('gone afterwards')\n"
        "try:\n"
        f"    pathlib.Path({str(outside)!r}).write_text('escaped')\n"
        "except OSError as err:\n"
        "    print('refused', err.errno)\n"
        "print(sorted(k for k in os.environ if k not in ('PWD', 'SHLVL', '_')), os.environ['SOURCE_DATE_EPOCH'])\n",
        mounts=[Mount(out, "/tmp/out", writable=True)],
        environment={"BUILD_NAME": "demo"},
    )
    assert result.returncode == 0, result.stderr
    assert (out / "wheel.txt").read_text() == "built" and not outside.exists()
    assert result.stdout.startswith("refused")
    assert (
        "'BUILD_NAME', 'HOME', 'LANG', 'PATH', 'PYTHONDONTWRITEBYTECODE', 'SOURCE_DATE_EPOCH', 'TMPDIR'"
        in result.stdout
    )
    assert result.stdout.strip().endswith(SOURCE_DATE_EPOCH)


def test_a_missing_bubblewrap_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SandboxError, match="install bubblewrap"):
        _python("pass", kind="bubblewrap")


def test_neither_bubblewrap_nor_a_docker_engine_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    _bubblewrap_problem.cache_clear()
    with pytest.raises(SandboxError) as raised:
        _python("pass")
    message = str(raised.value)
    assert "building native code needs a sandbox, and this machine has none" in message
    assert "`apt-get install bubblewrap`; here: bwrap is not installed" in message
    assert "a local Docker engine (here: no Docker engine answered" in message
    _bubblewrap_problem.cache_clear()
    del raised  # its traceback holds the socket
    with warnings.catch_warnings():  # docker-py leaves a failed connection's socket open: collect it quietly
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def test_a_remote_docker_engine_cannot_serve_as_the_sandbox(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "tcp://192.0.2.1:2376")
    with pytest.raises(SandboxError, match="DOCKER_HOST=tcp://192.0.2.1:2376 is not a local engine"):
        _python("pass", kind="docker")


def _binfmt(tmp_path, name: str, text: str) -> Path:
    tmp_path.joinpath(name).write_text(text)
    return tmp_path


def test_emulation_is_needed_only_for_another_machine_and_named_when_missing(tmp_path):
    host = os.uname().machine
    other = "aarch64" if host != "aarch64" else "x86_64"
    qemu = "qemu-aarch64" if other == "aarch64" else "qemu-x86_64"
    assert emulation_problem(host, tmp_path) is None  # natively, whatever binfmt_misc holds
    missing = emulation_problem(other, tmp_path)
    assert f"this {host} machine cannot run {other} programs" in missing
    assert "apt-get install qemu-user-static binfmt-support" in missing and "enable_emulation.sh" in missing
    flags = f"enabled\ninterpreter /usr/libexec/qemu-binfmt/{other}-binfmt-P\nflags: P\noffset 0\n"
    assert "registered without the F flag" in emulation_problem(other, _binfmt(tmp_path, qemu, flags))
    disabled = "disabled\ninterpreter /usr/bin/qemu\nflags: PF\n"
    assert "registered but disabled" in emulation_problem(other, _binfmt(tmp_path, qemu, disabled))
    assert emulation_problem(other, _binfmt(tmp_path, qemu, flags.replace("flags: P", "flags: PF"))) is None

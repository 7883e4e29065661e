"""Progress bars: drawn on stderr in a terminal (a pseudo-terminal here) for a cold build's
long steps, and gone without one, under ``--quiet`` or with ``-v``; stdout is lamina's
output either way."""

from __future__ import annotations

import os
import pty
import subprocess
import threading

import pytest
from oci_reading import lamina_command
from small_repo import lock_text, make_repo

pytestmark = pytest.mark.integration


def _package(repo, cache, *options: str, terminal: bool) -> tuple[str, str]:
    """stdout and stderr of a cold ``package``; stderr a pseudo-terminal when ``terminal``."""
    command = [*lamina_command(), "--cache-dir", str(cache), *options, "package", "::"]
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}
    if not terminal:
        done = subprocess.run(command, cwd=repo, capture_output=True, text=True, timeout=600, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout, done.stderr
    controller, terminal_end = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(controller, 65536)
            except OSError:  # the terminal's last writer has gone
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    with subprocess.Popen(command, cwd=repo, stdout=subprocess.PIPE, stderr=terminal_end, env=env) as process:
        os.close(terminal_end)
        stdout = process.stdout.read().decode()
        assert process.wait(timeout=600) == 0, b"".join(chunks).decode(errors="replace")
    reader.join(timeout=30)
    os.close(controller)
    return stdout, b"".join(chunks).decode(errors="replace")


def test_bars_only_in_a_terminal(index, python_base, tmp_path):
    repo = make_repo(tmp_path / "repo", index_url=index.url, base=python_base, lock=lock_text(index.files))
    stdout, drawn = _package(repo, tmp_path / "tty-cache", terminal=True)
    assert "src/app:cli  sha256:" in stdout  # lamina's output stays on stdout, undrawn
    assert "fetching 2 files" in drawn and "installing 1 wheel" in drawn and "\x1b[" in drawn  # a layer per group
    for options in ((), ("--quiet",), ("-v",)):
        stdout, plain = _package(repo, tmp_path / f"cache{len(options)}{''.join(options)}", *options,
                                 terminal=not options == ())  # fmt: skip
        assert "src/app:cli  sha256:" in stdout
        assert "\x1b[" not in plain and "fetching" not in plain, (options, plain)

"""Temporary files are owned by their process: a sweep removes a dead owner's, never a live one's."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lamina.atomic import owner, replacing, sweep, temp_name, write_bytes

_MAKE_TEMP = "import sys; from pathlib import Path; from lamina.atomic import temp_name; "


def _temp_of_another_process(directory, *, alive: bool):
    """A temporary file named by a child process that has exited, or that is still running."""
    code = _MAKE_TEMP + "p = Path(sys.argv[1]) / temp_name('out.tar'); p.write_text('x'); print(p, flush=True)"
    if alive:
        child = subprocess.Popen(
            [sys.executable, "-c", code + "; sys.stdin.read()", str(directory)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        return child.stdout.readline().strip(), child
    done = subprocess.run([sys.executable, "-c", code, str(directory)], capture_output=True, text=True, check=True)
    return done.stdout.strip(), None


def test_sweep_removes_only_what_dead_processes_left(tmp_path):
    dead, _ = _temp_of_another_process(tmp_path, alive=False)
    live, child = _temp_of_another_process(tmp_path, alive=True)
    mine = tmp_path / temp_name("mine")
    mine.write_text("x")
    (tmp_path / "dist.tar").write_text("an output")
    (tmp_path / ".hidden").write_text("not ours")
    try:
        assert [str(p) for p in sweep(tmp_path)] == [dead]
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            [".hidden", "dist.tar", mine.name, live.rsplit("/", 1)[1]]
        )
    finally:
        child.communicate("")
    assert [str(p) for p in sweep(tmp_path)] == [live]


def test_temp_names_carry_the_owner_and_differ():
    assert owner() in temp_name("a") and temp_name("a") != temp_name("a")


def test_replacing_appears_whole_or_not_at_all(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), replacing(target) as handle:
        handle.write(b"half")
        raise RuntimeError("killed")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.json"]
    assert write_bytes(target, b"new") and not write_bytes(target, b"new")
    assert target.read_text() == "new" and oct(target.stat().st_mode & 0o777) == "0o644"

"""lamina's repository is read by lamina: every goal runs over it without a warning, and its
requirement files say what pyproject.toml says."""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

from lamina.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line and not line.startswith("#")]


def test_requirement_files_match_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert _lines(ROOT / "3rdparty/python/requirements.txt") == project["dependencies"]
    assert _lines(ROOT / "3rdparty/python/test-requirements.txt") == project["optional-dependencies"]["test"]


def test_every_goal_reads_lamina_itself(tmp_path, capsys, caplog):
    argv = ["--build-root", str(ROOT), "--cache-dir", str(tmp_path / "cache")]
    with caplog.at_level(logging.WARNING):
        assert main([*argv, "list", "::"]) == 0
        listed = capsys.readouterr().out.split()
        assert main([*argv, "dependencies", "--transitive", "//:lamina"]) == 0
        closure = capsys.readouterr().out.split()
    assert "//:lamina" in listed and "src/lamina/cli.py:../lamina" in listed and "tests:tests" in listed
    assert not any(a.startswith(("examples", "tests/data")) for a in listed)  # repositories of their own
    assert "src/lamina/goals/tailor.py:../../lamina" in closure and "3rdparty/python:runtime#requests" in closure
    assert "3rdparty/debian:python3.11" in closure and not any("pytest" in a for a in closure)
    assert caplog.text == ""

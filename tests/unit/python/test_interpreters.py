"""Finding the host's Python as Pants does: constraints ANDed and matched, the search path's
special entries expanded, pyenv shims resolved without running them, each interpreter asked
once (then cached by its file), and the oldest match chosen; no match names what was found."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from lamina.cache import ActionCache
from lamina.errors import BuildError, ConfigError
from lamina.python.interpreters import (
    SearchPath,
    allows,
    choose,
    examine,
    examine_all,
    host_platform,
    invalid_constraint,
    merge_constraints,
)
from lamina.python.platform import TargetPlatform

HOST = sys.executable


def _platform(version: str) -> TargetPlatform:
    return TargetPlatform(version, "/usr/bin/python3", "x86_64", "glibc", (2, 36), "/usr/lib/python3")


def test_constraint_lists_are_anded_and_entries_ored():
    assert merge_constraints([["==3.12.*"], ["==3.12.*"]]) == ("==3.12.*",)  # the same list: itself
    assert merge_constraints([[">=3.8"], ["<3.12", "==3.13.*"]]) == ("CPython<3.12,>=3.8", "CPython==3.13.*,>=3.8")
    assert merge_constraints([["CPython>=3.8"], ["PyPy>=3.8"]]) == ()  # no interpreter is both
    assert merge_constraints([]) == ()


@pytest.mark.parametrize(
    ("constraints", "version", "expected"),
    [
        (["==3.12.*"], "3.12.1", True),
        (["CPython==3.12.*"], "3.11.7", False),
        ([">=3.9,<3.12"], "3.11.7", True),
        (["==3.8.*", "==3.11.*"], "3.11.2", True),
        (["PyPy==3.11.*"], "3.11.2", False),
        ([], "3.6.15", True),
    ],
)
def test_constraints_allow_versions(constraints, version, expected):
    assert allows(constraints, _platform(version)) is expected


def test_an_invalid_constraint_is_named():
    assert invalid_constraint(["==3.12.*", "CPython=>3.9"]) == "CPython=>3.9"
    assert invalid_constraint(["CPython>=3.9,<4"]) is None


def _fake_pyenv(tmp_path: Path, versions: dict[str, str]) -> Path:
    """A pyenv root whose versions/NAME/bin/python3.X link to real interpreters."""
    root = tmp_path / "pyenv"
    for name, target in versions.items():
        bin_dir = root / "versions" / name / "bin"
        bin_dir.mkdir(parents=True)
        short = ".".join(name.split(".")[:2])
        (bin_dir / f"python{short}").symlink_to(target)
    (root / "shims").mkdir()
    return root


def test_special_entries_expand_as_in_pants(tmp_path):
    root = _fake_pyenv(tmp_path, {"3.11.7": HOST, "3.12.1": HOST})
    home, build_root = tmp_path / "home", tmp_path / "repo"
    (home / ".asdf/installs/python/3.12.1/bin").mkdir(parents=True)
    build_root.mkdir()
    (build_root / ".python-version").write_text("3.12.1\n")
    (build_root / ".tool-versions").write_text("nodejs 20.1.0\npython 3.12.1 3.11.7\n")
    (build_root / ".pexrc").write_text(f"PEX_PYTHON_PATH=/opt/a{os.pathsep}/opt/b\n")
    environ = {"PYENV_ROOT": str(root), "HOME": str(home), "PATH": f"/usr/local/bin{os.pathsep}/usr/bin"}

    def expanded(*entries: str) -> list[Path]:
        return SearchPath(entries, build_root, environ).directories()

    assert expanded("<PATH>") == [Path("/usr/local/bin"), Path("/usr/bin")]
    assert expanded("<PYENV>") == [root / "versions/3.11.7/bin", root / "versions/3.12.1/bin"]
    assert expanded("<PYENV_LOCAL>") == [root / "versions/3.12.1/bin"]
    asdf = home / ".asdf/installs/python"
    assert expanded("<ASDF>") == [asdf / "3.12.1/bin"]
    assert expanded("<ASDF_LOCAL>") == [asdf / "3.12.1/bin", asdf / "3.11.7/bin"]
    assert expanded("<PEXRC>")[:2] == [Path("/opt/a"), Path("/opt/b")]
    assert expanded("/opt/python/bin", "<PATH>")[0] == Path("/opt/python/bin")
    with pytest.raises(ConfigError, match=r"search_path: <CONDA> is not one of <PATH>, <PYENV>"):
        expanded("<CONDA>")


def test_pyenv_shims_are_resolved_to_the_version_pyenv_selects(tmp_path):
    root = _fake_pyenv(tmp_path, {"3.11.7": HOST})
    (root / "versions/3.11.7/bin/python3").symlink_to(HOST)
    for name in ("python3", "python3.11", "python3.12"):
        (root / "shims" / name).write_text("#!/bin/sh\nexit 99\n")  # never run: it would fail
        (root / "shims" / name).chmod(0o755)
    (root / "version").write_text("3.11.7\n")
    build_root = tmp_path / "repo"
    build_root.mkdir()
    search = SearchPath(("<PATH>",), build_root, {"PYENV_ROOT": str(root), "PATH": str(root / "shims")})
    assert search.candidates() == [root / "versions/3.11.7/bin/python3"]  # python3.11: the same binary; 3.12: none
    search = SearchPath(("<PATH>",), build_root, {"PYENV_ROOT": str(root), "PATH": str(root / "shims"),
                                                  "PYENV_VERSION": "system"})  # fmt: skip
    assert search.candidates() == []


def test_an_interpreter_is_asked_once_then_again_when_its_file_changes(tmp_path):
    log = tmp_path / "runs.log"
    wrapper = tmp_path / "bin" / "python3"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\necho run >> "{log}"\nexec "{HOST}" "$@"\n')
    wrapper.chmod(0o755)
    cache = ActionCache(tmp_path / "actions")
    first = examine(wrapper, cache)
    assert first.platform is not None and first.platform.python_version == host_platform().python_version
    assert first.platform.interpreter == str(wrapper)
    assert examine(wrapper, cache) == first
    assert log.read_text().count("run") == 1, "a cached answer runs nothing"
    wrapper.write_text(wrapper.read_text() + "# changed\n")
    examine(wrapper, cache)
    assert log.read_text().count("run") == 2


def test_a_broken_interpreter_is_examined_not_fatal(tmp_path):
    broken = tmp_path / "python3"
    broken.write_text("#!/bin/sh\necho 'cannot start' >&2\nexit 3\n")
    broken.chmod(0o755)
    examined = examine(broken, None)
    assert examined.platform is None and "cannot start" in examined.problem


def test_the_oldest_match_is_chosen_and_no_match_says_what_was_found(tmp_path, python312):
    root = _fake_pyenv(tmp_path, {"3.12": str(python312), "3.11": HOST})
    search = SearchPath(("<PYENV>",), tmp_path, {"PYENV_ROOT": str(root), "PATH": ""})
    examined = examine_all(search, ActionCache(tmp_path / "actions"))
    host = host_platform().python_version
    assert sorted(e.platform.python_version[:4] for e in examined) == ["3.11", "3.12"]
    assert choose([">=3.11"], examined, search, who="app:bin").python_version == host
    assert choose(["==3.12.*"], examined, search, who="app:bin").interpreter == str(
        root / "versions/3.12/bin/python3.12"
    )
    with pytest.raises(BuildError) as raised:
        choose(["==3.99.*"], examined, search, who="app:bin")
    message = str(raised.value)
    assert message.startswith("app:bin: no Python on this machine meets the interpreter constraints ==3.99.*")
    assert "search_path = ['<PYENV>']" in message and f"(CPython {host})" in message

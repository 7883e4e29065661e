"""Pants' lock metadata (header versions 3 and 4, a separate version 8 file) and stale locks."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest

from lamina.backends.python.rules import package_python_image
from lamina.backends.python.stale_locks import warn_if_stale
from lamina.errors import ResolveError
from lamina.project import load_project
from lamina.python.lock_metadata import read_lock_metadata, staleness
from lamina.python.lockfile import PEX, load_lockfile

LOCKS = Path(__file__).resolve().parents[2] / "data" / "locks"


def _metadata(name: str):
    path = LOCKS / name
    return read_lock_metadata(path, path.read_text())


def test_metadata_in_a_header_and_in_a_separate_file():
    v3, v4, v8 = (_metadata(n) for n in ("pants-python-default.lock", "pants-v4-python-default.lock",
                                         "pants-v8-separate-metadata.json"))  # fmt: skip
    assert (v3.version, v4.version, v8.version) == (3, 4, 8)
    assert "ansicolors==1.1.8" in v3.requirements and v3.interpreter_constraints == {"CPython==3.9.*"}
    assert "PyYAML>=6.0.3" in v8.requirements and v8.interpreter_constraints == {"CPython<3.15,>=3.14"}
    assert _metadata("httpx-socks.lock") is None  # pip-compile records none


def test_a_lock_with_separate_metadata_reads_as_a_pex_lock():
    lock = load_lockfile(LOCKS / "pants-v8-separate-metadata.json")
    assert lock.format == PEX and lock.get("fastapi") is not None and lock.metadata.version == 8


def test_staleness_names_what_changed():
    v3 = _metadata("pants-python-default.lock")
    fresh = ["ansicolors==1.1.8", "pytest==7.1.3", "setuptools>=56.2.0,<57", "types-setuptools<58,>=56.2.0"]
    assert staleness(v3, fresh, ["CPython==3.9.*"]) is None
    assert staleness(v3, fresh, ["==3.9.*"]) is None, "Pants writes ==3.9.* into locks as CPython==3.9.*"
    ranged = dataclasses.replace(v3, interpreter_constraints=frozenset({"CPython<3.12,>=3.9"}))
    assert staleness(ranged, fresh, [">=3.9, <3.12"]) is None, "the order of a range's clauses does not matter"
    reason = staleness(v3, [*fresh[1:], "attrs>=23"], ["CPython==3.11.*"])
    assert "added since it was generated: attrs>=23" in reason and "removed since: ansicolors==1.1.8" in reason
    assert "interpreters CPython==3.9.*" in reason


def test_a_stale_lock_is_reported_with_the_command_that_regenerates_it(tmp_path, caplog):
    (tmp_path / "pants.toml").write_text(
        '[python]\nenable_resolves = true\ninterpreter_constraints = ["CPython==3.9.*"]\n'
    )
    (tmp_path / "BUILD").write_text('python_requirements(name="reqs")\n')
    (tmp_path / "requirements.txt").write_text("ansicolors==1.1.8\npytest==7.1.3\nattrs>=23\n")
    lock_path = tmp_path / "3rdparty/python/default.lock"
    lock_path.parent.mkdir(parents=True)
    lock_path.write_text((LOCKS / "pants-python-default.lock").read_text())
    project = load_project(tmp_path, tmp_path / ".cache")
    with caplog.at_level(logging.WARNING):
        warn_if_stale(load_lockfile(lock_path), "python-default", project.context)
    assert (
        "the lock of resolve 'python-default' is stale: requirements added since it was generated: attrs>=23"
        in caplog.text
    )
    assert "`lamina generate-lockfiles --resolve=python-default`" in caplog.text


def test_a_constraints_file_is_read_but_never_installed_from(tmp_path):
    (tmp_path / "pants.toml").write_text(
        '[python]\nrequirement_constraints = "constraints.txt"\n[source]\nroot_patterns = ["src"]\n'
    )
    (tmp_path / "constraints.txt").write_text((LOCKS / "constraints.txt").read_text())
    (tmp_path / "BUILD").write_text('python_requirements(name="reqs")\n')
    (tmp_path / "requirements.txt").write_text("requests\n")
    (tmp_path / "src/app").mkdir(parents=True)
    (tmp_path / "src/app/BUILD").write_text(
        'python_sources()\npython_image(name="img", entry_point="app.main", base="scratch")\n'
    )
    (tmp_path / "src/app/main.py").write_text("import requests\n")
    project = load_project(tmp_path, tmp_path / ".cache")
    image = project.graph.address_of("src/app:img")
    assert "//:reqs#requests" in [str(t.address) for t in project.graph.closure([image])]
    with pytest.raises(ResolveError, match=r"constraints.txt is a constraints file: it pins versions but no hashes"):
        package_python_image(image, project.context)

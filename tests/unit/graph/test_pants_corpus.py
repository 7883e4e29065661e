"""Real Pants repositories load unchanged: ``list``, ``dependencies``, ``dependents`` and
``peek`` over ``::`` succeed, and ``list ::`` prints exactly the addresses Pants prints
(the expected lists in ``tests/data/pants-corpus/`` were checked by hand against Pants'
addressing rules). The repositories are read in place, never written: the corpus lives
beside the project (``../shared/pants-corpus``) or where ``LAMINA_PANTS_CORPUS`` points."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from lamina.cli import main

ROOT = Path(__file__).resolve().parents[3]
CORPUS = Path(os.environ.get("LAMINA_PANTS_CORPUS", ROOT.parent / "shared" / "pants-corpus"))
EXPECTED = ROOT / "tests" / "data" / "pants-corpus"
REPOSITORIES = sorted(p.stem for p in EXPECTED.glob("*.list"))
# Imports these repositories really leave unowned; besides these, only the ambiguity warnings
# Pants gives too (one module, several requirement targets in one resolve) may appear.
UNOWNED = {
    "zach-overflow+beetkeeper": {"jinja2", "packaging.requirements", "mutagen.flac", "confuse"},
}


def _run(repository: str, tmp_path: Path, capsys, caplog, *args: str) -> str:
    root = CORPUS / repository
    assert (root / "pants.toml").is_file(), f"the Pants corpus is missing at {CORPUS}; set LAMINA_PANTS_CORPUS"
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        code = main(["--build-root", str(root), "--cache-dir", str(tmp_path / "cache"), *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Traceback" not in err
    for record in caplog.records:
        message = record.getMessage()
        unowned = any(f"import {name!r}" in message for name in UNOWNED.get(repository, ()))
        assert (unowned and "cannot infer a dependency" in message) or "so no dependency is inferred" in message, (
            message
        )
    return out


@pytest.mark.parametrize("repository", REPOSITORIES)
def test_list_prints_the_addresses_pants_prints(repository, tmp_path, capsys, caplog):
    listed = _run(repository, tmp_path, capsys, caplog, "list", "::").splitlines()
    assert listed == (EXPECTED / f"{repository}.list").read_text().splitlines()


@pytest.mark.parametrize("repository", REPOSITORIES)
def test_every_goal_reads_the_whole_repository(repository, tmp_path, capsys, caplog):
    before = sorted(str(p) for p in (CORPUS / repository).rglob("*"))
    assert _run(repository, tmp_path, capsys, caplog, "dependencies", "::").strip()
    _run(repository, tmp_path, capsys, caplog, "dependents", "::")
    peeked = json.loads(_run(repository, tmp_path, capsys, caplog, "peek", "::"))
    assert [entry["address"] for entry in peeked] == (EXPECTED / f"{repository}.list").read_text().splitlines()
    assert sorted(str(p) for p in (CORPUS / repository).rglob("*")) == before  # nothing written into it


@pytest.mark.parametrize(
    ("repository", "address", "expected"),
    [
        (
            "pantsbuild+example-python",
            "helloworld/main.py:lib",
            ["//:reqs#ansicolors", "helloworld/greet/greeting.py:lib"],  # its __init__.py files are empty
        ),
        (
            "pantsbuild+example-django",
            "helloworld/greet/models.py",
            ["//:requirements#django", "helloworld/greet/migrations:migrations"],
        ),
        ("pantsbuild+example-python", "helloworld:pex_binary", ["helloworld/main.py:lib"]),  # its entry point
        ("pantsbuild+example-docker", "src/docker/hello_world:python", ["src/python/hello_world:main"]),  # COPY
        (
            "JasperHG90+dagster-dags",
            "jobs/jobs_cli.py",
            ["jobs/utils.py", "jobs:reqs#typer"],  # typer is ambiguous (two targets own it): the explicit one
        ),
    ],
)  # fmt: skip
def test_dependencies_agree_with_the_imports(repository, address, expected, tmp_path, capsys, caplog):
    found = _run(repository, tmp_path, capsys, caplog, "dependencies", address).split()
    assert found == expected

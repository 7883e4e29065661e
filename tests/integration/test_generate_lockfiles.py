"""``lamina generate-lockfiles`` locks a resolve from its requirement targets with real pip-tools."""

from __future__ import annotations

import pytest
from oci_reading import lamina

from lamina.python.lockfile import load_lockfile

pytestmark = pytest.mark.integration


def test_generate_lockfiles_writes_a_hash_pinned_lock(tmp_path):
    (tmp_path / "pants.toml").write_text(
        '[python]\nenable_resolves = true\n[python.resolves]\npython-default = "3rdparty/default.lock"\n'
    )
    (tmp_path / "3rdparty").mkdir()
    (tmp_path / "3rdparty" / "BUILD").write_text('python_requirements(name="reqs")\n')
    (tmp_path / "3rdparty" / "requirements.txt").write_text("attrs==23.2.0\n")
    result = lamina("generate-lockfiles", cwd=tmp_path, cache=tmp_path / "cache")
    assert "3rdparty/default.lock" in result.stdout
    lock = load_lockfile(tmp_path / "3rdparty" / "default.lock")
    assert str(lock.get("attrs").version) == "23.2.0" and lock.get("attrs").artifacts
    assert "lamina generate-lockfiles" in (tmp_path / "3rdparty" / "default.lock").read_text()

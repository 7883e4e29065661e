"""``generate-lockfiles`` locks what the resolve's sdists need to build: psycopg2 has no
Linux wheel on PyPI, so its build requirements are pinned, with hashes, in a build lock."""

from __future__ import annotations

import pytest
from oci_reading import lamina

from lamina.python.lockfile import PIP_TOOLS, load_lockfile


@pytest.mark.integration
def test_build_requirements_of_sdist_only_distributions_are_locked(tmp_path):
    (tmp_path / "pants.toml").write_text("[python]\nenable_resolves = true\n")
    (tmp_path / "BUILD").write_text('python_requirements(name="reqs")\n')
    (tmp_path / "requirements.txt").write_text("psycopg2==2.9.10\nattrs>=23\n")
    result = lamina("generate-lockfiles", cwd=tmp_path, cache=tmp_path / "cache")
    assert (
        "build requirements of psycopg2-2.9.10.tar.gz" in result.stdout and "attrs" not in result.stdout.split("of")[-1]
    )
    build_lock = load_lockfile(tmp_path / "3rdparty/python/default.build.lock")
    assert build_lock.format == PIP_TOOLS and {"setuptools", "wheel"} <= set(build_lock.dists)
    assert all(d.artifacts for d in build_lock.dists.values())  # every pin hash-checked

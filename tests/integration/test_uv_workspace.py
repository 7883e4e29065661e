"""A uv workspace with no BUILD files (two apps and a library, locked by real ``uv``):
``lamina tailor`` writes its ``pants.toml`` and BUILD files, then ``package ::`` builds images
that run, from the ``uv.lock`` or from the ``pylock.toml`` that ``uv export`` wrote."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from oci_reading import image_outputs, lamina

WORKSPACE = Path(__file__).resolve().parents[1] / "data" / "uv-workspace"


@pytest.mark.integration
@pytest.mark.parametrize("lock", ["uv.lock", "pylock.toml"])
def test_tailor_then_package_a_uv_workspace(lock, tmp_path, python_base, load_image, run_container):
    root = tmp_path / "workspace"
    shutil.copytree(WORKSPACE, root)
    (root / ("pylock.toml" if lock == "uv.lock" else "uv.lock")).unlink()
    cache = tmp_path / "cache"
    tailored = lamina("tailor", cwd=root, cache=cache)
    assert "Created pants.toml" in tailored.stdout and f'python-default = "{lock}"' in (root / "pants.toml").read_text()
    assert (root / "packages/web/BUILD").read_text() == (
        'python_requirements(name="reqs", source="pyproject.toml")\n\npython_image(entry_point="web.main:main")\n'
    )
    assert lamina("tailor", "--check", cwd=root, cache=cache).stdout == ""  # idempotent: nothing left to add
    with (root / "pants.toml").open("a") as config:  # this machine's base image (no registry is reachable)
        config.write(f'\n[oci]\ndefault_base = "docker-archive:{python_base}"\n')
    lamina("package", "--output=oci,tarball", "::", cwd=root, cache=cache)
    web = run_container(load_image(image_outputs(root, "packages/web", "web")[1]))
    cli = run_container(load_image(image_outputs(root, "packages/cli", "cli")[1]))
    assert (web.exit_code, web.stdout.strip()) == (0, "<p>Hello, &lt;web&gt;!</p>"), web.stderr
    assert cli.exit_code == 0 and "Hello, cli!" in cli.stdout, cli.stderr

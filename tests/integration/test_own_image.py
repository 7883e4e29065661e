"""lamina's own repository is a lamina repository: ``package //:lamina`` gives an image of
lamina whose ``--version`` and ``list ::`` (over a mounted example repository) work."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from oci_reading import copy_examples, image_outputs, lamina

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.integration
def test_lamina_packages_itself_into_an_image_that_runs(tmp_path, load_image, run_container, docker_client):
    repo = tmp_path / "lamina"
    repo.mkdir()
    for name in ("pants.toml", "BUILD", "pyproject.toml"):
        shutil.copy2(ROOT / name, repo / name)
    for name in ("src", "3rdparty"):
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    lamina("package", "--output=oci,tarball", "//:lamina", cwd=repo, cache=tmp_path / "cache")
    image = load_image(image_outputs(repo, "", "lamina")[1])
    version = run_container(image, ["--version"])
    assert version.exit_code == 0 and version.stdout.startswith("lamina "), version.stderr
    examples = copy_examples(tmp_path / "examples")
    container = docker_client.containers.run(
        image, ["list", "::"], volumes={str(examples): {"bind": "/repo", "mode": "ro"}}, network_mode="none",
        detach=True,
    )  # fmt: skip
    try:
        assert container.wait(timeout=120)["StatusCode"] == 0, container.logs().decode()
        listed = container.logs(stdout=True, stderr=False).decode().split()
    finally:
        container.remove(force=True)
    assert "src/python/services/web:web" in listed and "3rdparty/debian:python3.11" in listed

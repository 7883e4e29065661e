"""``python_image(binary=...)`` and ``layout="pex"``: the loose pex in the image, a layer per
third-party distribution shared by every image that uses it, the rest in one small layer."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from oci_reading import config, image_outputs, lamina, manifest

pytestmark = pytest.mark.integration

PANTS_EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "pants_example"
BASE = 'base="docker-archive:base/python.tar"'
IMAGES = ("svc-a", "svc-b", "svc-own", "svc-venv")


def _layers(repo: Path, name: str) -> list[tuple[str, str, int]]:
    """(created_by, digest, size) of each layer of the image ``helloworld:name``."""
    layout = image_outputs(repo, "helloworld", name)[0]
    history = [h["created_by"] for h in config(layout)["history"] if not h.get("empty_layer")]
    return [(created, d["digest"], d["size"]) for created, d in zip(history, manifest(layout)["layers"], strict=True)]


@pytest.fixture(scope="module")
def services(tmp_path_factory, python_base) -> Path:
    repo = tmp_path_factory.mktemp("pex-images") / "repo"
    shutil.copytree(PANTS_EXAMPLE, repo)
    (repo / "base").mkdir()
    shutil.copy(python_base, repo / "base/python.tar")
    with open(repo / "helloworld/BUILD", "a") as build:
        build.write(
            f'\npex_binary(name="greeter", entry_point="main.py:say_hello", args=["Pex"])\n'
            f'python_image(name="svc-a", binary=":pex_binary", {BASE})\n'
            f'python_image(name="svc-b", binary=":greeter", {BASE})\n'
            f'python_image(name="svc-own", entry_point="main.py:say_hello", layout="pex", {BASE})\n'
            f'python_image(name="svc-venv", entry_point="main.py:say_hello", {BASE})\n'
        )
    lamina("package", "--output=oci,tarball", *(f"helloworld:{n}" for n in IMAGES), cwd=repo, cache=repo / ".cache")
    return repo


def test_services_share_the_layer_of_a_distribution(services):
    shared = {name: [layer for layer in _layers(services, name) if "ansicolors" in layer[0]] for name in IMAGES[:3]}
    assert all(len(found) == 1 for found in shared.values()), shared
    assert len({found[0][1] for found in shared.values()}) == 1, "one ansicolors layer, whichever image holds it"


def test_the_image_starts_from_its_layers_without_extracting_anything(services, load_image, run_container):
    for name, expected in (("svc-a", "Hola, Pants!"), ("svc-b", "Hola, Pex!"), ("svc-own", "Hola, Pants!")):
        image = load_image(image_outputs(services, "helloworld", name)[1])
        result = run_container(image, read_only=True)  # nothing can be written at start-up: no PEX_ROOT
        assert result.exit_code == 0, result.stderr
        assert expected in result.stdout


def test_an_app_only_edit_changes_one_small_layer(services, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(services, repo, ignore=shutil.ignore_patterns(".cache"), symlinks=True)
    before = _layers(services, "svc-a")
    greeting = repo / "helloworld/greet/greeting.py"
    greeting.write_text(greeting.read_text() + "\n# edited\n")
    lamina("package", "helloworld:svc-a", cwd=repo, cache=services / ".cache")
    after = _layers(repo, "svc-a")
    assert [layer[1] for layer in after[:-1]] == [layer[1] for layer in before[:-1]]
    assert after[-1][1] != before[-1][1] and after[-1][2] < 100_000

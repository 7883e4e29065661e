"""A repository shaped like pantsbuild/example-python works unchanged, and an image added to it runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from oci_reading import image_outputs, lamina

pytestmark = pytest.mark.integration

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "pants_example"


def test_list_and_dependencies_run_unchanged(tmp_path):
    listed = lamina("list", "::", cwd=FIXTURE, cache=tmp_path).stdout.split()
    assert {"//:reqs#ansicolors", "helloworld:pex_binary", "helloworld:dist", "helloworld/greet:tests",
            "helloworld/greet:translations", "helloworld/main.py:lib"} <= set(listed)  # fmt: skip
    everything = lamina("dependencies", "::", cwd=FIXTURE, cache=tmp_path).stdout.split()
    assert {"//:reqs#ansicolors", "helloworld/greet:translations", "helloworld/greet/greeting.py"} <= set(everything)
    deps = lamina("dependencies", "helloworld/main.py:lib", cwd=FIXTURE, cache=tmp_path).stdout.split()
    assert deps == ["//:reqs#ansicolors", "helloworld/greet/greeting.py"]  # an empty __init__.py is no dependency
    transitive = lamina("dependencies", "--transitive", "helloworld:lib", cwd=FIXTURE, cache=tmp_path).stdout.split()
    assert "helloworld/greet:translations" in transitive and "helloworld/translator/translator.py" in transitive


def test_python_image_added_to_it_packages_and_runs(tmp_path, python_base, load_image, run_container):
    repo = tmp_path / "example-python"
    shutil.copytree(FIXTURE, repo)
    (repo / "base").mkdir()
    shutil.copy(python_base, repo / "base" / "python.tar")
    with open(repo / "helloworld" / "BUILD", "a") as build:
        build.write(
            '\npython_image(name="image", entry_point="main.py:say_hello", base="docker-archive:base/python.tar")\n'
        )
    lamina("package", "--output=oci,tarball", "helloworld:image", cwd=repo, cache=tmp_path / "cache")
    image = load_image(image_outputs(repo, "helloworld", "image")[1])
    result = run_container(image, ["Pants"])
    assert result.exit_code == 0, result.stderr
    assert "Hola, Pants!" in result.stdout

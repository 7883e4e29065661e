"""The example base image that build_support/make_example_base.py makes is what the
examples and the integration tests build on: a docker-archive that a real engine loads
and whose CPython 3.11 runs. Also exercises the container fixtures of conftest.py."""

from __future__ import annotations

import json
import tarfile

import pytest
import requests

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def base_image(load_image, example_base) -> str:
    """The example base loaded into the engine, by a tag unique to this test module."""
    return load_image(example_base)


def test_archive_is_a_one_layer_docker_archive_for_this_machine(example_base):
    with tarfile.open(example_base) as archive:
        (manifest,) = json.load(archive.extractfile("manifest.json"))
        config = json.load(archive.extractfile(manifest["Config"]))
    assert manifest["RepoTags"] == ["lamina-examples/base:bookworm-python3.11"]
    assert len(manifest["Layers"]) == len(config["rootfs"]["diff_ids"]) == 1
    assert (config["os"], config["architecture"]) == ("linux", "amd64")


def test_base_runs_its_python_without_network(base_image, run_container):
    run = run_container(base_image, ["/usr/bin/python3.11", "-c", "import sys, ssl; print(sys.version_info[:2])"])
    assert (run.exit_code, run.stdout, run.stderr) == (0, "(3, 11)\n", "")


def test_run_container_reports_failure_and_stderr(base_image, run_container):
    run = run_container(base_image, ["/usr/bin/python3.11", "-c", "raise SystemExit('no')"])
    assert (run.exit_code, run.stdout, run.stderr) == (1, "", "no\n")


def test_serve_container_yields_a_url_that_answers(base_image, serve_container):
    serve_stdlib_http = ['exec /usr/bin/python3.11 -m http.server --bind "$HOST" "$PORT"']
    with serve_container(base_image, serve_stdlib_http, entrypoint=["/bin/sh", "-c"], health_path="/etc/") as url:
        listing = requests.get(f"{url}/etc/", timeout=5)
    assert listing.status_code == 200
    assert "os-release" in listing.text

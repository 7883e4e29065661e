"""Bases from an OCI layout and from the Docker engine give the same image as from a docker-archive."""

from __future__ import annotations

import subprocess

import pytest

from oci_reading import copy_examples, image_outputs, lamina, manifest

pytestmark = pytest.mark.integration

CLI = ("src/python/services/greet_cli", "greet-cli")


def _package_with_base(root, cache, base):
    (root / "BUILD").write_text(f'__defaults__({{python_image: dict(base="{base}")}})\n')
    lamina("package", f"{CLI[0]}:{CLI[1]}", cwd=root, cache=cache)
    return manifest(image_outputs(root, *CLI)[0])


def test_docker_daemon_and_oci_layout_bases(tmp_path, example_base, load_image, run_container):
    root = copy_examples(tmp_path / "examples", example_base)
    cache = tmp_path / "cache"
    from_archive = _package_with_base(root, cache, "docker-archive:.lamina/base/" + example_base.name)

    tag = load_image(example_base)
    from_daemon = _package_with_base(root, cache, f"docker-daemon:{tag}")
    assert from_daemon["layers"] == from_archive["layers"]

    layout = tmp_path / "base.oci"
    subprocess.run(["skopeo", "copy", "--quiet", f"docker-daemon:{tag}", f"oci:{layout}:base"], check=True, timeout=600)
    from_layout = _package_with_base(root, cache, f"oci-layout:{layout}:base")
    assert from_layout["layers"][1:] == from_archive["layers"][1:]

    image = load_image(image_outputs(root, *CLI)[1])
    assert run_container(image, ["hello", "Layout"]).stdout.strip() == "Hello, Layout!"


def test_outputs_are_readable_by_skopeo(tmp_path, example_base):
    root = copy_examples(tmp_path / "examples", example_base)
    lamina("package", f"{CLI[0]}:{CLI[1]}", cwd=root, cache=tmp_path / "cache")
    layout, archive = image_outputs(root, *CLI)
    inspected = subprocess.run(
        ["skopeo", "inspect", f"oci:{layout}:latest"], capture_output=True, text=True, check=True
    )
    assert '"Layers"' in inspected.stdout
    subprocess.run(["skopeo", "inspect", f"docker-archive:{archive}"], capture_output=True, check=True)

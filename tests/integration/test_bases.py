"""Bases from a docker-archive, the Docker engine and an OCI layout give the same image,
and skopeo (an independent reader) reads every output."""

from __future__ import annotations

import json
import subprocess

import pytest
from oci_reading import BASE, config, copy_examples, image_outputs, lamina, manifest, top_descriptor

pytestmark = pytest.mark.integration

CLI = ("src/python/services/greet_cli", "greet-cli")


def _package_with_base(root, cache, base):
    (root / "BUILD").write_text(f'__defaults__({{python_image: dict(base="{base}")}})\n')
    lamina("package", f"{CLI[0]}:{CLI[1]}", cwd=root, cache=cache)
    layout = image_outputs(root, *CLI)[0]
    return manifest(layout), config(layout)


def test_docker_archive_docker_daemon_and_oci_layout_bases(tmp_path, python_base, load_image, run_container):
    root = copy_examples(tmp_path / "examples")
    cache = tmp_path / "cache"
    from_archive, archive_config = _package_with_base(root, cache, f"docker-archive:{python_base}")

    tag = load_image(python_base)
    from_daemon, daemon_config = _package_with_base(root, cache, f"docker-daemon:{tag}")
    # The engine hands out base layers uncompressed: same content (diff_ids), other blobs.
    assert daemon_config["rootfs"] == archive_config["rootfs"]
    assert from_daemon["layers"][-2:] == from_archive["layers"][-2:]

    base_layout = (
        python_base.parents[1] / "oci"
    )  # the examples' shared layout, with the base's multi-architecture index
    from_layout, _ = _package_with_base(root, cache, f"oci-layout:{base_layout}:python3.11:latest")
    assert from_layout["layers"] == from_archive["layers"]

    image = load_image(image_outputs(root, *CLI)[1])
    assert run_container(image, ["hello", "Layout"]).stdout.strip() == "Hello, Layout!"


def _skopeo_inspect(*args: str) -> dict:
    result = subprocess.run(["skopeo", "inspect", *args], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(result.stdout)


def test_skopeo_reads_the_index_and_both_images(tmp_path):
    root = copy_examples(tmp_path / "examples")
    lamina("package", f"{CLI[0]}:{CLI[1]}", ":".join(BASE), cwd=root, cache=tmp_path / "cache")
    for target in (CLI, BASE):
        layout, archive = image_outputs(root, *target)
        name = top_descriptor(layout)["annotations"]["org.opencontainers.image.ref.name"]
        index = _skopeo_inspect("--raw", f"oci:{layout}:{name}")
        assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
        platforms = {(m["platform"]["architecture"], m["platform"].get("variant")) for m in index["manifests"]}
        assert platforms == {("amd64", None), ("arm64", "v8")}
        for architecture in ("amd64", "arm64"):
            inspected = _skopeo_inspect("--override-arch", architecture, f"oci:{layout}:{name}")
            assert inspected["Architecture"] == architecture and inspected["Os"] == "linux"
            assert inspected["Layers"] == [l["digest"] for l in manifest(layout, architecture)["layers"]]
        assert _skopeo_inspect(f"docker-archive:{archive}")["Architecture"] == "amd64"

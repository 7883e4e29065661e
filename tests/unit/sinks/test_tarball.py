"""The docker-archive output is deterministic, readable as docker-archive and OCI, and not rewritten needlessly."""

from __future__ import annotations

import json
import tarfile

from lamina.cache import Cache
from lamina.oci import OCI_LAYER_GZIP, FileLayer, Image
from lamina.oci.mutate import append_layer
from lamina.sinks import layout, tarball
from lamina.sources import docker_archive, oci_layout
from lamina.tar import TarEntry, write_layer


def _image(cache):
    blob = write_layer([TarEntry.file("/hello.txt", b"hi")], cache.blobs)
    layer = FileLayer(cache.blobs.path(blob.digest), OCI_LAYER_GZIP, blob.digest, blob.diff_id, blob.size)
    return append_layer(Image({"architecture": "amd64", "os": "linux"}), layer, created_by="test")


def test_tarball_is_deterministic_and_round_trips(tmp_path):
    cache = Cache(tmp_path / "cache")
    image = _image(cache)
    first, second = tmp_path / "a.tar", tmp_path / "b.tar"
    tarball.write(image, first, repo_tags=["demo:latest"])
    tarball.write(image, second, repo_tags=["demo:latest"])
    assert first.read_bytes() == second.read_bytes()
    with tarfile.open(first) as archive:
        assert archive.getnames()[0] == "index.json"
        assert json.load(archive.extractfile("manifest.json"))[0]["RepoTags"] == ["demo:latest"]
    read_back = docker_archive.read(first, Cache(tmp_path / "other"))
    assert [l.digest for l in read_back.layers] == [l.digest for l in image.layers]
    assert read_back.config_bytes == image.config_bytes


def test_unchanged_tarball_is_not_rewritten(tmp_path):
    cache = Cache(tmp_path / "cache")
    image = _image(cache)
    path = tmp_path / "a.tar"
    tarball.write(image, path, repo_tags=["demo:latest"])
    stamp = path.stat().st_mtime_ns
    tarball.write(image, path, repo_tags=["demo:latest"])
    assert path.stat().st_mtime_ns == stamp
    tarball.write(image, path, repo_tags=["demo:v2"])
    assert path.stat().st_mtime_ns != stamp


def test_layout_round_trip(tmp_path):
    cache = Cache(tmp_path / "cache")
    image = _image(cache)
    layout.write(image, tmp_path / "out.oci", tag="v1")
    assert oci_layout.read(tmp_path / "out.oci", "v1").digest == image.digest

"""Outputs are deterministic, readable by their readers, verified on the way out, and rewritten only when
they are not what lamina wrote."""

from __future__ import annotations

import json
import tarfile

import pytest

from lamina.backends.built import BuiltImage
from lamina.cache import Cache
from lamina.errors import DamagedBlobError
from lamina.oci import OCI_LAYER_GZIP, FileLayer, Image
from lamina.oci.mutate import append_layer
from lamina.sinks import layout, tarball
from lamina.sources import docker_archive, oci_layout
from lamina.tar import TarEntry, write_layer


def _image(cache, text: bytes = b"hi"):
    blob = write_layer([TarEntry.file("/hello.txt", text)], cache.blobs)
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


def test_unchanged_tarball_is_not_rewritten_but_a_damaged_one_is(tmp_path):
    cache = Cache(tmp_path / "cache")
    image = _image(cache)
    path = tmp_path / "a.tar"
    record = lambda: cache.outputs.record(path)
    tarball.write(image, path, repo_tags=["demo:latest"], record=record())
    good, stamp = path.read_bytes(), path.stat().st_mtime_ns
    tarball.write(image, path, repo_tags=["demo:latest"], record=record())
    assert path.stat().st_mtime_ns == stamp
    with open(path, "r+b") as handle:  # truncated to half
        handle.truncate(len(good) // 2)
    tarball.write(image, path, repo_tags=["demo:latest"], record=record())
    assert path.read_bytes() == good
    tarball.write(image, path, repo_tags=["demo:v2"], record=record())
    assert path.read_bytes() != good


def _write(cache, out, *images: BuiltImage) -> None:
    with layout.Layout(out, cache.outputs) as shared:
        for image in images:
            shared.put(image)


def _built(address: str, image, tag: str = "latest") -> BuiltImage:
    return BuiltImage(address, image, (f"demo/{address.partition(':')[2]}:{tag}",), address.replace(":", "/"))


def test_layout_round_trip(tmp_path):
    cache = Cache(tmp_path / "cache")
    image = _image(cache)
    _write(cache, tmp_path / "out.oci", _built("src:app", image))
    assert oci_layout.read(tmp_path / "out.oci", "demo/app:latest").digest == image.digest


def test_one_layout_holds_every_image_and_keeps_entries_of_images_not_built_this_run(tmp_path):
    cache = Cache(tmp_path / "cache")
    out = tmp_path / "out.oci"
    first, second = _image(cache), _image(cache, b"other")
    _write(cache, out, _built("src:one", first), _built("src:two", second))
    index = json.loads((out / "index.json").read_bytes())
    assert [m["annotations"]["dev.lamina.target"] for m in index["manifests"]] == ["src:one", "src:two"]
    assert [m["annotations"]["dev.lamina.tags"] for m in index["manifests"]] == ["demo/one:latest", "demo/two:latest"]
    # the shared blobs are stored once: two configs, two manifests, two layers
    assert len(list((out / "blobs" / "sha256").iterdir())) == 6
    replaced = _image(cache, b"edited")
    _write(cache, out, _built("src:one", replaced))  # only one target built this time
    assert oci_layout.read(out, "demo/one:latest").digest == replaced.digest
    assert oci_layout.read(out, "demo/two:latest").digest == second.digest
    names = {p.name for p in (out / "blobs" / "sha256").iterdir()}
    assert first.layers[0].digest.split(":")[1] not in names  # no entry reaches the old layer: removed
    assert second.layers[0].digest.split(":")[1] in names


def _flip(path):
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x40
    path.write_bytes(bytes(data))


def test_outputs_share_no_inode_with_the_cache_and_damage_is_repaired(tmp_path):
    cache = Cache(tmp_path / "cache")
    image = _image(cache)
    out = tmp_path / "out.oci"
    write = lambda: _write(cache, out, _built("src:app", image))
    write()
    layer = image.layers[0]
    blob = out / "blobs" / "sha256" / layer.digest.split(":")[1]
    assert blob.stat().st_ino != cache.blobs.path(layer.digest).stat().st_ino
    good, before = blob.read_bytes(), blob.stat().st_mtime_ns
    write()
    assert blob.stat().st_mtime_ns == before  # untouched: only stat'ed
    _flip(blob)
    write()
    assert blob.read_bytes() == good and cache.blobs.intact(layer.digest)  # the output was repaired...
    blob.unlink()
    (out / "blobs" / "sha256" / ("0" * 64)).write_bytes(b"stale")
    write()
    assert blob.read_bytes() == good and sorted(p.name for p in blob.parent.iterdir()) == sorted(
        d.split(":")[1] for d in (layer.digest, image.config_descriptor.digest, image.digest)
    )  # ...and a missing blob written, a stale one removed


def test_a_damaged_cache_blob_never_reaches_an_output(tmp_path):
    cache = Cache(tmp_path / "cache")
    image = _image(cache)
    _flip(cache.blobs.path(image.layers[0].digest))
    out, tar = tmp_path / "out.oci", tmp_path / "out.tar"
    with pytest.raises(DamagedBlobError, match=f"{image.layers[0].digest} read from .*cache.* is damaged"):
        _write(cache, out, _built("src:app", image))
    with pytest.raises(DamagedBlobError):
        tarball.write(image, tar, repo_tags=["demo:latest"])
    assert not tar.exists() and not (out / "index.json").exists()
    assert [p for p in (out / "blobs" / "sha256").iterdir() if p.name.startswith(".")] == []


def test_a_damaged_cache_blob_never_reaches_a_registry(tmp_path):
    from fake_registry import FakeRegistry

    from lamina.registry.client import RegistryClient
    from lamina.registry.reference import parse_reference
    from lamina.sinks import registry
    from lamina.transport import Transport

    cache = Cache(tmp_path / "cache")
    image = _image(cache)
    _flip(cache.blobs.path(image.layers[0].digest))
    fake = FakeRegistry().start()
    try:
        client = RegistryClient(fake.address, Transport())
        with pytest.raises(DamagedBlobError):
            registry.push(image, parse_reference(f"{fake.address}/team/app"), ["v1"], client)
        assert image.layers[0].digest not in fake.blobs
        assert list(fake.blobs) == [image.config_descriptor.digest]  # pushed in parallel, and intact
        assert [s.method for s in fake.seen].count("POST") == 1  # the layer's upload never even started
        assert not any(s.path.endswith("/manifests/v1") for s in fake.seen)
    finally:
        fake.stop()

"""Image values: derived manifests, mutation without side effects, validation, merged trees."""

from __future__ import annotations

import json

import pytest

from lamina.cache import Cache
from lamina.errors import ImageError
from lamina.oci import OCI_LAYER_GZIP, FileLayer, Image, sha256_digest
from lamina.oci.mutate import append_layer, with_config
from lamina.oci.rootfs import LayeredTree
from lamina.oci.validate import validate
from lamina.tar import TarEntry, write_layer

BASE_CONFIG = {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}


def _layer(cache, entries):
    blob = write_layer(entries, cache.blobs)
    return FileLayer(cache.blobs.path(blob.digest), OCI_LAYER_GZIP, blob.digest, blob.diff_id, blob.size)


def test_append_layer_returns_a_new_valid_image(tmp_path):
    cache = Cache(tmp_path)
    base = Image(BASE_CONFIG)
    layer = _layer(cache, [TarEntry.file("a", b"1")])
    image = append_layer(base, layer, created_by="test")
    validate(image)
    assert base.layers == () and base.config["rootfs"]["diff_ids"] == []
    assert image.config["rootfs"]["diff_ids"] == [layer.diff_id]
    manifest = json.loads(image.manifest_bytes)
    assert manifest["layers"][0]["digest"] == layer.digest
    assert manifest["config"]["digest"] == sha256_digest(image.config_bytes)
    assert image.digest == sha256_digest(image.manifest_bytes)


def test_config_change_changes_digest_only_through_config(tmp_path):
    cache = Cache(tmp_path)
    image = append_layer(Image(BASE_CONFIG), _layer(cache, [TarEntry.file("a", b"1")]), created_by="t")
    changed = with_config(image, {"Env": ["A=1"]})
    assert changed.digest != image.digest
    assert changed.manifest["layers"] == image.manifest["layers"]
    assert with_config(image, {"Env": ["A=1"]}).digest == changed.digest


def test_validate_catches_diff_id_mismatch(tmp_path):
    cache = Cache(tmp_path)
    layer = _layer(cache, [TarEntry.file("a", b"1")])
    broken = Image({**BASE_CONFIG, "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]}}, (layer,))
    with pytest.raises(ImageError, match="diff_id"):
        validate(broken)


def test_history_is_padded_for_bases_without_history(tmp_path):
    cache = Cache(tmp_path)
    base_layer = _layer(cache, [TarEntry.file("base", b"b")])
    base = Image({**BASE_CONFIG, "rootfs": {"type": "layers", "diff_ids": [base_layer.diff_id]}}, (base_layer,))
    image = append_layer(base, _layer(cache, [TarEntry.file("app", b"a")]), created_by="app")
    validate(image)
    assert [h["created_by"] for h in image.config["history"]] == ["base layer", "app"]


def test_layered_tree_merges_layers_with_whiteouts_and_links(tmp_path):
    cache = Cache(tmp_path)
    lower = _layer(
        cache,
        [
            TarEntry.file("/usr/bin/python3.11", b"ELF"),
            TarEntry.symlink("/usr/bin/python3", "python3.11"),
            TarEntry.file("/etc/old", b"old"),
            TarEntry.file("/opt/dir/a", b"a"),
            TarEntry.symlink("/lib", "usr/lib"),
            TarEntry.file("/usr/lib/libc.so.6", b"libc"),
        ],
    )
    upper = _layer(
        cache,
        [
            TarEntry.file("/etc/.wh.old", b""),
            TarEntry.file("/opt/dir/.wh..wh..opq", b""),
            TarEntry.file("/opt/dir/b", b"b"),
        ],
    )
    tree = LayeredTree((lower, upper))
    assert tree.read("/usr/bin/python3") == b"ELF"
    assert tree.readlink("/usr/bin/python3") == "python3.11"
    assert tree.read("/lib/libc.so.6") == b"libc"
    assert tree.read("/etc/old") is None
    assert tree.listdir("/opt/dir") == ["b"]
    assert tree.listdir("/usr/bin") == ["python3", "python3.11"]
    assert tree.read("/missing") is None and tree.listdir("/etc/old") is None


def test_an_image_unpacks_into_a_directory_with_whiteouts_applied(tmp_path):
    from lamina.debian.rootfs import alternatives
    from lamina.oci.rootfs import extract

    cache = Cache(tmp_path / "cache")
    lower = _layer(cache, [
        TarEntry.dir("etc"), TarEntry.file("etc/gone", b"x"), TarEntry.dir("opt/old"), TarEntry.file("opt/old/a", b"a"),
        TarEntry.dir("usr/bin"), TarEntry.file("usr/bin/gcc", b"\x7fELF", executable=True),
    ])  # fmt: skip
    upper = _layer(cache, [
        TarEntry.file("etc/.wh.gone", b""), TarEntry.file("opt/old/.wh..wh..opq", b""), TarEntry.file("opt/old/b", b"b"),
        *alternatives({"usr/bin/gcc"}),
    ])  # fmt: skip
    image = append_layer(append_layer(Image(BASE_CONFIG), lower, created_by="t"), upper, created_by="t")
    root = tmp_path / "root"
    root.mkdir()
    extract(image, root)
    assert not (root / "etc/gone").exists() and sorted(p.name for p in (root / "opt/old").iterdir()) == ["b"]
    assert (root / "usr/bin/cc").resolve() != root / "usr/bin/gcc"  # absolute links point inside the sandbox's root
    assert (root / "usr/bin/cc").readlink().as_posix() == "/etc/alternatives/cc"
    assert (root / "etc/alternatives/cc").readlink().as_posix() == "/usr/bin/gcc"
    assert (root / "usr/bin/gcc").stat().st_mode & 0o111


def test_unpacking_never_writes_through_a_link_out_of_the_directory(tmp_path):
    from lamina.oci.rootfs import extract

    cache = Cache(tmp_path / "cache")
    outside = tmp_path / "outside"
    outside.mkdir()
    hostile = _layer(cache, [TarEntry.symlink("evil", str(outside)), TarEntry.file("evil/planted", b"x")])
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(ImageError, match="cannot unpack layer"):
        extract(append_layer(Image(BASE_CONFIG), hostile, created_by="t"), root)
    assert list(outside.iterdir()) == []

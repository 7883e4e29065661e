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


def _merged_image(cache):
    lower = _layer(
        cache,
        [
            TarEntry.file("/usr/bin/python3.11", b"ELF"),
            TarEntry.symlink("/usr/bin/python3", "python3.11"),
            TarEntry.file("/etc/old", b"old"),
            TarEntry.file("/opt/dir/a", b"a"),
            TarEntry.symlink("/lib", "usr/lib"),
            TarEntry.file("/usr/lib/libc.so.6", b"libc"),
            TarEntry.symlink("/usr/lib/libc.so", "/lib/libc.so.6"),
            TarEntry.symlink("/loop", "loop"),
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
    return append_layer(append_layer(Image(BASE_CONFIG), lower, created_by="t"), upper, created_by="t")


def _layered(tmp_path, image):
    return LayeredTree(image.layers)


def _unpacked(tmp_path, image):
    from lamina.oci.rootfs import DirectoryTree, extract

    root = tmp_path / "root"
    root.mkdir()
    extract(image, root)
    return DirectoryTree(root)


@pytest.mark.parametrize("view", [_layered, _unpacked], ids=["layers", "directory"])
def test_a_tree_of_an_image_merges_layers_with_whiteouts_and_resolves_links_inside_it(tmp_path, view):
    tree = view(tmp_path, _merged_image(Cache(tmp_path / "cache")))
    assert tree.read("/usr/bin/python3") == b"ELF"
    assert tree.readlink("/usr/bin/python3") == "python3.11"
    assert tree.read("/lib/libc.so.6") == b"libc"
    assert tree.read("/usr/lib/libc.so") == b"libc"  # an absolute link resolves in the image, not on the host
    assert tree.readlink("/lib/libc.so") == "/lib/libc.so.6"
    assert tree.read("/etc/old") is None
    assert tree.listdir("/opt/dir") == ["b"]
    assert tree.listdir("/usr/bin") == ["python3", "python3.11"]
    assert tree.listdir("/lib") == ["libc.so", "libc.so.6"]
    assert tree.read("/missing") is None and tree.listdir("/etc/old") is None
    assert tree.read("/loop") is None and tree.listdir("/loop") is None  # a link to itself ends


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


def test_a_layer_written_through_extracting_unpacks_as_it_is_compressed(tmp_path):
    """The uncompressed stream ``write_layer`` tees into ``extracting`` gives the tree that
    unpacking the finished blob gives."""
    from lamina.cache.trees import manifest
    from lamina.oci.rootfs import extract, extracting

    cache = Cache(tmp_path / "cache")
    entries = [TarEntry.file(f"usr/lib/m{i}.py", bytes([i % 251]) * (i * 997)) for i in range(200)]
    entries += [TarEntry.symlink("lib", "usr/lib"), TarEntry.file("usr/bin/tool", b"\x7fELF", executable=True)]
    streamed = tmp_path / "streamed"
    streamed.mkdir()
    with extracting(streamed, "test") as also:
        blob = write_layer(entries, cache.blobs, 2, also)
    finished = tmp_path / "finished"
    finished.mkdir()
    extract(append_layer(Image(BASE_CONFIG), blob.layer(cache.blobs), created_by="t"), finished)
    assert manifest(streamed) == manifest(finished) and len(manifest(streamed)) == 202


def test_extracting_raises_the_unpacking_error_and_the_writer_error_without_hanging(tmp_path):
    from lamina.oci.rootfs import extracting

    outside = tmp_path / "outside"
    outside.mkdir()
    cache = Cache(tmp_path / "cache")
    hostile = [TarEntry.symlink("evil", str(outside)), TarEntry.file("evil/planted", b"x" * (4 << 20))]
    hostile += [TarEntry.file(f"later/{i}", b"y" * 65536) for i in range(64)]  # more than the pipe holds
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(ImageError, match="cannot unpack layer test"), extracting(root, "test") as also:
        write_layer(hostile, cache.blobs, 1, also)
    assert list(outside.iterdir()) == []

    class Broken(RuntimeError):
        pass

    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(Broken), extracting(other, "test") as also:
        also.write(b"\0" * 1024)
        raise Broken

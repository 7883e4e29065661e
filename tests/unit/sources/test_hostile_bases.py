"""Bases that are malformed or hostile are read correctly or refused clearly: whiteouts at the
root of a layer, paths thousands of directories deep, docker-archives whose members are
missing, links or outside the archive, OCI layouts whose digests are paths."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from lamina.cache import Cache
from lamina.errors import ImageError
from lamina.oci import OCI_LAYER_GZIP, OCI_LAYER_TAR, FileLayer, sha256_digest
from lamina.oci.rootfs import LayeredTree
from lamina.sources import docker_archive, oci_layout
from lamina.tar import TarEntry, write_layer


def _layer(cache, entries):
    blob = write_layer(entries, cache.blobs)
    return FileLayer(cache.blobs.path(blob.digest), OCI_LAYER_GZIP, blob.digest, blob.diff_id, blob.size)


def _raw_layer(cache, members: list[tuple[str, bytes | None]]):
    """A layer tar with names exactly as given (``None`` content: a directory)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            else:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    digest = cache.blobs.put_bytes(buffer.getvalue())
    return FileLayer(cache.blobs.path(digest), OCI_LAYER_TAR, digest, digest, len(buffer.getvalue()))


def test_whiteouts_at_the_root_of_a_layer_are_honoured(tmp_path):
    cache = Cache(tmp_path)
    lower = _layer(cache, [TarEntry.file("usr/bin/python3.11", b"x"), TarEntry.file("etc/a", b"a"),
                           TarEntry.file(".bashrc", b"rc"), TarEntry.file("opt/keep", b"k")])  # fmt: skip
    whiteout = _raw_layer(cache, [("./.wh.usr", b""), ("etc/.wh..wh..opq", b""), ("etc/b", b"b")])
    tree = LayeredTree((lower, whiteout))
    assert tree.listdir("/") == [".bashrc", "etc", "opt"]  # a dotfile at the root keeps its name
    assert tree.read("/usr/bin/python3.11") is None
    assert tree.listdir("/etc") == ["b"]  # the opaque marker hid the lower layer's entries, not its own
    opaque_root = _raw_layer(cache, [(".wh..wh..opq", b""), ("new", b"n")])
    assert LayeredTree((lower, opaque_root)).listdir("/") == ["new"]


def test_paths_thousands_of_directories_deep_are_read(tmp_path):
    cache = Cache(tmp_path)
    deep = "/".join(["d"] * 3000)
    layer = _raw_layer(cache, [(f"{deep}/file", b"bottom"), ("usr/bin/x", b"x")])
    tree = LayeredTree((layer, _raw_layer(cache, [(".wh.d", b"")])))
    assert tree.listdir("/") == ["usr"]
    assert LayeredTree((layer,)).read(f"/{deep}/file") == b"bottom"
    write_layer([TarEntry.file(f"{deep}/file", b"bottom")], cache.blobs)  # and written


def _archive(path, members: dict[str, bytes | tuple[str, str]], manifest: object):
    with tarfile.open(path, "w") as archive:
        for name, data in {"manifest.json": json.dumps(manifest).encode(), **members}.items():
            info = tarfile.TarInfo(name)
            if isinstance(data, tuple):
                info.type, info.linkname = (tarfile.SYMTYPE if data[0] == "sym" else tarfile.LNKTYPE), data[1]
                archive.addfile(info)
            else:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize(
    ("members", "layers", "message"),
    [
        ({}, ["layer.tar"], "layer.tar is listed in manifest.json but missing"),
        ({"layer.tar": ("sym", "/etc/passwd")}, ["layer.tar"], "is a link to '/etc/passwd', outside the archive"),
        ({"layer.tar": ("sym", "../../x")}, ["layer.tar"], "outside the archive"),
        (
            {"a/layer.tar": ("sym", "../b")},
            ["a/layer.tar"],
            r"a/layer.tar \(a link to b\) is listed in manifest.json but missing",
        ),
        ({}, ["../../etc/passwd"], "not a path inside the archive"),
        ({}, ["/etc/passwd"], "not a path inside the archive"),
        ({"layer.tar": ("sym", "layer.tar")}, ["layer.tar"], "a chain of more than 8 links"),
    ],
)
def test_docker_archives_with_missing_linked_or_escaping_members_are_refused(tmp_path, members, layers, message):
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"diff_ids": []}}).encode()
    path = tmp_path / "base.tar"
    _archive(path, {"config.json": config, **members}, [{"Config": "config.json", "Layers": layers}])
    with pytest.raises(ImageError, match=message):
        docker_archive.read(path, Cache(tmp_path / "cache"))
    assert list((tmp_path / "cache" / "blobs" / "sha256").glob("*")) == []


def test_a_docker_archive_layer_reached_through_a_link_inside_it_is_read(tmp_path):
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as archive:
        info = tarfile.TarInfo("hello")
        info.size = 2
        archive.addfile(info, io.BytesIO(b"hi"))
    diff_id = sha256_digest(layer.getvalue())
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"diff_ids": [diff_id]}}).encode()
    path = tmp_path / "base.tar"
    members = {"config.json": config, f"blobs/sha256/{diff_id[7:]}": layer.getvalue(),
               "legacy/layer.tar": ("sym", f"../blobs/sha256/{diff_id[7:]}")}  # fmt: skip
    _archive(path, members, [{"Config": "config.json", "Layers": ["legacy/layer.tar"]}])
    image = docker_archive.read(path, Cache(tmp_path / "cache"))
    assert [layer.diff_id for layer in image.layers] == [diff_id]
    (tmp_path / "junk.tar").write_bytes(b"not a tar")
    with pytest.raises(ImageError, match="cannot read docker-archive"):
        docker_archive.read(tmp_path / "junk.tar", Cache(tmp_path / "cache"))


def test_an_oci_layout_whose_digests_are_paths_is_refused(tmp_path):
    (tmp_path / "blobs" / "sha256").mkdir(parents=True)
    (tmp_path / "secret").write_text("{}")
    descriptor = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:../../secret", "size": 2}
    (tmp_path / "index.json").write_text(json.dumps({"manifests": [descriptor]}))
    with pytest.raises(ImageError, match="is not an OCI image index"):
        oci_layout.read(tmp_path, None)
    (tmp_path / "index.json").write_bytes(b"\xff\xfe")
    with pytest.raises(ImageError, match="cannot be read as JSON"):
        oci_layout.read(tmp_path, None)

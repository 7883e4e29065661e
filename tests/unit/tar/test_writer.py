"""Layers are byte-for-byte reproducible and refuse entries that escape the root."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile

import pytest

from lamina.cache import Cache
from lamina.errors import ImageError
from lamina.tar import TarEntry, write_layer
from lamina.tar.writer import MTIME


def _entries(tmp_path):
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(1000))
    os.chmod(source, 0o600)
    return [
        TarEntry.file("/app/pkg/mod.py", b"print('hi')\n"),
        TarEntry.from_path("/app/data/big.bin", source),
        TarEntry.symlink("/opt/venv/bin/python", "/usr/bin/python3.11"),
        TarEntry.file("/opt/venv/bin/tool", b"#!/opt/venv/bin/python\n", executable=True),
    ]


def test_same_entries_in_any_order_give_same_digests(tmp_path):
    cache = Cache(tmp_path / "cache")
    entries = _entries(tmp_path)
    first = write_layer(entries, cache.blobs)
    second = write_layer(list(reversed(entries)), cache.blobs)
    assert first == second
    blob = cache.blobs.path(first.digest).read_bytes()
    assert first.size == len(blob)
    assert first.diff_id == "sha256:" + hashlib.sha256(gzip.decompress(blob)).hexdigest()


def test_members_are_normalized(tmp_path):
    cache = Cache(tmp_path / "cache")
    layer = write_layer(_entries(tmp_path), cache.blobs)
    with tarfile.open(cache.blobs.path(layer.digest)) as archive:
        members = archive.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names)
    assert "app" in names and "opt/venv/bin" in names  # parents implied
    assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in members} == {(0, 0, "", "", MTIME)}
    modes = {m.name: m.mode for m in members}
    assert modes["app/data/big.bin"] == 0o644  # host mode 0600 does not leak
    assert modes["opt/venv/bin/tool"] == 0o755


def test_gzip_header_has_no_name_or_time(tmp_path):
    cache = Cache(tmp_path / "cache")
    layer = write_layer([TarEntry.file("a", b"x")], cache.blobs)
    header = cache.blobs.path(layer.digest).read_bytes()[:10]
    assert header[4:8] == b"\0\0\0\0"  # mtime
    assert header[3] & 0x08 == 0  # FNAME flag


@pytest.mark.parametrize("path", ["../etc/passwd", "/app/../../x", "/"])
def test_escaping_entries_are_refused(path):
    with pytest.raises(ImageError):
        TarEntry.file(path, b"")


def test_conflicting_duplicates_are_refused(tmp_path):
    cache = Cache(tmp_path)
    with pytest.raises(ImageError, match="two different"):
        write_layer([TarEntry.file("a", b"1"), TarEntry.file("a", b"2")], cache.blobs)
    assert [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()] == []  # no blob, not even half of one


def test_layer_extracts_to_what_was_written(tmp_path):
    cache = Cache(tmp_path)
    layer = write_layer([TarEntry.file("/etc/motd", b"hello")], cache.blobs)
    with tarfile.open(fileobj=io.BytesIO(cache.blobs.path(layer.digest).read_bytes())) as archive:
        assert archive.extractfile("etc/motd").read() == b"hello"


def test_hard_links_point_at_the_first_path_and_owners_are_kept(tmp_path):
    cache = Cache(tmp_path / "cache")
    entries = [
        TarEntry("usr/bin/zz", "file", 0o4755, data=b"binary", uid=0, gid=42),
        TarEntry.hardlink("usr/bin/aa", "usr/bin/zz", 0o4755),  # sorts before the file it links
        TarEntry("home/nonroot", "dir", 0o700, uid=65532, gid=65532),
    ]
    layer = write_layer(entries, cache.blobs)
    with tarfile.open(cache.blobs.path(layer.digest)) as archive:
        members = {m.name.rstrip("/"): m for m in archive.getmembers()}
        order = [m.name.rstrip("/") for m in archive.getmembers()]
        assert members["usr/bin/aa"].isfile() and archive.extractfile("usr/bin/aa").read() == b"binary"
        assert members["usr/bin/zz"].islnk() and members["usr/bin/zz"].linkname == "usr/bin/aa"
    assert order.index("usr/bin/aa") < order.index("usr/bin/zz")
    assert (members["usr/bin/aa"].mode, members["usr/bin/aa"].gid) == (0o4755, 42)
    assert (members["home/nonroot"].uid, members["home/nonroot"].mode) == (65532, 0o700)


def test_a_hard_link_to_nothing_is_refused(tmp_path):
    with pytest.raises(ImageError, match="hard link to /usr/bin/missing"):
        write_layer([TarEntry.hardlink("usr/bin/a", "usr/bin/missing", 0o755)], Cache(tmp_path).blobs)

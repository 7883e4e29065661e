"""The blob store verifies while writing and never leaves partial entries."""

from __future__ import annotations

import hashlib

import pytest

from lamina.atomic import owner
from lamina.cache import LAYER_BLOB, Cache, action_key
from lamina.errors import DamagedBlobError, FetchError


def test_put_bytes_is_addressed_by_sha256(tmp_path):
    cache = Cache(tmp_path)
    digest = cache.blobs.put_bytes(b"hello")
    assert digest == "sha256:" + hashlib.sha256(b"hello").hexdigest()
    assert cache.blobs.path(digest).read_bytes() == b"hello"
    assert cache.blobs.has(digest)


def test_mismatched_expected_digest_leaves_nothing(tmp_path):
    cache = Cache(tmp_path)
    wrong = "sha256:" + hashlib.sha256(b"other").hexdigest()
    with pytest.raises(FetchError, match="expected"), cache.blobs.writer(expected=wrong) as blob:
        blob.write(b"hello")
    assert not cache.blobs.has(wrong)
    assert list((tmp_path / "blobs" / "sha256").iterdir()) == []


def test_failure_inside_writer_leaves_nothing(tmp_path):
    cache = Cache(tmp_path)
    with pytest.raises(RuntimeError), cache.blobs.writer() as blob:
        blob.write(b"partial")
        raise RuntimeError("network dropped")
    assert list((tmp_path / "blobs" / "sha256").iterdir()) == []


def test_action_cache_round_trip_and_key_stability(tmp_path):
    cache = Cache(tmp_path)
    key = action_key("layer", 1, {"b": [2, 1], "a": "x"})
    assert key == action_key("layer", 1, {"a": "x", "b": [2, 1]})
    assert key != action_key("layer", 2, {"a": "x", "b": [2, 1]})
    assert cache.actions.get(key) is None
    cache.actions.put(key, {"digest": "sha256:00"})
    assert cache.actions.get(key) == {"digest": "sha256:00"}
    assert list(cache.scratch.directory().iterdir()) == []


def test_bad_digest_is_refused(tmp_path):
    with pytest.raises(ValueError):
        Cache(tmp_path).blobs.path("md5:abc")


def _flip_a_byte(path):
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_damaged_blob_is_noticed_and_removed(tmp_path):
    cache = Cache(tmp_path)
    digest = cache.blobs.put_bytes(b"layer bytes " * 100)
    assert cache.blobs.intact(digest)
    _flip_a_byte(cache.blobs.path(digest))
    with pytest.raises(
        DamagedBlobError, match=f"{digest} .* was damaged: its bytes hash to sha256:.*run the command again"
    ):
        cache.blobs.read_bytes(digest)
    assert not cache.blobs.has(digest)
    digest = cache.blobs.put_bytes(b"again")
    _flip_a_byte(cache.blobs.path(digest))
    assert not cache.blobs.intact(digest) and not cache.blobs.has(digest)


def test_writes_go_through_this_process_scratch_directory(tmp_path):
    cache = Cache(tmp_path)
    with cache.blobs.writer() as blob:
        blob.write(b"in flight")
        (in_flight,) = cache.scratch.directory().iterdir()
        assert owner() in in_flight.name
        assert list((tmp_path / "blobs" / "sha256").iterdir()) == []
    assert list(cache.scratch.directory().iterdir()) == []


def test_entries_of_the_wrong_shape_are_misses_local_or_remote(tmp_path):
    cache = Cache(tmp_path)
    key = action_key("layer", 1, {})
    good = {"digest": "sha256:" + "a" * 64, "diff_id": "sha256:" + "b" * 64, "size": 3}
    for bad in ([], "x", {"digest": "sha256:../../etc/passwd", "diff_id": good["diff_id"], "size": 3},
                {**good, "size": "3"}, {**good, "size": True}, {"digest": good["digest"]}):  # fmt: skip
        cache.actions.put(key, bad)
        assert cache.actions.get(key, LAYER_BLOB) is None
    (tmp_path / "actions" / key[:2] / f"{key}.json").write_bytes(b"\xff{not json")
    assert cache.actions.get(key, LAYER_BLOB) is None

    class Remote:
        def __init__(self, value):
            self.value = value

        def get(self, key):
            return self.value

    for value, expected in (({"size": []}, None), (good, good)):
        cache.actions.remote = Remote(value)
        assert cache.actions.get(key, LAYER_BLOB) == expected
    cache.actions.put(key, {**good, "extra": "fine"}, share=False)
    assert cache.actions.get(key, LAYER_BLOB)["extra"] == "fine"


def test_the_ledger_notices_any_change_to_an_output(tmp_path):
    cache = Cache(tmp_path / "cache")
    output = tmp_path / "dist" / "app.tar"
    output.parent.mkdir()
    output.write_bytes(b"image v1")
    record = cache.outputs.record(output)
    record.remember(output, "sha256:v1")
    record.save()
    assert cache.outputs.record(output).intact(output, "sha256:v1")
    assert not cache.outputs.record(output).intact(output, "sha256:v2")
    with open(output, "r+b") as handle:  # same size, same content even: a write changes its identity
        handle.write(b"image v1")
    assert not cache.outputs.record(output).intact(output, "sha256:v1")
    assert not cache.outputs.record(tmp_path / "elsewhere.tar").intact(output, "sha256:v1")

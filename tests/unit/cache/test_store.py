"""The blob store verifies while writing and never leaves partial entries."""

from __future__ import annotations

import hashlib

import pytest

from lamina.cache import Cache, action_key
from lamina.errors import FetchError


def test_put_bytes_is_addressed_by_sha256(tmp_path):
    cache = Cache(tmp_path)
    digest = cache.blobs.put_bytes(b"hello")
    assert digest == "sha256:" + hashlib.sha256(b"hello").hexdigest()
    assert cache.blobs.path(digest).read_bytes() == b"hello"
    assert cache.blobs.has(digest)


def test_mismatched_expected_digest_leaves_nothing(tmp_path):
    cache = Cache(tmp_path)
    wrong = "sha256:" + hashlib.sha256(b"other").hexdigest()
    with pytest.raises(FetchError, match="expected"):
        with cache.blobs.writer(expected=wrong) as blob:
            blob.write(b"hello")
    assert not cache.blobs.has(wrong)
    assert list((tmp_path / "blobs" / "sha256").iterdir()) == []


def test_failure_inside_writer_leaves_nothing(tmp_path):
    cache = Cache(tmp_path)
    with pytest.raises(RuntimeError):
        with cache.blobs.writer() as blob:
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


def test_bad_digest_is_refused(tmp_path):
    with pytest.raises(ValueError):
        Cache(tmp_path).blobs.path("md5:abc")

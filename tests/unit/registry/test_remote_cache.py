"""Entries of the shared cache that are not what lamina writes are misses, never crashes."""

from __future__ import annotations

import hashlib
import json

import pytest
from fake_registry import FakeRegistry

from lamina.cache import LAYER_BLOB, Cache, action_key
from lamina.registry.client import RegistryClient
from lamina.registry.remote_cache import RegistryCache
from lamina.transport import Transport


@pytest.fixture
def fake():
    server = FakeRegistry().start()
    yield server
    server.stop()


def _put(fake, key: str, manifest: object, blobs: dict[str, bytes] = {}) -> None:  # noqa: B006 - read only
    for data in blobs.values():
        fake.blobs["sha256:" + hashlib.sha256(data).hexdigest()] = data
    fake.manifests[("team/cache", key)] = (json.dumps(manifest).encode(), "application/vnd.oci.image.manifest.v1+json")


def test_misshapen_remote_entries_are_misses(fake, tmp_path):
    cache = Cache(tmp_path)
    cache.actions.remote = RegistryCache(RegistryClient(fake.address, Transport()), "team/cache", cache.blobs)
    layer = {"digest": "sha256:" + "a" * 64, "diff_id": "sha256:" + "b" * 64, "size": 1}
    config = json.dumps(layer).encode()
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    keys = [action_key("test", 1, n) for n in range(5)]
    _put(fake, keys[0], {"config": {"digest": "sha256:../../etc"}, "layers": []})
    _put(fake, keys[1], ["not", "a", "manifest"])
    not_json = b"\xff not json"
    _put(fake, keys[2], {"config": {"digest": "sha256:" + hashlib.sha256(not_json).hexdigest()}, "layers": []},
         {"config": not_json})  # fmt: skip
    wrong_shape = json.dumps({"digest": 7}).encode()
    _put(fake, keys[3], {"config": {"digest": "sha256:" + hashlib.sha256(wrong_shape).hexdigest()}, "layers": []},
         {"config": wrong_shape})  # fmt: skip
    _put(fake, keys[4], {"config": {"digest": config_digest}, "layers": [{"digest": layer["digest"]}]}, {"c": config})
    assert [cache.actions.get(key, LAYER_BLOB) for key in keys] == [None, None, None, None, layer]

"""A registry that refuses a manifest because it briefly lost one of its blobs (a distribution
registry can, while another push of the same blob lands) gets the blob again and the manifest
once more; one that keeps refusing fails the push with the registry's words."""

from __future__ import annotations

import pytest
from fake_registry import FakeRegistry

from lamina.cache import Cache
from lamina.errors import RegistryError
from lamina.oci import Image
from lamina.oci.mutate import append_layer
from lamina.registry.client import RegistryClient
from lamina.registry.reference import parse_reference
from lamina.sinks.registry import push
from lamina.tar import TarEntry, write_layer
from lamina.transport import Transport


@pytest.fixture
def fake():
    server = FakeRegistry().start()
    yield server
    server.stop()


def _image(tmp_path) -> Image:
    cache = Cache(tmp_path)
    layer = write_layer([TarEntry.file("app/main.py", b"print('hi')\n")], cache.blobs).layer(cache.blobs)
    return append_layer(Image({"architecture": "amd64", "os": "linux"}), layer, created_by="test")


def test_a_blob_the_registry_lost_is_pushed_again_and_the_manifest_retried(fake, tmp_path):
    image = _image(tmp_path)
    fake.lose_blobs = 1
    client = RegistryClient(fake.address, Transport())
    report = push(image, parse_reference(f"{fake.address}/team/app"), ["v1"], client)
    assert report.digest == image.digest and fake.lose_blobs == 0
    assert image.layers[0].digest in fake.blobs and ("team/app", "v1") in fake.manifests
    assert image.layers[0].digest in report.uploaded  # uploaded again after the registry lost it


def test_a_registry_that_keeps_losing_blobs_fails_the_push(fake, tmp_path):
    fake.lose_blobs = 5
    client = RegistryClient(fake.address, Transport())
    with pytest.raises(RegistryError, match="blob unknown to registry"):
        push(_image(tmp_path), parse_reference(f"{fake.address}/team/app"), ["v1"], client)
    assert ("team/app", "v1") not in fake.manifests

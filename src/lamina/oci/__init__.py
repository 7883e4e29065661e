"""The image model: read-only, lazy values (stdlib only).

An ``Image`` is a config plus an ordered tuple of ``Layer``s; its manifest and digest
are derived on demand. Changes make new values (``mutate``); data flows
source -> mutate -> sink, as in go-containerregistry's ``pkg/v1``.
"""

from lamina.oci.image import Image
from lamina.oci.layer import FileLayer, Layer
from lamina.oci.model import (
    DOCKER_CONFIG,
    DOCKER_LAYER_GZIP,
    DOCKER_LAYER_TAR,
    DOCKER_MANIFEST,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER_GZIP,
    OCI_LAYER_TAR,
    OCI_MANIFEST,
    Descriptor,
    Platform,
    canonical_json,
    sha256_digest,
)

__all__ = [
    "DOCKER_CONFIG",
    "DOCKER_LAYER_GZIP",
    "DOCKER_LAYER_TAR",
    "DOCKER_MANIFEST",
    "OCI_CONFIG",
    "OCI_INDEX",
    "OCI_LAYER_GZIP",
    "OCI_LAYER_TAR",
    "OCI_MANIFEST",
    "Descriptor",
    "FileLayer",
    "Image",
    "Layer",
    "Platform",
    "canonical_json",
    "sha256_digest",
]

"""Check an image is self-consistent before it is written anywhere."""

from __future__ import annotations

from lamina.errors import ImageError
from lamina.oci.image import Image
from lamina.oci.model import DOCKER_LAYER_GZIP, DOCKER_LAYER_TAR, OCI_LAYER_GZIP, OCI_LAYER_TAR

_LAYER_TYPES = {OCI_LAYER_GZIP, OCI_LAYER_TAR, DOCKER_LAYER_GZIP, DOCKER_LAYER_TAR}


def validate(image: Image) -> None:
    """Raise ``ImageError`` if layers, diff_ids and config disagree."""
    diff_ids = list((image.config.get("rootfs") or {}).get("diff_ids") or [])
    if len(diff_ids) != len(image.layers):
        raise ImageError(f"image config lists {len(diff_ids)} diff_ids for {len(image.layers)} layers")
    for position, (layer, diff_id) in enumerate(zip(image.layers, diff_ids)):
        if layer.diff_id != diff_id:
            raise ImageError(f"layer {position} has diff_id {layer.diff_id} but the config says {diff_id}")
        if layer.media_type not in _LAYER_TYPES:
            raise ImageError(f"layer {position} has unsupported media type {layer.media_type}")
        if layer.media_type in (OCI_LAYER_TAR, DOCKER_LAYER_TAR) and layer.digest != layer.diff_id:
            raise ImageError(f"uncompressed layer {position} has digest {layer.digest} != diff_id {layer.diff_id}")
    for key in ("architecture", "os"):
        if not image.config.get(key):
            raise ImageError(f"image config has no {key!r}")
    history = [h for h in image.config.get("history") or [] if not h.get("empty_layer")]
    if history and len(history) != len(image.layers):
        raise ImageError(f"image history has {len(history)} non-empty entries for {len(image.layers)} layers")

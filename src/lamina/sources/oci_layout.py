"""Read an image from an OCI image layout directory, blobs referenced in place.

Everything read is checked: JSON blobs against their digests, descriptors for their
shape, and a digest must be one before it becomes a file name (``sha256:../..`` is not).
Layer bytes are checked by whichever sink copies them.
"""

from __future__ import annotations

import json
from pathlib import Path

from lamina.cache import fits, is_digest
from lamina.errors import ImageError
from lamina.oci import OCI_INDEX, FileLayer, Image, Platform, sha256_digest
from lamina.oci.model import json_object

REF_NAME = "org.opencontainers.image.ref.name"
DEFAULT_PLATFORM = Platform("linux", "amd64")
_DESCRIPTOR = {"mediaType": str, "digest": is_digest, "size": int}


def _path(root: Path, digest: object) -> Path:
    if not is_digest(digest):
        raise ImageError(f"OCI layout {root} names {digest!r}, which is not a sha256 digest")
    return root / "blobs" / "sha256" / str(digest).partition(":")[2]


def _json(root: Path, digest: str, shape) -> dict:
    try:
        data = _path(root, digest).read_bytes()
    except FileNotFoundError:
        raise ImageError(f"OCI layout {root} is missing blob {digest}") from None
    if sha256_digest(data) != digest:
        raise ImageError(f"OCI layout {root}: blob {digest} does not match its digest")
    value = json_object(data, f"OCI layout {root}: blob {digest}")
    if not fits(value, shape):
        raise ImageError(f"OCI layout {root}: blob {digest} is not the manifest, index or config expected there")
    return value


def _pick(root: Path, manifests: list[dict], tag: str | None) -> dict:
    if tag is not None:
        named = [m for m in manifests if (m.get("annotations") or {}).get(REF_NAME) == tag]
        if not named:
            raise ImageError(f"OCI layout {root} has no image tagged {tag!r}")
        return named[0]
    if len(manifests) != 1:
        raise ImageError(f"OCI layout {root} holds {len(manifests)} images; name one as oci-layout:PATH:TAG")
    return manifests[0]


def read(root: Path, tag: str | None) -> Image:
    """The image tagged ``tag`` (or the only image) in the layout at ``root``.

    An entry that is itself an index resolves to its linux/amd64 image.
    """
    try:
        index = json.loads((root / "index.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ImageError(f"{root} is not an OCI image layout: it has no index.json") from None
    except (OSError, ValueError) as err:
        raise ImageError(f"{root}/index.json cannot be read as JSON ({err})") from None
    if not fits(index, {"manifests": [_DESCRIPTOR]}):
        raise ImageError(f"{root}/index.json is not an OCI image index")
    descriptor = _pick(root, index["manifests"], tag)
    for _ in range(4):  # an index, perhaps of indexes, down to one image
        if descriptor["mediaType"] != OCI_INDEX:
            break
        nested = _json(root, descriptor["digest"], {"manifests": [{**_DESCRIPTOR, "platform": dict}]})["manifests"]
        matching = [
            m for m in nested if (m["platform"].get("os"), m["platform"].get("architecture")) == ("linux", "amd64")
        ]
        if not matching:
            raise ImageError(f"OCI layout {root}: no {DEFAULT_PLATFORM} image in index {descriptor['digest']}")
        descriptor = matching[0]
    manifest = _json(root, descriptor["digest"], {"config": _DESCRIPTOR, "layers": [_DESCRIPTOR]})
    config = _json(root, manifest["config"]["digest"], {"rootfs": {"diff_ids": [is_digest]}})
    diff_ids = config["rootfs"]["diff_ids"]
    if len(diff_ids) != len(manifest["layers"]):
        raise ImageError(
            f"OCI layout {root}: the config lists {len(diff_ids)} layers, the manifest {len(manifest['layers'])}"
        )
    layers = tuple(
        FileLayer(_path(root, layer["digest"]), layer["mediaType"], layer["digest"], diff_id, layer["size"])
        for layer, diff_id in zip(manifest["layers"], diff_ids, strict=True)
    )
    return Image(config, layers, manifest.get("annotations") or {})

"""Read an image from an OCI image layout directory, blobs referenced in place."""

from __future__ import annotations

import json
from pathlib import Path

from lamina.errors import ImageError
from lamina.oci import OCI_INDEX, FileLayer, Image, Platform, sha256_digest

REF_NAME = "org.opencontainers.image.ref.name"
DEFAULT_PLATFORM = Platform("linux", "amd64")


def _blob(root: Path, digest: str) -> bytes:
    algorithm, _, hexdigest = digest.partition(":")
    try:
        data = (root / "blobs" / algorithm / hexdigest).read_bytes()
    except FileNotFoundError:
        raise ImageError(f"OCI layout {root} is missing blob {digest}") from None
    if sha256_digest(data) != digest:
        raise ImageError(f"OCI layout {root}: blob {digest} does not match its digest")
    return data


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
        index = json.loads((root / "index.json").read_text())
    except FileNotFoundError:
        raise ImageError(f"{root} is not an OCI image layout: it has no index.json") from None
    descriptor = _pick(root, index.get("manifests") or [], tag)
    while descriptor["mediaType"] == OCI_INDEX:
        nested = json.loads(_blob(root, descriptor["digest"]))["manifests"]
        matching = [
            m for m in nested if Platform(**{k: m["platform"][k] for k in ("os", "architecture")}) == DEFAULT_PLATFORM
        ]
        if not matching:
            raise ImageError(f"OCI layout {root}: no {DEFAULT_PLATFORM} image in index {descriptor['digest']}")
        descriptor = matching[0]
    manifest = json.loads(_blob(root, descriptor["digest"]))
    config = json.loads(_blob(root, manifest["config"]["digest"]))
    diff_ids = config["rootfs"]["diff_ids"]
    layers = tuple(
        FileLayer(
            root / "blobs" / "sha256" / l["digest"].split(":")[1], l["mediaType"], l["digest"], diff_id, l["size"]
        )
        for l, diff_id in zip(manifest["layers"], diff_ids)
    )
    return Image(config, layers, manifest.get("annotations") or {})

"""Make new images from old ones; nothing here changes a value in place."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import replace

from lamina.oci.image import Image
from lamina.oci.layer import Layer


def append_layer(image: Image, layer: Layer, *, created_by: str, comment: str | None = None) -> Image:
    """``image`` with ``layer`` on top, its diff_id and a history entry recorded in the config."""
    config = copy.deepcopy(dict(image.config))
    config.setdefault("rootfs", {"type": "layers", "diff_ids": []})["diff_ids"].append(layer.diff_id)
    history = config.setdefault("history", [])
    described = sum(1 for h in history if not h.get("empty_layer"))
    # A base without history (e.g. an imported rootfs) gets one entry per layer so counts agree.
    history[:0] = [{"created_by": "base layer"}] * (len(image.layers) - described)
    entry = {"created_by": created_by}
    if comment:
        entry["comment"] = comment
    if "created" in config:
        entry["created"] = config["created"]
    history.append(entry)
    return replace(image, config=config, layers=(*image.layers, layer))


def with_config(image: Image, changes: Mapping[str, object]) -> Image:
    """``image`` with keys of its container ``config`` section replaced (``None`` removes a key)."""
    config = copy.deepcopy(dict(image.config))
    container = dict(config.get("config") or {})
    for key, value in changes.items():
        if value is None:
            container.pop(key, None)
        else:
            container[key] = value
    config["config"] = container
    return replace(image, config=config)


def with_top_level(image: Image, changes: Mapping[str, object]) -> Image:
    """``image`` with top-level config keys (``created``, ``author``, ...) replaced."""
    config = copy.deepcopy(dict(image.config))
    config.update(changes)
    return replace(image, config=config)


def with_annotations(image: Image, annotations: Mapping[str, str]) -> Image:
    """``image`` with manifest annotations merged in."""
    return replace(image, annotations={**image.annotations, **annotations})


UNSTAMPED_CREATED = "1970-01-01T00:00:00Z"
"""The ``created`` time of an image that is not stamped: fixed, so digests depend on inputs only."""

"""The lock of registry bases: each tagged reference a BUILD file names, pinned to the
digest ``generate-lockfiles`` found, so builds do not follow a moving tag."""

from __future__ import annotations

import json
from pathlib import Path

from lamina.atomic import write_text
from lamina.errors import ResolveError


def read_pins(path: Path) -> dict[str, str]:
    """reference -> digest; an absent file pins nothing."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in data["bases"].items()}
    except (ValueError, KeyError, AttributeError, TypeError) as err:
        raise ResolveError(f"{path.name} is not a lamina bases lock ({err}); run `lamina generate-lockfiles`") from err


def write_pins(path: Path, pins: dict[str, str]) -> None:
    """Write the pins atomically."""
    write_text(path, json.dumps({"version": 1, "bases": dict(sorted(pins.items()))}, indent=2) + "\n")

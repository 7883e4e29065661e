"""The lock of registry bases: each tagged reference a BUILD file names, pinned to the
digest ``generate-lockfiles`` found, so builds do not follow a moving tag."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from lamina.errors import ResolveError


def read_pins(path: Path) -> dict[str, str]:
    """reference -> digest; an absent file pins nothing."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
        return {str(k): str(v) for k, v in data["bases"].items()}
    except (ValueError, KeyError, AttributeError) as err:
        raise ResolveError(f"{path.name} is not a lamina bases lock ({err}); run `lamina generate-lockfiles`") from err


def write_pins(path: Path, pins: dict[str, str]) -> None:
    """Write the pins atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump({"version": 1, "bases": dict(sorted(pins.items()))}, handle, indent=2)
            handle.write("\n")
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)

"""A ``docker_image``'s Dockerfile: its ``instructions``, else its ``source`` file."""

from __future__ import annotations

import posixpath
from pathlib import Path

from lamina.docker.dockerfile import Dockerfile, parse
from lamina.errors import BuildFileError
from lamina.graph.target import Target


def dockerfile_path(target: Target) -> str | None:
    """The Dockerfile's path from the build root, None when the target has ``instructions``."""
    if target.get("instructions"):
        return None
    return posixpath.normpath(posixpath.join(target.address.spec_path, target.get("source") or "Dockerfile"))


def owned_files(target: Target) -> list[str]:
    """The files a ``docker_image`` owns (for ``--changed-since``): its Dockerfile, if it has one."""
    return [p for p in (dockerfile_path(target),) if p]


def dockerfile_of(target: Target, build_root: Path) -> Dockerfile:
    """The parsed Dockerfile of ``target``."""
    path = dockerfile_path(target)
    if path is None:
        return parse(
            "\n".join(target.get("instructions")) + "\n", f"{target.build_file} (instructions of {target.address})"
        )
    try:
        text = (build_root / path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BuildFileError(
            f"{target.address}: its Dockerfile {path} does not exist; set source= or instructions=",
            path=target.build_file, line=target.line,
        ) from None  # fmt: skip
    return parse(text, path)

"""Copies of the real Pants repositories of ``../shared/pants-corpus`` (or where
``LAMINA_PANTS_CORPUS`` points), for tests that build in them: the corpus itself is never written."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("LAMINA_PANTS_CORPUS", ROOT.parent / "shared" / "pants-corpus"))


def corpus_copy(repository: str, destination: Path) -> Path:
    """A copy of the corpus repository ``repository`` (e.g. ``pantsbuild+example-python``) at ``destination``."""
    source = CORPUS / repository
    assert (source / "pants.toml").is_file(), f"the Pants corpus is missing at {CORPUS}; set LAMINA_PANTS_CORPUS"
    shutil.copytree(source, destination)
    return destination


def use_mirror(repo: Path, address: str) -> None:
    """Make ``repo`` reach Docker Hub through the registry at ``address``
    (``[oci.registries."docker.io"] mirrors``, as containerd's ``hosts.toml``)."""
    with open(repo / "pants.toml", "a") as config:
        config.write(f'\n[oci.registries."docker.io"]\nmirrors = ["{address}"]\n')


def rewrite(path: Path, old: str, new: str) -> None:
    """Replace ``old`` (which must be there) by ``new`` in the copy's file at ``path``."""
    text = path.read_text()
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new))

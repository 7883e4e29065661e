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

"""Reading lamina's outputs back the way a third party would: files and JSON, not lamina's API."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / "examples"
BASE = ("3rdparty/debian", "python3.11")  # the examples' debian_base
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def lamina_command() -> list[str]:
    """How to run lamina: ``$LAMINA_UNDER_TEST`` (CI sets it to the ``lamina`` of the built wheel,
    installed in a fresh venv, so the tests run lamina as users install it), else this checkout."""
    installed = os.environ.get("LAMINA_UNDER_TEST")
    return [installed] if installed else [sys.executable, "-m", "lamina"]


def lamina(
    *args: str, cwd: Path, cache: Path, env: dict | None = None, check: bool = True
) -> subprocess.CompletedProcess:
    """Run the real ``lamina`` CLI in ``cwd`` with its own cache directory."""
    result = subprocess.run(
        [*lamina_command(), "--cache-dir", str(cache), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=900,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"lamina {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def copy_examples(destination: Path) -> Path:
    """A copy of examples/ (sources and locks only)."""
    shutil.copytree(EXAMPLES, destination, ignore=shutil.ignore_patterns("dist", ".lamina", "__pycache__"))
    return destination


def top_descriptor(layout: Path) -> dict:
    """The one entry of a layout's ``index.json``: an image manifest or an image index."""
    (descriptor,) = json.loads((layout / "index.json").read_text())["manifests"]
    return descriptor


def manifest(layout: Path, architecture: str = "amd64") -> dict:
    """The image manifest of an OCI layout directory; of a multi-architecture index, the
    manifest for ``architecture``."""
    descriptor = top_descriptor(layout)
    while descriptor["mediaType"] == OCI_INDEX:
        nested = json.loads(blob(layout, descriptor["digest"]).read_bytes())["manifests"]
        (descriptor,) = [m for m in nested if m["platform"]["architecture"] == architecture]
    return json.loads(blob(layout, descriptor["digest"]).read_bytes())


def config(layout: Path, architecture: str = "amd64") -> dict:
    """The image config for ``architecture``."""
    return json.loads(blob(layout, manifest(layout, architecture)["config"]["digest"]).read_bytes())


def blob(layout: Path, digest: str) -> Path:
    """The path of a blob in an OCI layout."""
    algorithm, hexdigest = digest.split(":")
    return layout / "blobs" / algorithm / hexdigest


def layer_names(layout: Path, digest: str) -> list[str]:
    """Member names of one layer blob of a layout."""
    with tarfile.open(blob(layout, digest)) as archive:
        return archive.getnames()


def image_outputs(build_root: Path, spec_path: str, name: str) -> tuple[Path, Path]:
    """The OCI layout dir and docker-archive tarball ``package`` writes for an image target."""
    stem = build_root / "dist" / spec_path.replace("/", ".") / name
    return stem.with_name(name + ".oci"), stem.with_name(name + ".tar")

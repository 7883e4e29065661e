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
EXAMPLE_BASE_DIR = Path(".lamina") / "base"


def lamina(
    *args: str, cwd: Path, cache: Path, env: dict | None = None, check: bool = True
) -> subprocess.CompletedProcess:
    """Run the real ``lamina`` CLI in ``cwd`` with its own cache directory."""
    result = subprocess.run(
        [sys.executable, "-m", "lamina", "--cache-dir", str(cache), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=900,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"lamina {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def copy_examples(destination: Path, example_base: Path) -> Path:
    """A copy of examples/ (sources only) sharing the already built example base archive."""
    shutil.copytree(EXAMPLES, destination, ignore=shutil.ignore_patterns("dist", ".lamina", "__pycache__"))
    base_dir = destination / EXAMPLE_BASE_DIR
    base_dir.mkdir(parents=True)
    os.link(example_base, base_dir / example_base.name) if _same_device(example_base, base_dir) else shutil.copy(
        example_base, base_dir / example_base.name
    )
    return destination


def _same_device(a: Path, b: Path) -> bool:
    return a.stat().st_dev == b.stat().st_dev


def manifest(layout: Path) -> dict:
    """The single image manifest of an OCI layout directory."""
    index = json.loads((layout / "index.json").read_text())
    (descriptor,) = index["manifests"]
    return json.loads(blob(layout, descriptor["digest"]).read_bytes())


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

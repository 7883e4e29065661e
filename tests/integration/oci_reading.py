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


class ImageLayout(type(Path())):
    """The OCI layout an image is in, and which of its entries is that image: ``package``
    writes every image into one shared layout, one ``index.json`` entry per target."""

    address: str | None = None


def image_layout(layout: Path, address: str | None) -> ImageLayout:
    """``layout`` as the layout of the image of target ``address``."""
    found = ImageLayout(layout)
    found.address = address
    return found


def add_oci_options(root: Path, options: str) -> None:
    """Add ``options`` (TOML lines) to the ``[oci]`` section of the examples' ``pants.toml``."""
    config = root / "pants.toml"
    text = config.read_text()
    assert "\n[oci]\n" in text, "the examples configure [oci] outputs"
    config.write_text(text.replace("\n[oci]\n", "\n[oci]\n" + options, 1))


def top_descriptor(layout: Path) -> dict:
    """The entry of a layout's ``index.json`` (an image manifest or an image index): of a
    shared layout, the one of the target the path was made for, else the only one."""
    manifests = json.loads((layout / "index.json").read_text())["manifests"]
    address = getattr(layout, "address", None)
    if address is not None:
        manifests = [m for m in manifests if m["annotations"]["dev.lamina.target"] == address]
    (descriptor,) = manifests
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


def venv_layers(layout: Path, architecture: str = "amd64") -> list[dict]:
    """The layers of the image's venv and third-party distributions (between the base and the
    app), found by what the image config's history says made them."""
    image = manifest(layout, architecture)
    history = [h for h in config(layout, architecture).get("history", []) if not h.get("empty_layer")]
    assert len(history) == len(image["layers"]), "one history entry per layer"
    made_by = ("lamina: venv ", "lamina: third-party ")
    return [layer for layer, h in zip(image["layers"], history) if h.get("created_by", "").startswith(made_by)]


def venv_names(layout: Path, architecture: str = "amd64") -> list[str]:
    """Member names of every venv and third-party layer of the image."""
    return [name for layer in venv_layers(layout, architecture) for name in layer_names(layout, layer["digest"])]


def image_outputs(build_root: Path, spec_path: str, name: str) -> tuple[ImageLayout, Path]:
    """The OCI layout (the shared ``dist/oci``, as this target's) and the docker-archive
    tarball (with ``--output=...,tarball``) ``package`` writes for an image target."""
    stem = build_root / "dist" / (spec_path.replace("/", ".") or ".") / name
    address = f"{spec_path}:{name}" if spec_path else f"//:{name}"
    return image_layout(build_root / "dist" / "oci", address), stem.with_name(name + ".tar")

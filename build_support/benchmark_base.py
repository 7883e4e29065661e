#!/usr/bin/env python3
"""Benchmark: the examples' ``debian_base`` (Debian bookworm, CPython 3.11, amd64 + arm64)
built by lamina from its committed lock, next to the same Python made with mmdebstrap
and the published sizes of ``python:3.11-slim`` and distroless ``python3-debian12``.

Prints medians of --runs runs of: cold build (empty cache: downloads and unpacks every
.deb of both architectures), warm build (cache kept, outputs deleted), no-op, and the
amd64 image's size uncompressed (sum of its layer tars) and compressed (its blobs).

    .venv/bin/python build_support/benchmark_base.py [--runs 3] [--mmdebstrap]

Needs network access to Debian's archive; ``--mmdebstrap`` also needs root.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
BASE = "3rdparty/debian:python3.11"
LAYOUT = "dist/oci"  # the shared layout `package` writes
ADDRESS = "3rdparty/debian:python3.11"
# Published sizes of linux/amd64 images (not measurable here: no registry is reachable).
# Compressed: what a pull downloads, as the registry lists it; uncompressed: `docker images`.
PUBLISHED = {
    "python:3.11-slim (bookworm)": {"compressed": 45e6, "uncompressed": 130e6},
    "gcr.io/distroless/python3-debian12": {"compressed": None, "uncompressed": 53e6},
}


def _timed(command: list[str], cwd: Path) -> float:
    started = time.monotonic()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True, timeout=1800)
    return time.monotonic() - started


def _blob(layout: Path, digest: str) -> Path:
    return layout / "blobs" / "sha256" / digest.split(":")[1]


def _amd64_sizes(layout: Path) -> tuple[int, int]:
    """(uncompressed, compressed) bytes of the amd64 image in the layout."""
    manifests = json.loads((layout / "index.json").read_text())["manifests"]
    (top,) = [m for m in manifests if m["annotations"]["dev.lamina.target"] == ADDRESS]
    index = json.loads(_blob(layout, top["digest"]).read_text())
    (entry,) = [m for m in index["manifests"] if m["platform"]["architecture"] == "amd64"]
    manifest = json.loads(_blob(layout, entry["digest"]).read_text())
    compressed = sum(layer["size"] for layer in manifest["layers"])
    uncompressed = 0
    for layer in manifest["layers"]:
        with gzip.open(_blob(layout, layer["digest"])) as stream:
            while chunk := stream.read(1 << 20):
                uncompressed += len(chunk)
    return uncompressed, compressed


def lamina_run() -> dict:
    """One cold, warm and no-op build of the examples' base."""
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch) / "examples"
        shutil.copytree(EXAMPLES, work, ignore=shutil.ignore_patterns("dist", "__pycache__"))
        command = [str(REPO / ".venv/bin/lamina"), "--cache-dir", str(Path(scratch) / "cache"), "package", BASE]
        cold = _timed(command, work)
        shutil.rmtree(work / "dist")
        warm = _timed(command, work)
        noop = _timed(command, work)
        uncompressed, compressed = _amd64_sizes(work / LAYOUT)
    return {"cold": cold, "warm": warm, "noop": noop, "uncompressed": uncompressed, "compressed": compressed}


def mmdebstrap_run() -> dict:
    """The same Python made the usual local way: mmdebstrap into a rootfs tarball."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("mmdebstrap_base", REPO / "build_support" / "mmdebstrap_base.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with tempfile.TemporaryDirectory() as scratch:
        archive = Path(scratch) / "base.tar"
        started = time.monotonic()
        module.make_base_archive(archive)
        cold = time.monotonic() - started
        size = archive.stat().st_size
        with open(archive, "rb") as source, gzip.open(Path(scratch) / "base.tar.gz", "wb", compresslevel=6) as target:
            shutil.copyfileobj(source, target)
        compressed = (Path(scratch) / "base.tar.gz").stat().st_size
    return {"cold": cold, "uncompressed": size, "compressed": compressed}


def main(argv: list[str] | None = None) -> int:
    """Run --runs times and print medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mmdebstrap", action="store_true", help="also time mmdebstrap (needs root)")
    args = parser.parse_args(argv)
    runs = []
    for number in range(args.runs):
        runs.append(lamina_run())
        print(f"run {number + 1}: {json.dumps({k: round(v, 2) for k, v in runs[-1].items()})}", file=sys.stderr)
    lamina = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    print(f"medians of {args.runs} runs (`build_support/benchmark_base.py {' '.join(argv or sys.argv[1:])}`):")
    print(
        f"lamina debian_base {BASE} (amd64 + arm64): cold {lamina['cold']:.2f} s, warm {lamina['warm']:.2f} s, "
        f"no-op {lamina['noop']:.2f} s"
    )
    rows = [("image (linux/amd64)", "uncompressed MB", "compressed MB")]
    rows.append(("lamina debian_base", f"{lamina['uncompressed'] / 1e6:.1f}", f"{lamina['compressed'] / 1e6:.1f}"))
    if args.mmdebstrap:
        made = mmdebstrap_run()
        print(f"mmdebstrap --variant=essential, same packages (amd64 only): cold {made['cold']:.2f} s")
        rows.append(("mmdebstrap rootfs", f"{made['uncompressed'] / 1e6:.1f}", f"{made['compressed'] / 1e6:.1f}"))
    for name, size in PUBLISHED.items():
        compressed = f"~{size['compressed'] / 1e6:.0f}" if size["compressed"] else "n/a"
        rows.append((f"{name}, published", f"~{size['uncompressed'] / 1e6:.0f}", compressed))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    print("\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Benchmark: what the bytecode in the third-party layers saves at container start.

Packages the examples' web service (FastAPI, uvicorn, pydantic) twice, with the default
``bytecode=True`` and with ``bytecode=False``, loads both into the Docker engine and, in
fresh containers (as the image's nonroot user, so nothing can be written back), times the
import of the app's module (`services.web.main`, which imports the framework), and the
whole `docker run` of that import. Prints medians of --runs containers each.

    .venv/bin/python build_support/benchmark_bytecode.py [--runs 7]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
LAMINA = str(REPO / ".venv/bin/lamina")
WEB = "src/python/services/web"
IMPORT = (
    "import sys, time; sys.path.insert(0, '/app'); started = time.perf_counter(); "
    "import services.web.main; print(time.perf_counter() - started)"
)


def _image(scratch: Path, bytecode: bool) -> str:
    """Package the web service (with or without bytecode) and load it; its tag."""
    work = scratch / f"examples-{bytecode}"
    shutil.copytree(EXAMPLES, work, ignore=shutil.ignore_patterns("dist", ".lamina", "__pycache__"))
    build = work / WEB / "BUILD"
    tag = f"lamina-bench/web-bytecode-{str(bytecode).lower()}"
    text = build.read_text().replace('repository="lamina-examples/web"', f'repository="{tag}"')
    build.write_text(text.replace("    ports=[8000],", f"    ports=[8000],\n    bytecode={bytecode},"))
    command = [LAMINA, "--cache-dir", str(scratch / "cache"), "-q", "package", "--output=docker", f"{WEB}:web"]
    subprocess.run(command, cwd=work, check=True, capture_output=True, timeout=1800)
    return f"{tag}:latest"


def _start(tag: str) -> tuple[float, float]:
    """(seconds to import the app inside the container, seconds of the whole docker run)."""
    started = time.monotonic()
    result = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--entrypoint", "/opt/venv/bin/python", tag, "-c", IMPORT],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return float(result.stdout.strip()), time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    figures = {}
    with tempfile.TemporaryDirectory() as scratch:
        for bytecode in (True, False):
            tag = _image(Path(scratch), bytecode)
            try:
                _start(tag)  # the first container of an image also pays for its layers' unpacking
                runs = [_start(tag) for _ in range(args.runs)]
            finally:
                subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, check=False)
            figures[bytecode] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
    print(f"medians of {args.runs} containers (`build_support/benchmark_bytecode.py --runs {args.runs}`):")
    print(f"{'web service image':<28}{'import of the app s':>22}{'docker run s':>15}")
    for bytecode, label in ((True, "bytecode=True (default)"), (False, "bytecode=False")):
        print(f"{label:<28}{figures[bytecode][0]:>22.3f}{figures[bytecode][1]:>15.3f}")
    print(f"import {figures[False][0] / figures[True][0]:.1f}x faster with bytecode")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

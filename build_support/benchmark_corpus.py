#!/usr/bin/env python3
"""Benchmark: real Pants repositories, read unchanged.

For each repository of the Pants corpus (``../shared/pants-corpus`` beside the project, or
``--corpus``), prints the number of targets ``list ::`` prints and the median wall time of
``dependencies ::`` cold (an empty cache: third-party module names are read from the
locked wheels, over range requests) and warm (the same cache again).

    .venv/bin/python build_support/benchmark_corpus.py [--corpus DIR] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAMINA = str(ROOT / ".venv/bin/lamina")


def run(repository: Path, cache: Path, *args: str) -> tuple[float, str]:
    started = time.monotonic()
    result = subprocess.run(
        [LAMINA, "--build-root", str(repository), "--cache-dir", str(cache), *args],
        check=True, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    return time.monotonic() - started, result.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "pants-corpus")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"medians of {args.runs} runs (`build_support/benchmark_corpus.py --runs {args.runs}`):")
    print(f"{'repository':<30}{'targets':>8}{'dependencies :: cold s':>24}{'warm s':>8}")
    for repository in sorted(p for p in args.corpus.iterdir() if (p / "pants.toml").is_file()):
        cold, warm = [], []
        with tempfile.TemporaryDirectory() as scratch:
            _, listed = run(repository, Path(scratch) / "list", "list", "::")
            for attempt in range(args.runs):
                cache = Path(scratch) / f"cache-{attempt}"
                cold.append(run(repository, cache, "dependencies", "::")[0])
                warm.append(run(repository, cache, "dependencies", "::")[0])
        targets = len(listed.split())
        print(f"{repository.name:<30}{targets:>8}{statistics.median(cold):>24.2f}{statistics.median(warm):>8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

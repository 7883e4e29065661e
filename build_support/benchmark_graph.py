#!/usr/bin/env python3
"""Benchmark: walking large dependency graphs, which must take time in proportion to their size.

Generates repositories of N `target`s in an explicit chain (each depends on the next)
and in a "ladder" (each depends on the next two: exponentially many paths), and prints
the median wall time of `lamina dependencies --transitive` on the first target (which
loads every BUILD file, checks for cycles and walks the closure) and of `lamina list ::`
(loading alone).

    .venv/bin/python build_support/benchmark_graph.py [--sizes 32 1000 1500] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

LAMINA = str(Path(__file__).resolve().parents[1] / ".venv/bin/lamina")


def make_repo(root: Path, shape: str, size: int) -> None:
    (root / "pants.toml").write_text("")
    for i in range(size):
        nexts = [j for j in ((i + 1,) if shape == "chain" else (i + 1, i + 2)) if j < size]
        deps = ", ".join(f'"//t{j}"' for j in nexts)
        (root / f"t{i}").mkdir()
        (root / f"t{i}" / "BUILD").write_text(f"target(dependencies=[{deps}])\n")


def timed(command: list[str], cwd: Path) -> float:
    started = time.monotonic()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True, timeout=600)
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[32, 1000, 1500])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{'shape':<8}{'targets':>8}{'list :: s':>12}{'dependencies --transitive s':>30}")
    for shape in ("chain", "ladder"):
        for size in args.sizes:
            with tempfile.TemporaryDirectory() as scratch:
                root = Path(scratch)
                make_repo(root, shape, size)
                cache = ["--cache-dir", str(root / ".cache")]
                listing = statistics.median(timed([LAMINA, *cache, "list", "::"], root) for _ in range(args.runs))
                walk = statistics.median(
                    timed([LAMINA, *cache, "dependencies", "--transitive", "t0"], root) for _ in range(args.runs)
                )
            print(f"{shape:<8}{size:>8}{listing:>12.2f}{walk:>30.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

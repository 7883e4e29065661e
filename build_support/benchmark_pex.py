#!/usr/bin/env python3
"""Benchmark: a service declared as Pants declares it, a ``pex_binary`` and a
``docker_image`` whose Dockerfile copies the ``.pex`` (examples' greet CLI: docopt from its
sdist, tabulate), built

- by lamina, daemonless (``lamina package :greet-docker``: the pex, then the image);
- as Pants builds it: lamina packages the pex, then ``docker build`` of the same
  Dockerfile on the same engine and base (the build context: the ``.pex``);
- as a pex-layer image, ``python_image(binary=":greet-pex")`` (a layer per distribution).

Prints medians of --runs runs of the cold build (empty lamina cache, no engine build
cache), the no-op rebuild and the rebuild after an app-only edit, then the ratios against
``docker build``; and the time to first output of ``docker run`` of each image next to the
venv-layout image of the same service.

    .venv/bin/python build_support/benchmark_pex.py [--runs 3] [--starts 25]

Needs a Docker engine (build_support/start_docker.sh), a registry on 127.0.0.1:5000
(build_support/start_registry.sh) serving as Docker Hub's mirror, and network access to
PyPI and Debian. State is kept in .bench/pex/.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import docker

REPO = Path(__file__).resolve().parents[1]
STATE = REPO / ".bench" / "pex"
MIRROR = os.environ.get("LAMINA_REGISTRY_ADDR", "127.0.0.1:5000")
SERVICE = "src/python/services/greet_cli"
TARGETS = """
pex_binary(name="greet-pex", entry_point="services.greet_cli.main:main")

docker_image(
    name="greet-docker",
    repository="bench/greet-docker",
    instructions=[
        "FROM python:3.11",
        "COPY src.python.services.greet_cli/greet-pex.pex /bin/greet",
        'ENTRYPOINT ["/bin/greet"]',
    ],
)

python_image(name="greet-pex-img", repository="bench/greet-pex-img", binary=":greet-pex", base="python:3.11")

python_image(
    name="greet-venv-img", repository="bench/greet-venv-img", entry_point="services.greet_cli.main:main",
    base="python:3.11",
)
"""
EDIT = "\n# an app-only edit\n"


def lamina(*args: str, cwd: Path, cache: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "lamina", "--cache-dir", str(cache), "-q", *args], cwd=cwd, check=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")}, stdout=subprocess.DEVNULL,
    )  # fmt: skip


def timed(step) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def publish_python_images() -> None:
    """python:3.11 (Debian bookworm's CPython, as tests/data/python-images makes it) on the mirror."""
    images = STATE / "python-images"
    shutil.rmtree(images, ignore_errors=True)
    shutil.copytree(REPO / "tests/data/python-images", images, ignore=shutil.ignore_patterns("dist"))
    with open(images / "pants.toml", "a") as config:
        config.write(f'\n[docker.registries.mirror]\naddress = "{MIRROR}"\ndefault = true\n')
    lamina("publish", ":python-3.11", cwd=images, cache=STATE / "python-images-cache")


def make_repo() -> Path:
    repo = STATE / "examples"
    shutil.rmtree(repo, ignore_errors=True)
    shutil.copytree(REPO / "examples", repo, ignore=shutil.ignore_patterns("dist", ".lamina", "__pycache__"))
    with open(repo / SERVICE / "BUILD", "a") as build:
        build.write(TARGETS)
    with open(repo / "pants.toml", "a") as config:
        config.write(f'\n[oci.registries."docker.io"]\nmirrors = ["{MIRROR}"]\n')
    return repo


def docker_build(client, repo: Path, cache: bool) -> None:
    context = STATE / "context"
    shutil.rmtree(context, ignore_errors=True)
    (context / "src.python.services.greet_cli").mkdir(parents=True)
    shutil.copy(repo / "dist/src.python.services.greet_cli/greet-pex.pex", context / "src.python.services.greet_cli")
    (context / "Dockerfile").write_text(
        'FROM python:3.11\nCOPY src.python.services.greet_cli/greet-pex.pex /bin/greet\nENTRYPOINT ["/bin/greet"]\n'
    )
    client.images.build(
        path=str(context), tag="bench/greet-docker-build:latest", nocache=not cache, pull=False, rm=True
    )


def routes(client, repo: Path) -> dict:
    """Each route's build, given whether this is a cold build (no engine build cache either)."""
    cache = STATE / "cache"

    def package(name: str):
        return lambda cold: lamina("package", f"{SERVICE}:{name}", cwd=repo, cache=cache)

    def pants_style(cold: bool) -> None:
        lamina("package", f"{SERVICE}:greet-pex", cwd=repo, cache=cache)
        docker_build(client, repo, cache=not cold)

    return {
        "lamina docker_image (daemonless)": package("greet-docker"),
        "pex + docker build": pants_style,
        "lamina pex-layer image": package("greet-pex-img"),
    }


def measure(client, repo: Path, runs: int) -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, list[float]]] = {}
    main = repo / SERVICE / "main.py"
    original = main.read_text()
    for _ in range(runs):
        for name, build in routes(client, repo).items():
            shutil.rmtree(STATE / "cache", ignore_errors=True)
            main.write_text(original)
            found = figures.setdefault(name, {"cold": [], "no-op": [], "app edit": []})
            found["cold"].append(timed(lambda b=build: b(True)))
            found["no-op"].append(timed(lambda b=build: b(False)))
            main.write_text(original + EDIT)
            found["app edit"].append(timed(lambda b=build: b(False)))
    main.write_text(original)
    return {name: {k: statistics.median(v) for k, v in found.items()} for name, found in figures.items()}


def start_times(client, repo: Path, starts: int) -> dict[str, float]:
    cache = STATE / "cache"
    lamina("package", "--load", *(f"{SERVICE}:{n}" for n in ("greet-docker", "greet-pex-img", "greet-venv-img")),
           cwd=repo, cache=cache)  # fmt: skip
    docker_build(client, repo, cache=True)
    images = {
        "venv image (lamina)": "bench/greet-venv-img:latest",
        "pex-layer image (lamina)": "bench/greet-pex-img:latest",
        "pex zipapp image (lamina docker_image)": "bench/greet-docker:latest",
        "pex zipapp image (docker build)": "bench/greet-docker-build:latest",
    }
    commands = {
        name: ["docker", "run", "--rm", "--network", "none", image, "hello", "World"] for name, image in images.items()
    }
    for command in commands.values():
        subprocess.run(command, check=True, capture_output=True)  # warm the engine's caches
    times: dict[str, list[float]] = {name: [] for name in images}
    for _ in range(starts):  # round-robin, so a slow moment of the machine falls on every image alike
        for name, command in commands.items():
            start = time.perf_counter()
            out = subprocess.run(command, check=True, capture_output=True, text=True)
            times[name].append(time.perf_counter() - start)
            assert "World" in out.stdout, out.stdout
    return {name: statistics.median(found) for name, found in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--starts", type=int, default=25)
    args = parser.parse_args()
    client = docker.from_env()
    STATE.mkdir(parents=True, exist_ok=True)
    publish_python_images()
    client.images.pull(f"{MIRROR}/library/python", tag="3.11").tag("python", "3.11")
    repo = make_repo()
    figures = measure(client, repo, args.runs)
    reference = figures["pex + docker build"]
    print(f"build times, medians of {args.runs} runs (seconds; ratio to pex + docker build):")
    print(f"  {'route':38} {'cold':>14} {'app edit':>14} {'no-op':>14}")
    for name, found in figures.items():
        cells = [f"{found[k]:6.2f} ({found[k] / reference[k]:4.2f}x)" for k in ("cold", "app edit", "no-op")]
        print(f"  {name:38} {cells[0]:>14} {cells[1]:>14} {cells[2]:>14}")
    starts = start_times(client, repo, args.starts)
    venv = starts["venv image (lamina)"]
    print(
        f"time to first output of `docker run IMAGE hello World`, medians of {args.starts} (ratio to the venv image):"
    )
    for name, seconds in starts.items():
        print(f"  {name:40} {seconds:6.3f} s ({seconds / venv:4.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

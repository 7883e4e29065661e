#!/usr/bin/env python3
"""Benchmark: the examples' guestbook service (psycopg2, an sdist with a C extension) built
by lamina and by the seed-style two-stage Dockerfile, on the same Docker engine and bases.

The Dockerfile's builder stage runs on a full Python image with gcc and libpq-dev and
pip-installs into a venv; its runtime stage, on a slim Python image with libpq5, copies
the venv. lamina builds on the same two images (given as docker-archives: the runtime as
the base, the full one as the builder), compiling psycopg2 in its sandbox.

Prints medians of --runs runs of: image size, cold build (empty build cache; the two base
images already at hand), rebuild after an app-only edit, and lamina's ratios.

    .venv/bin/python build_support/benchmark_builder.py [--runs 3] [--json out.json]

Needs root (mmdebstrap, bubblewrap), a Docker engine (build_support/start_docker.sh) and
network access to PyPI and Debian. State (the base archives) is kept in .bench/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import textwrap
from pathlib import Path

import benchmark  # the same mmdebstrap bases, project file and timing as the web-service benchmark
import docker
from benchmark import make_base, timed

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
STATE = REPO / ".bench"
SERVICE = "src/python/services/guestbook"
CLOSURE = ("attrs", "docopt", "psycopg2")  # what the guestbook imports, as lamina infers it
APP_EDIT = "\n# an app-only edit\n"
BASES = {  # tag -> extra Debian packages on bookworm + CPython 3.11 (mmdebstrap_base.PACKAGES)
    "lamina-bench/python-full:bookworm": (
        "python3-pip",
        "python3-venv",
        "build-essential",
        "python3.11-dev",
        "libpq-dev",
    ),
    "lamina-bench/python-slim-libpq:bookworm": ("libpq5",),
}
FULL, SLIM = BASES

DOCKERFILE = f"""
    FROM {FULL} AS builder
    RUN python3.11 -m venv /opt/venv
    ENV PATH=/opt/venv/bin:$PATH
    COPY requirements.txt /src/requirements.txt
    RUN pip install --no-cache-dir --require-hashes -r /src/requirements.txt
    COPY . /src
    RUN pip install --no-cache-dir --no-deps /src

    FROM {SLIM}
    COPY --from=builder /opt/venv /opt/venv
    ENV PATH=/opt/venv/bin:$PATH
    USER 65532
    ENTRYPOINT ["python", "-m", "services.guestbook.main"]
"""

PYPROJECT = benchmark.PYPROJECT.replace('"web-service"', '"guestbook"')  # the app as a pip-installable project


def make_bases() -> dict[str, Path]:
    """Both base images as docker-archives (made once with mmdebstrap), loaded into the engine."""
    return {tag: make_base(tag, extra) for tag, extra in BASES.items()}


def _locked(names: tuple[str, ...]) -> str:
    """The hash-pinned entries of the examples' lock for ``names`` (pip's requirements format)."""
    blocks, current = [], None
    for line in (EXAMPLES / "3rdparty/python/default.lock").read_text().splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            current = line.split("==")[0].lower() in names
        if current and not line.lstrip().startswith("#"):
            blocks.append(line)
    return "\n".join(blocks) + "\n"


def docker_route(client) -> dict:
    """One run of the Dockerfile: cold (no build cache), then an app-only edit."""
    tag = "lamina-bench/guestbook-dockerfile:latest"
    with tempfile.TemporaryDirectory() as scratch:
        context = Path(scratch)
        shutil.copytree(EXAMPLES / "src/python/greeting", context / "greeting")
        shutil.copytree(EXAMPLES / SERVICE, context / "services/guestbook")
        (context / "services/guestbook/BUILD").unlink()
        (context / "requirements.txt").write_text(_locked(CLOSURE))
        (context / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
        (context / "Dockerfile").write_text(textwrap.dedent(DOCKERFILE))
        try:
            client.images.remove(tag, force=True)
        except docker.errors.ImageNotFound:
            pass
        client.images.prune(filters={"dangling": True})
        build = ["docker", "build", "--network", "host", "-q", "-t", tag, str(context)]
        env = {**os.environ, "DOCKER_BUILDKIT": "0"}
        cold = timed([*build[:-1], "--no-cache", str(context)], env=env)
        with open(context / "services/guestbook/main.py", "a") as handle:
            handle.write(APP_EDIT)
        edit = timed(build, env=env)
        size = client.images.get(tag).attrs["Size"]
        client.images.remove(tag, force=True)
        client.images.prune(filters={"dangling": True})
    return {"cold": cold, "edit": edit, "size": size}


def lamina_route(archives: dict[str, Path], client) -> dict:
    """One run of lamina on the same two images: cold (empty cache), then an app-only edit."""
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch) / "examples"
        shutil.copytree(EXAMPLES, work, ignore=shutil.ignore_patterns("dist", ".lamina", "__pycache__"))
        (work / "bases").mkdir()
        for archive in archives.values():
            os.link(archive, work / "bases" / archive.name)
        build = work / SERVICE / "BUILD"
        build.write_text(
            build.read_text()
            .replace('"//3rdparty/debian:python3.11-libpq"', f'"docker-archive:bases/{archives[SLIM].name}"')
            .replace('"//3rdparty/debian:builder"', f'"docker-archive:bases/{archives[FULL].name}"')
        )
        command = [str(REPO / ".venv/bin/lamina"), "--cache-dir", str(Path(scratch) / "cache"), "package", SERVICE]
        cold = timed(command, cwd=work)
        with open(work / SERVICE / "main.py", "a") as handle:
            handle.write(APP_EDIT)
        edit = timed(command, cwd=work)
        with open(work / "dist/src.python.services.guestbook/guestbook.tar", "rb") as stream:
            (image,) = client.images.load(stream)
        size = image.attrs["Size"]
        client.images.remove(image.id, force=True)
    return {"cold": cold, "edit": edit, "size": size}


def _table(results: dict[str, dict]) -> str:
    rows = [("route", "image MB", "cold s", "app edit s")]
    for route, r in results.items():
        rows.append((route, f"{r['size'] / 1e6:.1f}", f"{r['cold']:.2f}", f"{r['edit']:.2f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in rows]
    lamina, other = results["lamina"], results["dockerfile"]
    lines.append(
        f"dockerfile / lamina: cold {other['cold'] / lamina['cold']:.1f}x, app edit {other['edit'] / lamina['edit']:.1f}x "
        f"(time ratios; >1 means lamina is faster); lamina's image is {lamina['size'] / other['size']:.2f}x the size"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run both routes --runs times and print medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the raw runs here")
    args = parser.parse_args(argv)
    client = docker.from_env(timeout=1800)
    archives = make_bases()
    runs: dict[str, list[dict]] = {"lamina": [], "dockerfile": []}
    for number in range(args.runs):
        for route, results in runs.items():
            result = lamina_route(archives, client) if route == "lamina" else docker_route(client)
            results.append(result)
            print(
                f"run {number + 1} {route}: {json.dumps({k: round(v, 2) for k, v in result.items()})}", file=sys.stderr
            )
    results = {route: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for route, rs in runs.items()}
    print(
        f"medians of {args.runs} runs (`{' '.join(['build_support/benchmark_builder.py', *(argv or sys.argv[1:])])}`):"
    )
    print(_table(results))
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "medians": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

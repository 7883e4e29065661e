#!/usr/bin/env python3
"""Benchmark: the example web service built by lamina and by the `slim` and `venv`
Dockerfile routes of ../shared/BENCHMARK.md, on the same Docker engine and base.

Prints medians of --runs runs of: image size, cold build, no-op rebuild, rebuild after
an app-only edit, and the layers that edit changed (count and bytes, i.e. what a push
uploads), plus lamina's ratios against each route.

    .venv/bin/python build_support/benchmark.py [--runs 3] [--json out.json]

Needs root (mmdebstrap), a Docker engine (build_support/start_docker.sh) and network
access to PyPI and Debian. State (the base archive) is kept in .bench/.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import time
from pathlib import Path

import docker

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
STATE = REPO / ".bench"
BASE_TAG = "lamina-bench/base:bookworm"
WEB_DIR = "src/python/services/web"
HOST_CA = "/etc/ssl/certs/ca-certificates.crt"
APP_EDIT = "\n# an app-only edit\n"

DOCKERFILES = {
    "slim": f"""
        FROM {BASE_TAG}
        WORKDIR /app
        COPY requirements.txt .
        RUN python3.11 -m pip install --no-cache-dir --break-system-packages --require-hashes -r requirements.txt
        COPY . .
        RUN python3.11 -m pip install --no-cache-dir --break-system-packages --no-deps .
        ENV PORT=8000
        CMD ["python3.11", "-m", "services.web.main"]
    """,
    "venv": f"""
        FROM {BASE_TAG} AS builder
        RUN python3.11 -m venv /opt/venv
        ENV PATH=/opt/venv/bin:$PATH
        COPY requirements.txt /src/requirements.txt
        RUN pip install --no-cache-dir --require-hashes -r /src/requirements.txt
        COPY . /src
        RUN pip install --no-cache-dir --no-deps /src

        FROM {BASE_TAG}
        COPY --from=builder /opt/venv /opt/venv
        ENV PATH=/opt/venv/bin:$PATH PORT=8000
        CMD ["python", "-m", "services.web.main"]
    """,
}

PYPROJECT = """
    [build-system]
    requires = ["setuptools>=61"]
    build-backend = "setuptools.build_meta"

    [project]
    name = "web-service"
    version = "0"

    [tool.setuptools.packages.find]
    where = ["."]
    include = ["greeting*", "services*"]
"""


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(command, check=True, capture_output=True, text=True, timeout=1800, **kwargs)
    except subprocess.CalledProcessError as err:
        sys.exit(f"{' '.join(command)} failed ({err.returncode}):\n{err.stdout}\n{err.stderr}")


def timed(command: list[str], **kwargs) -> float:
    """Seconds ``command`` took (it must succeed)."""
    started = time.monotonic()
    _run(command, **kwargs)
    return time.monotonic() - started


def make_base(tag: str = BASE_TAG, extra: tuple[str, ...] = ("python3-pip", "python3-venv")) -> Path:
    """A benchmark base, loaded into the engine as ``tag``: bookworm + CPython 3.11 + ``extra``
    Debian packages + the host CA bundle, made once with mmdebstrap as a docker-archive in .bench/."""
    archive = STATE / f"{tag.split('/', 1)[1].replace(':', '-')}.tar"
    if not archive.exists():
        STATE.mkdir(exist_ok=True)
        spec = importlib.util.spec_from_file_location("mmdebstrap_base", REPO / "build_support" / "mmdebstrap_base.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        # TLS to PyPI is intercepted here: builder containers need the host's CA bundle.
        hooks = (f"--customize-hook=upload {HOST_CA} /etc/ssl/certs/ca-certificates.crt",)
        module.make_base_archive(archive, (*module.PACKAGES, *extra), hooks)
    with open(archive, "rb") as stream:
        (image,) = docker.from_env(timeout=600).images.load(stream)
    image.tag(tag)
    return archive


def _docker_context(directory: Path) -> None:
    shutil.copytree(EXAMPLES / "src/python/greeting", directory / "greeting")
    shutil.copytree(EXAMPLES / WEB_DIR, directory / "services/web")
    (directory / "BUILD").unlink(missing_ok=True)
    shutil.copy(EXAMPLES / "3rdparty/python/default.lock", directory / "requirements.txt")
    (directory / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))


def _layers(client, tag: str) -> dict[str, int]:
    """diff_id -> uncompressed size of each layer of the image, read from ``docker save``."""
    with tempfile.TemporaryFile() as saved:
        for chunk in client.images.get(tag).save(named=False):
            saved.write(chunk)
        saved.seek(0)
        with tarfile.open(fileobj=saved) as archive:
            (entry,) = json.load(archive.extractfile("manifest.json"))
            config = json.load(archive.extractfile(entry["Config"]))
            sizes = [archive.getmember(name).size for name in entry["Layers"]]
    return dict(zip(config["rootfs"]["diff_ids"], sizes))


def docker_route(route: str, client) -> dict:
    """One run of a Dockerfile route: cold, no-op, app edit."""
    tag = f"lamina-bench/{route}:latest"
    with tempfile.TemporaryDirectory() as scratch:
        context = Path(scratch)
        _docker_context(context)
        (context / "Dockerfile").write_text(textwrap.dedent(DOCKERFILES[route]))
        try:
            client.images.remove(tag, force=True)
        except docker.errors.ImageNotFound:
            pass
        client.images.prune(filters={"dangling": True})
        build = ["docker", "build", "--network", "host", "-q", "-t", tag, str(context)]
        env = {**os.environ, "DOCKER_BUILDKIT": "0"}
        cold = timed([*build[:-1], "--no-cache", str(context)], env=env)
        before = _layers(client, tag)
        noop = timed(build, env=env)
        with open(context / "services/web/main.py", "a") as handle:
            handle.write(APP_EDIT)
        edit = timed(build, env=env)
        after = _layers(client, tag)
        changed = {d: s for d, s in after.items() if d not in before}
        size = client.images.get(tag).attrs["Size"]
        client.images.remove(tag, force=True)
        client.images.prune(filters={"dangling": True})
    return {
        "cold": cold,
        "noop": noop,
        "edit": edit,
        "size": size,
        "changed_layers": len(changed),
        "changed_bytes": sum(changed.values()),
    }


def _manifest(layout: Path, address: str = f"{WEB_DIR}:web") -> dict:
    index = json.loads((layout / "index.json").read_text())
    (entry,) = [m for m in index["manifests"] if m["annotations"]["dev.lamina.target"] == address]
    digest = entry["digest"].split(":")[1]
    return json.loads((layout / "blobs/sha256" / digest).read_text())


def lamina_route(base_archive: Path, client) -> dict:
    """One run of lamina: cold (empty cache), no-op, app edit; outputs to dist/."""
    lamina = [str(REPO / ".venv/bin/lamina")]
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch) / "examples"
        shutil.copytree(EXAMPLES, work, ignore=shutil.ignore_patterns("dist", ".lamina", "__pycache__"))
        (work / "base").mkdir()
        os.link(base_archive, work / "base/base.tar")
        build_file = work / "BUILD"
        build_file.write_text('__defaults__({python_image: dict(base="docker-archive:base/base.tar")})\n')
        command = [*lamina, "--cache-dir", str(Path(scratch) / "cache"), "package", f"{WEB_DIR}:web"]
        layout = work / "dist/oci"  # the layout every image shares
        cold = timed(command, cwd=work)
        before = _manifest(layout)["layers"]
        noop = timed(command, cwd=work)
        with open(work / WEB_DIR / "main.py", "a") as handle:
            handle.write(APP_EDIT)
        edit = timed(command, cwd=work)
        after = _manifest(layout)["layers"]
        changed = [layer for layer in after if layer not in before]
        with open(work / "dist/src.python.services.web/web.tar", "rb") as stream:
            (image,) = client.images.load(stream)
        size = image.attrs["Size"]
        client.images.remove(image.id, force=True)
    return {
        "cold": cold, "noop": noop, "edit": edit, "size": size, "changed_layers": len(changed),
        "changed_bytes": sum(layer["size"] for layer in changed),
        "compressed_size": sum(layer["size"] for layer in after),
    }  # fmt: skip


def _median(runs: list[dict]) -> dict:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def _table(results: dict[str, dict]) -> str:
    rows = [("route", "image MB", "cold s", "no-op s", "app edit s", "layers changed", "bytes changed")]
    for route, r in results.items():
        rows.append((route, f"{r['size'] / 1e6:.1f}", f"{r['cold']:.2f}", f"{r['noop']:.2f}", f"{r['edit']:.2f}",
                     f"{r['changed_layers']:.0f}", f"{r['changed_bytes']:,.0f}"))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in rows]
    lamina = results["lamina"]
    for route in (r for r in results if r != "lamina"):
        other = results[route]
        lines.append(
            f"{route} / lamina: cold {other['cold'] / lamina['cold']:.1f}x, no-op {other['noop'] / lamina['noop']:.1f}x, "
            f"app edit {other['edit'] / lamina['edit']:.1f}x (time ratios; >1 means lamina is faster); "
            f"lamina's image is {lamina['size'] / other['size']:.2f}x the size; its edit changes "
            f"{lamina['changed_bytes']:,.0f} bytes vs {other['changed_bytes']:,.0f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run every route --runs times and print medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--routes", nargs="*", default=["lamina", "slim", "venv"])
    parser.add_argument("--json", type=Path, help="also write the raw runs here")
    args = parser.parse_args(argv)
    client = docker.from_env(timeout=1800)
    base_archive = make_base()
    runs: dict[str, list[dict]] = {route: [] for route in args.routes}
    for number in range(args.runs):
        for route in args.routes:
            result = lamina_route(base_archive, client) if route == "lamina" else docker_route(route, client)
            runs[route].append(result)
            print(
                f"run {number + 1} {route}: {json.dumps({k: round(v, 2) for k, v in result.items()})}", file=sys.stderr
            )
    results = {route: _median(r) for route, r in runs.items()}
    print(f"medians of {args.runs} runs (`{' '.join(['build_support/benchmark.py', *(argv or sys.argv[1:])])}`):")
    print(_table(results))
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "medians": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

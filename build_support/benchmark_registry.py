#!/usr/bin/env python3
"""Benchmark: the CI scenario of a registry-backed shared cache.

Machine A publishes the example web service with ``[lamina] remote_cache`` set; machine
B (a fresh clone with an empty cache directory) makes an app-only edit and publishes.
Next to it, the `slim` multi-stage Dockerfile route of build_support/benchmark.py:
``docker build`` of the same edit, then ``docker push``, on an engine that already built
the previous version (its layer cache warm, which favours Docker).

Bytes uploaded are measured on the registry's side: the growth of its blob storage.
Prints medians of --runs runs.

    .venv/bin/python build_support/benchmark_registry.py [--runs 3]

Needs root (the Dockerfile route's mmdebstrap base), a Docker engine
(build_support/start_docker.sh), docker-registry, and network access to PyPI and Debian.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import docker

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
WEB = "src/python/services/web:web"
EDIT = "\n# an app-only edit\n"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "build_support" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Registry:
    """A docker-registry on a free loopback port, its storage in a temporary directory."""

    def __init__(self, root: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.address = f"127.0.0.1:{probe.getsockname()[1]}"
        self.data = root / "data"
        config = root / "config.yml"
        storage = {"filesystem": {"rootdirectory": str(self.data)}, "delete": {"enabled": True}}
        config.write_text(json.dumps({"version": 0.1, "log": {"level": "error"}, "storage": storage,
                                      "http": {"addr": self.address}}))  # fmt: skip
        self.process = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)  # fmt: skip
        for _ in range(200):
            try:
                socket.create_connection(self.address.split(":"), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("docker-registry did not start")

    def stored_bytes(self) -> int:
        blobs = self.data / "docker/registry/v2/blobs"
        return sum(p.stat().st_size for p in blobs.rglob("data")) if blobs.exists() else 0

    def stop(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)


def _clone(destination: Path, registry: Registry) -> Path:
    shutil.copytree(EXAMPLES, destination, ignore=shutil.ignore_patterns("dist", "__pycache__"))
    with open(destination / "pants.toml", "a") as config:
        config.write(f'\n[oci]\ndefault_repository = "{registry.address}/ci"\n'
                     f'[lamina]\nremote_cache = "{registry.address}/lamina-cache"\n')  # fmt: skip
    return destination


def _publish(work: Path, cache: Path) -> float:
    started = time.monotonic()
    subprocess.run([str(REPO / ".venv/bin/lamina"), "--cache-dir", str(cache), "publish", WEB], cwd=work,
                   check=True, capture_output=True, timeout=1800)  # fmt: skip
    return time.monotonic() - started


def lamina_run() -> dict:
    """Machine A publishes; machine B, with an empty cache, publishes an app-only edit."""
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        registry = Registry(scratch)
        try:
            _publish(_clone(scratch / "a", registry), scratch / "cache-a")
            machine_b = _clone(scratch / "b", registry)
            with open(machine_b / "src/python/services/web/main.py", "a") as handle:
                handle.write(EDIT)
            before = registry.stored_bytes()
            seconds = _publish(machine_b, scratch / "cache-b")
            uploaded = registry.stored_bytes() - before
            downloaded = sum(p.stat().st_size for p in (scratch / "cache-b").rglob("*") if p.is_file())
        finally:
            registry.stop()
    return {"seconds": seconds, "uploaded": uploaded, "downloaded": downloaded}


def docker_run(bench, client) -> dict:
    """docker build (warm engine) of the same edit with the slim Dockerfile, then docker push."""
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        registry = Registry(scratch)
        context = scratch / "context"
        context.mkdir()
        bench._docker_context(context)
        (context / "Dockerfile").write_text(textwrap.dedent(bench.DOCKERFILES["slim"]))
        tag = f"{registry.address}/ci/web-docker:latest"
        env = {**os.environ, "DOCKER_BUILDKIT": "0"}
        build = ["docker", "build", "--network", "host", "-q", "-t", tag, str(context)]
        try:
            subprocess.run(build, check=True, capture_output=True, env=env, timeout=1800)
            subprocess.run(["docker", "push", tag], check=True, capture_output=True, timeout=1800)
            with open(context / "services/web/main.py", "a") as handle:
                handle.write(EDIT)
            before = registry.stored_bytes()
            started = time.monotonic()
            subprocess.run(build, check=True, capture_output=True, env=env, timeout=1800)
            subprocess.run(["docker", "push", tag], check=True, capture_output=True, timeout=1800)
            seconds = time.monotonic() - started
            uploaded = registry.stored_bytes() - before
        finally:
            registry.stop()
            subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, check=False)
            client.images.prune(filters={"dangling": True})
    return {"seconds": seconds, "uploaded": uploaded}


def main(argv: list[str] | None = None) -> int:
    """Run both routes --runs times; print medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    bench = _load("benchmark")
    bench.make_base()
    client = docker.from_env(timeout=1800)
    lamina, dockerfile = [], []
    for number in range(args.runs):
        lamina.append(lamina_run())
        dockerfile.append(docker_run(bench, client))
        print(f"run {number + 1}: lamina {lamina[-1]}, docker {dockerfile[-1]}", file=sys.stderr)
    median = lambda runs, key: statistics.median(run[key] for run in runs)
    print(f"medians of {args.runs} runs (`build_support/benchmark_registry.py {' '.join(argv or sys.argv[1:])}`):")
    print(
        f"lamina publish on machine B (fresh cache, remote cache): {median(lamina, 'seconds'):.2f} s, "
        f"uploaded {median(lamina, 'uploaded'):,.0f} bytes, downloaded {median(lamina, 'downloaded'):,.0f} bytes"
    )
    print(
        f"docker build + docker push (slim route, warm engine): {median(dockerfile, 'seconds'):.2f} s, "
        f"uploaded {median(dockerfile, 'uploaded'):,.0f} bytes"
    )
    print(f"ratio: docker / lamina time {median(dockerfile, 'seconds') / median(lamina, 'seconds'):.1f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

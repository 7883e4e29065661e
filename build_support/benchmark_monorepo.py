#!/usr/bin/env python3
"""Benchmark: `lamina package ::` on a synthetic monorepo of N services, as N grows.

Shared layers must be computed once and unchanged images not rebuilt, so the figures
should grow slowly with N. Generates, in a temporary directory, a Pants-style repository
like examples/: its pants.toml (without its [oci] outputs: the default, one shared OCI
layout), its python3.11 debian_base (amd64 only here) plus libstdc++6, which numpy's and pandas'
extensions load, and one resolve (numpy and pandas, which some services share, and ten
small distributions), both locked once by `lamina generate-lockfiles`; a few shared
libraries under src/python/libs/; N services under src/python/services/, each a
python_image. Every service imports libs.common, one other library and two small
requirements in rotation; every 3rd also numpy, every 5th pandas (29 distinct
third-party closures in all, whatever N >= 30).

Prints, for each N, medians of --runs runs of the wall time of the real CLI
(.venv/bin/lamina, with its own --cache-dir) for:

* cold `package ::`: no dist/ and a fresh cache, except that its blobs/ (downloaded
  wheels, sdists and .debs) are copied from a cache warmed by an untimed `package ::`
  on a small repository; actions/ is not, so every layer is computed again and nothing
  is downloaded (only the package index's project pages, which lamina keeps for one run);
* a no-op `package ::` right after it, then one after appending a comment to one
  service's main.py, then one after appending a comment to libs.common, which every
  service imports;
* the size of dist/ and of the cache after those builds (hard-linked files counted once);
* for N = --jobs-size, cold with `--jobs=1` and `--jobs=2`, and the speed-up (n/a when
  lamina has no --jobs option).

    .venv/bin/python build_support/benchmark_monorepo.py [--sizes 50 500] [--runs 3] [--keep DIR]

Needs network access to PyPI and Debian's archive. dist/ and the cache grow with N (the
figures printed for a small N tell by how much): mind the disk for large N.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import stat
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
LAMINA = str(REPO / ".venv/bin/lamina")
TIMEOUT = 1800
EDIT = "\n# an edit made by the benchmark\n"

HEAVY = {"numpy": ("numpy>=1.26", 3), "pandas": ("pandas>=2.1", 5)}  # module: (requirement, every how many services)
SMALL = {  # module: requirement
    "attr": "attrs>=23.1",
    "click": "click>=8.1",
    "idna": "idna>=3.6",
    "certifi": "certifi>=2024.2.2",
    "six": "six>=1.16",
    "dateutil": "python-dateutil>=2.8",
    "jinja2": "jinja2>=3.1",
    "tabulate": "tabulate>=0.9",
    "docopt": "docopt==0.6.2",
    "yaml": "pyyaml>=6.0",
}
LIBS = {  # the shared libraries under src/python/libs/ and the small requirement each imports
    "common": "attr",
    "common_text": "jinja2",
    "common_data": "yaml",
    "common_time": "dateutil",
}
WARM_SERVICES = len(SMALL)  # enough for every requirement to be used at least once


# -- the synthetic repository -----------------------------------------------------------


def _debian_build() -> str:
    """The examples' python3.11 debian_base target plus libstdc++6, which numpy's and
    pandas' extensions load (lamina refuses an image lacking it); locked by ``prepare``."""
    text = (EXAMPLES / "3rdparty/debian/BUILD").read_text()
    match = re.search(r'^debian_base\(\n    name="python3\.11",\n.*?^\)\n', text, re.MULTILINE | re.DOTALL)
    if match is None or '"libpython3.11-stdlib",\n' not in match.group(0):
        sys.exit("no debian_base(name='python3.11') as expected in examples/3rdparty/debian/BUILD")
    base = match.group(0).replace('"libpython3.11-stdlib",\n', '"libpython3.11-stdlib",\n        "libstdc++6",\n', 1)
    return base.replace('architectures=["amd64", "arm64"]', 'architectures=["amd64"]')  # one platform, as most CI


def _lib_source(name: str) -> str:
    module = LIBS[name]
    return (
        f'"""{name}: a shared library of the synthetic monorepo."""\n\n'
        f"import {module}\n\n\n"
        f"def describe(service: str, modules: list[str]) -> str:\n"
        f'    """One line naming the service and the modules it imported."""\n'
        f'    return f"{{service}} ({name}): " + ", ".join([{module}.__name__, *modules])\n'
    )


def make_template(root: Path) -> None:
    """Everything but the services: pants.toml, BUILD defaults, 3rdparty/ and the libraries."""
    root.mkdir(parents=True)
    config = (EXAMPLES / "pants.toml").read_text()
    (root / "pants.toml").write_text(config.split("\n[oci]")[0])  # lamina's default outputs: the shared layout
    shutil.copy(EXAMPLES / "BUILD", root / "BUILD")
    debian = root / "3rdparty/debian"
    debian.mkdir(parents=True)
    (debian / "BUILD").write_text(_debian_build())
    python = root / "3rdparty/python"
    python.mkdir(parents=True)
    requirements = [requirement for requirement, _ in HEAVY.values()] + list(SMALL.values())
    (python / "requirements.txt").write_text("\n".join(sorted(requirements)) + "\n")
    (python / "BUILD").write_text('python_requirements(name="reqs")\n')
    for name in LIBS:
        lib = root / "src/python/libs" / name
        lib.mkdir(parents=True)
        (lib / "__init__.py").write_text(_lib_source(name))
        (lib / "BUILD").write_text("python_sources()\n")


def service_modules(index: int) -> list[str]:
    """The third-party modules service ``index`` imports itself."""
    small = list(SMALL)
    modules = [small[index % len(small)], small[(index + 3) % len(small)]]
    return modules + [module for module, (_, every) in HEAVY.items() if index % every == 0]


def _service_source(name: str, index: int) -> str:
    lib = list(LIBS)[1 + index % (len(LIBS) - 1)]
    modules = service_modules(index)
    imports = "".join(f"import {module}\n" for module in modules)
    return (
        f'"""{name}: a service of the synthetic monorepo."""\n\n'
        f"{imports}\n"
        f"from libs.common import describe\nfrom libs.{lib} import describe as describe_{lib}\n\n\n"
        f"def main() -> int:\n"
        f'    print(describe("{name}", [{", ".join(f"{m}.__name__" for m in modules)}]))\n'
        f'    print(describe_{lib}("{name}", []))\n'
        f"    return 0\n\n\n"
        f'if __name__ == "__main__":\n'
        f"    raise SystemExit(main())\n"
    )


def _service_build(name: str) -> str:
    return (
        'python_sources(name="lib")\n\n'
        "python_image(\n"
        '    name="img",\n'
        f'    entry_point="services.{name}.main:main",\n'
        f'    repository="lamina-bench/{name}",\n'
        '    image_tags=["latest"],\n'
        '    user="65532",\n'
        ")\n"
    )


def make_repo(template: Path, root: Path, services: int) -> None:
    """A copy of the (locked) template with ``services`` services."""
    shutil.copytree(template, root)
    for index in range(services):
        name = f"svc{index:03d}"
        service = root / "src/python/services" / name
        service.mkdir(parents=True)
        (service / "main.py").write_text(_service_source(name, index))
        (service / "BUILD").write_text(_service_build(name))


# -- running lamina -----------------------------------------------------------------------


def lamina(cache: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run the CLI with ``cache`` as its cache (whether or not it succeeds)."""
    command = [LAMINA, "--cache-dir", str(cache), *args]
    return subprocess.run(command, check=False, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT)


def succeed(result: subprocess.CompletedProcess, cwd: Path) -> None:
    """Exit with lamina's output if it failed."""
    if result.returncode != 0:
        command = " ".join(result.args)
        sys.exit(f"`{command}` in {cwd} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


def timed_package(cache: Path, repo: Path, *options: str) -> float | None:
    """Seconds `package ::` took; None if lamina rejects ``options`` as unknown."""
    started = time.monotonic()
    result = lamina(cache, *options, "package", "::", cwd=repo)
    elapsed = time.monotonic() - started
    if options and result.returncode == 2 and "unrecognized arguments" in result.stderr:
        return None
    succeed(result, repo)
    return elapsed


def seeded_cache(seed: Path, cache: Path) -> Path:
    """A fresh cache holding only the seed's blobs/ (hard links where possible)."""
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    shutil.copytree(seed / "blobs", cache / "blobs", copy_function=_link_or_copy)
    return cache


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def disk_usage(path: Path) -> int:
    """Bytes of the files under ``path``, each hard-linked inode counted once."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for directory, _, files in os.walk(path):
        for name in files:
            info = os.lstat(os.path.join(directory, name))
            if stat.S_ISREG(info.st_mode) and (info.st_dev, info.st_ino) not in seen:
                seen.add((info.st_dev, info.st_ino))
                total += info.st_size
    return total


def _append(path: Path) -> None:
    with open(path, "a") as handle:
        handle.write(EDIT)


# -- the benchmark ----------------------------------------------------------------------


def prepare(root: Path, seed: Path) -> Path:
    """The locked template, and a seed cache warmed by an untimed `package ::`."""
    template = root / "template"
    shutil.rmtree(template, ignore_errors=True)
    make_template(template)
    print("locking the resolve and the base (lamina generate-lockfiles) ...", file=sys.stderr)
    locking = ("generate-lockfiles", "--resolve=python-default", "--resolve=3rdparty/debian:python3.11")
    succeed(lamina(seed, *locking, cwd=template), template)
    warm = root / "warm"
    shutil.rmtree(warm, ignore_errors=True)
    make_repo(template, warm, WARM_SERVICES)
    print(f"warming the seed cache (package :: on {WARM_SERVICES} services) ...", file=sys.stderr)
    succeed(lamina(seed, "package", "::", cwd=warm), warm)
    shutil.rmtree(warm)
    return template


def one_run(template: Path, seed: Path, work: Path, services: int, jobs: bool) -> dict:
    """Cold, no-op, one-service edit and shared-library edit builds, sizes, and (``jobs``) --jobs 1 and 2."""
    repo, cache = work / "repo", work / "cache"
    shutil.rmtree(repo, ignore_errors=True)
    make_repo(template, repo, services)
    result = {"cold": timed_package(seeded_cache(seed, cache), repo)}
    result["noop"] = timed_package(cache, repo)
    _append(repo / f"src/python/services/svc{services // 2:03d}/main.py")
    result["service_edit"] = timed_package(cache, repo)
    _append(repo / "src/python/libs/common/__init__.py")
    result["library_edit"] = timed_package(cache, repo)
    result["dist_bytes"] = disk_usage(repo / "dist")
    result["cache_bytes"] = disk_usage(cache)
    if jobs:
        for count in (1, 2):
            shutil.rmtree(repo / "dist")
            elapsed = timed_package(seeded_cache(seed, cache), repo, f"--jobs={count}")
            result[f"jobs{count}"] = elapsed
            if elapsed is None:
                result["jobs2"] = None
                break
    shutil.rmtree(cache)
    return result


def _median(runs: list[dict]) -> dict:
    keys = dict.fromkeys(key for run in runs for key in run)
    return {
        key: None if any(run.get(key) is None for run in runs) else statistics.median(run[key] for run in runs)
        for key in keys
    }


ROWS = [  # key, label, format
    ("cold", "cold package :: (downloads seeded) s", "{:.2f}"),
    ("noop", "no-op package :: s", "{:.2f}"),
    ("service_edit", "one-service edit s", "{:.2f}"),
    ("library_edit", "shared-library edit s", "{:.2f}"),
    ("dist_bytes", "dist/ MB", "{:.0f}"),
    ("cache_bytes", "cache MB", "{:.0f}"),
    ("jobs1", "cold --jobs=1 s", "{:.2f}"),
    ("jobs2", "cold --jobs=2 s", "{:.2f}"),
    ("speedup", "speed-up jobs1/jobs2", "{:.2f}x"),
]


def _cell(result: dict, key: str, template: str) -> str:
    if key not in result:
        return "-"
    value = result[key]
    if value is None:
        return "n/a (no --jobs)"
    return template.format(value / 1e6 if key.endswith("_bytes") else value)


def table(results: dict[int, dict]) -> str:
    """One row per figure, one column per number of services."""
    for result in results.values():
        if "jobs1" in result:
            jobs1, jobs2 = result["jobs1"], result["jobs2"]
            result["speedup"] = None if jobs1 is None or jobs2 is None else jobs1 / jobs2
    rows = [("services", *(str(size) for size in results))]
    rows += [(label, *(_cell(r, key, template) for r in results.values())) for key, label, template in ROWS]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width) for i, (cell, width) in enumerate(zip(row, widths))
        )
        for row in rows
    )


def main(argv: list[str] | None = None) -> int:
    """Prepare the lock and seed once, run every size --runs times, print medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[50, 500], help="numbers of services")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs-size", type=int, default=50, help="the size --jobs=1 and --jobs=2 are compared at")
    parser.add_argument("--keep", type=Path, help="work here and keep the repositories and the seed cache afterwards")
    args = parser.parse_args(argv)
    root = args.keep.absolute() if args.keep else Path(tempfile.mkdtemp(prefix="lamina-monorepo-"))
    try:
        seed = root / "seed-cache"
        template = prepare(root, seed)
        results = {}
        for size in args.sizes:
            runs = []
            for number in range(args.runs):
                runs.append(one_run(template, seed, root / f"services-{size}", size, size == args.jobs_size))
                figures = {k: round(v, 2) if isinstance(v, float) else v for k, v in runs[-1].items()}
                print(f"N={size} run {number + 1}: {figures}", file=sys.stderr)
            results[size] = _median(runs)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    command = " ".join(["build_support/benchmark_monorepo.py", *(argv if argv is not None else sys.argv[1:])])
    print(f"medians of {args.runs} run(s) (`{command}`); cold = empty actions/, blobs/ seeded with the downloads:")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

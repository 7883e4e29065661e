"""Building a wheel from an sdist inside a builder's root filesystem, in the sandbox.

The host unpacks the sdist (refusing members that would land outside it) and installs
the build requirements' wheels (verified by the caller; pure or built for the builder's
platform) into a scratch directory; the sandbox sees them at fixed paths (``/tmp/src``,
``/tmp/buildenv``), runs the builder's own CPython on a small PEP 517 frontend that calls
the sdist's backend
(``setuptools.build_meta:__legacy__`` when it declares none), and writes the wheel to
``/tmp/out``. No network, nothing of the host but these directories, fixed
``SOURCE_DATE_EPOCH`` and paths: the same inputs give the same wheel.
"""

from __future__ import annotations

import json
import subprocess
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.sources import WheelFile
from packaging.requirements import InvalidRequirement, Requirement

from lamina import sandbox
from lamina.errors import BuildError
from lamina.python.install import NOT_A_WHEEL, Wheel

SOURCE, OUTPUT, BUILD_ENV = "/tmp/src", "/tmp/out", "/tmp/buildenv"

# A PEP 517 frontend small enough to read: the backend named by pyproject.toml (or setuptools'
# legacy one) asked one hook, ``build`` (build_wheel) or ``requires`` (get_requires_for_build_wheel).
FRONTEND = """
import importlib, json, os, sys, tomllib
os.umask(0o022)  # file modes in the wheel do not depend on the sandbox's
os.chdir(%(src)r)
try:
    with open("pyproject.toml", "rb") as handle:
        system = tomllib.load(handle).get("build-system", {})
except FileNotFoundError:
    system = {}
sys.path[:0] = [os.path.join(%(src)r, path) for path in system.get("backend-path", [])]
module, _, attribute = system.get("build-backend", "setuptools.build_meta:__legacy__").partition(":")
backend = importlib.import_module(module)
for part in filter(None, attribute.split(".")):
    backend = getattr(backend, part)
if sys.argv[1] == "requires":
    asked = getattr(backend, "get_requires_for_build_wheel", lambda: [])()
    print("lamina-requires", json.dumps([str(r) for r in asked]))
else:
    print("built", backend.build_wheel(%(out)r))
""" % {"src": SOURCE, "out": OUTPUT}
_REQUIRES_MARK = "lamina-requires "


def _unpack_sdist(sdist: Path, filename: str, destination: Path) -> Path:
    try:
        with tarfile.open(sdist) as archive:
            archive.extractall(destination, filter="data")
    except (tarfile.TarError, OSError, EOFError) as err:
        raise BuildError(f"cannot unpack {filename}: {err}") from None
    tops = [p for p in destination.iterdir()]
    if len(tops) != 1 or not tops[0].is_dir():
        raise BuildError(f"{filename} is not an sdist: it does not hold one top-level directory")
    return tops[0]


def _install_build_env(wheels: Sequence[Wheel], destination: Path, python: str) -> None:
    """Install the build requirements' wheels (pure or compiled for the builder's platform)
    with ``installer`` into one prefix the sandbox sees at ``BUILD_ENV``: modules at its top
    (``PYTHONPATH``), scripts in ``bin/`` (on ``PATH``) for the builder's ``python``."""
    for wheel in wheels:
        name = wheel.filename.split("-")[0]
        scheme = {
            "purelib": str(destination), "platlib": str(destination), "scripts": str(destination / "bin"),
            "data": str(destination / "data"), "headers": str(destination / "include" / name),
        }  # fmt: skip
        try:
            with open(wheel.path, "rb") as handle, zipfile.ZipFile(handle) as archive:
                archive.filename = wheel.filename  # cache blobs are named by digest; installer reads the name
                into = SchemeDictionaryDestination(scheme, python, "posix", bytecode_optimization_levels=())
                install(WheelFile(archive), into, {"INSTALLER": b"lamina\n"})
        except NOT_A_WHEEL as err:
            raise BuildError(f"cannot install build requirement {wheel.filename}: {err}") from None


@dataclass(frozen=True)
class BuiltWheel:
    """A wheel built in the sandbox, and what the build printed."""

    path: Path
    log: str


@dataclass(frozen=True)
class SandboxedBuild:
    """Where and with what an sdist is built: the builder's tree and interpreter, the build
    requirements' wheels, an empty scratch directory of the caller's, and what the build may
    see besides the sandbox's fixed variables."""

    rootfs: Path
    python: str
    build_wheels: Sequence[Wheel]
    scratch: Path
    environment: Mapping[str, str] | None = None
    sandbox: str = "auto"  # bubblewrap, docker, or auto (bubblewrap where it works)


def _run_hook(sdist: Path, filename: str, build: SandboxedBuild, hook: str) -> tuple[Path, subprocess.CompletedProcess]:
    """Run the frontend's ``hook`` on ``sdist`` in the sandbox; the output directory and the result."""
    source = _unpack_sdist(sdist, filename, build.scratch / "sdist")
    build_env, output = build.scratch / "buildenv", build.scratch / "out"
    build_env.mkdir()
    output.mkdir()
    _install_build_env(build.build_wheels, build_env, build.python)
    result = sandbox.run(
        build.rootfs,
        [build.python, "-c", FRONTEND, hook],
        mounts=[
            sandbox.Mount(source, SOURCE, writable=True),
            sandbox.Mount(build_env, BUILD_ENV),
            sandbox.Mount(output, OUTPUT, writable=True),
        ],
        environment={**(build.environment or {}), "PYTHONPATH": BUILD_ENV, "PATH": f"{BUILD_ENV}/bin:{sandbox.PATH}"},
        workdir=SOURCE,
        kind=build.sandbox,
    )
    return output, result


def _failure(filename: str, what: str, result: subprocess.CompletedProcess) -> BuildError:
    tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
    return BuildError(f"{what} {filename} in the sandbox failed (exit {result.returncode}):\n{tail}")


def build_in_sandbox(sdist: Path, filename: str, build: SandboxedBuild) -> BuiltWheel:
    """The wheel built from ``sdist`` (named ``filename``) by the builder's interpreter."""
    output, result = _run_hook(sdist, filename, build, "build")
    built = sorted(output.glob("*.whl"))
    if result.returncode != 0 or len(built) != 1:
        raise _failure(filename, "building", result)
    return BuiltWheel(built[0], result.stdout + result.stderr)


def requires_in_sandbox(sdist: Path, filename: str, build: SandboxedBuild) -> list[str]:
    """What the sdist's backend asks for besides ``[build-system] requires``
    (``get_requires_for_build_wheel``), asked in the sandbox as the build would be."""
    _, result = _run_hook(sdist, filename, build, "requires")
    lines = [line for line in result.stdout.splitlines() if line.startswith(_REQUIRES_MARK)]
    if result.returncode != 0 or len(lines) != 1:
        raise _failure(filename, "asking the build requirements of", result)
    try:
        asked = json.loads(lines[0].removeprefix(_REQUIRES_MARK))
        return [str(Requirement(text)) for text in asked]
    except (ValueError, TypeError, InvalidRequirement) as err:
        raise BuildError(f"{filename}: its backend asked for invalid build requirements ({err})") from None

"""Building a ``.pex`` with pex itself, offline: lamina hands it the first-party files and
the exact wheels (fetched and hash-checked by lamina), and pex resolves nothing.

pex runs as ``python -m pex`` from lamina's own environment, with its own cache
(``PEX_ROOT``) in a fresh temporary directory, so nothing it keeps between runs can
change what it writes: the same inputs give the same bytes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from lamina.errors import BuildError
from lamina.python.install import Wheel

LAYOUTS = ("zipapp", "packed", "loose")
EXECUTION_MODES = ("zipapp", "venv")
INHERIT_PATH = ("false", "prefer", "fallback")


# pex resolves with the pip it vendors, which runs on Python 3.11 and older only; on a newer
# Python it needs this pip, and the setuptools and wheel it installs beside it, which lamina
# fetches from the index, checks against these hashes (PyPI's) and hands to pex offline.
RESOLVER_PIP = "25.2"
RESOLVER_WHEELS = (  # (name, version, file, sha256)
    ("pip", "25.2", "pip-25.2-py3-none-any.whl", "6d67a2b4e7f14d8b31b8b52648866fa717f45a1eb70e83002f4331d07e953717"),
    ("setuptools", "80.9.0", "setuptools-80.9.0-py3-none-any.whl",
     "062d34222ad13e0cc312a4c02d73f059e86a4acbfbdea8f8f76b28c99f306922"),
    ("wheel", "0.45.1", "wheel-0.45.1-py3-none-any.whl", "708e7481cc80179af0e556bbf0cc00b8444c7321e2700b8d8580231d13017248"),
)  # fmt: skip


def pex_version() -> str:
    """The version of pex lamina runs."""
    return version("pex")


def pex_identity() -> str:
    """What builds a pex, for cache keys: pex's version and the X.Y of the Python running it
    (on 3.12 and newer pex leaves its vendored setuptools out of the bootstrap)."""
    return f"pex {pex_version()} on CPython {sys.version_info[0]}.{sys.version_info[1]}"


def needs_resolver_pip() -> bool:
    """Whether pex's vendored pip cannot run on this Python, so ``RESOLVER_WHEELS`` are needed."""
    return sys.version_info >= (3, 12)


@dataclass(frozen=True)
class PexRequest:
    """What pex is asked to build, besides the files and wheels."""

    entry_point: str | None = None  # module[:function], for -e
    script: str | None = None  # a console script of a distribution, for -c
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    layout: str = "zipapp"
    execution_mode: str = "zipapp"
    include_tools: bool = False
    inherit_path: str | None = None
    shebang: str | None = None
    pins: tuple[str, ...] = ()  # "name==version" of every wheel, all of them (pex resolves nothing)
    complete_platforms: tuple[dict, ...] = ()

    def to_json(self) -> dict:
        """A JSON-ready dict (for the cache key)."""
        return {
            "entry_point": self.entry_point, "script": self.script, "args": list(self.args), "env": list(self.env),
            "layout": self.layout, "execution_mode": self.execution_mode, "include_tools": self.include_tools,
            "inherit_path": self.inherit_path, "shebang": self.shebang, "pins": sorted(self.pins),
            "complete_platforms": list(self.complete_platforms),
        }  # fmt: skip


def build_pex(
    request: PexRequest, files: dict[str, Path], wheels: Sequence[Wheel], work: Path, resolver: Sequence[Wheel] = ()
) -> Path:
    """Run pex in ``work`` (an empty directory); return the ``.pex`` it wrote (a file, or a
    directory for the ``packed`` and ``loose`` layouts). ``resolver``: the ``RESOLVER_WHEELS``,
    where pex's vendored pip cannot run."""
    sources, find_links, root = work / "sources", work / "wheels", work / "pex_root"
    for path, source in files.items():
        (sources / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, sources / path)
    find_links.mkdir()
    for wheel in (*wheels, *resolver):
        if not (find_links / wheel.filename).exists():  # a pex of setuptools itself has it once
            os.symlink(wheel.path, find_links / wheel.filename)
    command = [sys.executable, "-m", "pex", "--no-pypi", "--find-links", str(find_links), "--intransitive"]
    command += ["--no-emit-warnings", "--layout", request.layout, "--output-file", str(work / "out.pex")]
    if files:
        command += ["--sources-directory", str(sources)]
    if resolver:
        command += ["--pip-version", RESOLVER_PIP]
    for index, platform in enumerate(request.complete_platforms):
        path = work / f"platform-{index}.json"
        path.write_text(json.dumps(platform, sort_keys=True))
        command += ["--complete-platform", str(path)]
    if request.entry_point:
        command += ["--entry-point", request.entry_point]
    if request.script:
        command += ["--script", request.script]
    command += [f"--inject-args={arg}" for arg in request.args]
    command += [f"--inject-env={name}={value}" for name, value in request.env]
    if request.execution_mode == "venv":
        command.append("--venv")
    if request.include_tools:
        command.append("--include-tools")
    if request.inherit_path:
        command += ["--inherit-path", request.inherit_path]
    if request.shebang:
        command += ["--python-shebang", request.shebang]
    command += list(request.pins)
    env = {**os.environ, "PEX_ROOT": str(root), "PEX_VERBOSE": "0", "PIP_CONFIG_FILE": os.devnull}
    env.pop("PEX_PYTHON_PATH", None)
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BuildError(
            f"pex {pex_version()} failed ({done.returncode}):\n{done.stderr.strip() or done.stdout.strip()}"
        )
    return work / "out.pex"

"""Bytecode for a third-party layer, compiled at build time by the image's own CPython.

Without it, every container start compiles every module it imports, and can save
nothing (site-packages is root-owned and read-only under a nonroot user), so each
start pays again. lamina writes each ``.py`` file's ``__pycache__/NAME.cpython-XY.pyc``
into the layer beside it as an *unchecked-hash* pyc (PEP 552): valid whatever the
files' times, never rechecked or rewritten at import.

The compiler is the base's interpreter, run in the sandbox (no network, read-only root)
on the base's own files: bytecode is what that CPython makes, not the host's. Pyc files
do not depend on the machine, so for a multi-architecture base the image of this
machine's architecture compiles for all of them; a base of another architecture only
runs under emulation.

A pyc's bytes can depend on what its interpreter compiled before, so a layer's files are
cut, in path order, into shards of about ``SHARD_BYTES`` of source, and one fresh
interpreter compiles each shard's files in path order. Most layers are one shard, which
one interpreter compiles; for a layer of several (pandas' 1,500 modules), a first
interpreter starts one per shard, up to ``workers`` at once. Which of those ways a layer
takes, and each shard's files, depend only on the files, so the bytes do not depend on
``workers``. A file that does not compile (Python 2 test data in some wheels) gets no pyc,
as ``compileall`` leaves it.
"""

from __future__ import annotations

import json
import posixpath
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lamina import sandbox
from lamina.errors import BuildError
from lamina.tar.entries import FILE, TarEntry

SOURCES, OUTPUT = "/tmp/py", "/tmp/pyc"
SHARD_BYTES = 4 << 20
# The base's own modules ship without bytecode and its root is read-only: the first
# interpreter of a layer of several shards compiles what the compilers import into this
# private cache before it starts any, so every shard's interpreter loads them from there.
PYCACHE = "pycache_prefix=/tmp/pycache"
SHARD = """
import json, os, py_compile, sys
os.umask(0o022)
shard = json.load(open(os.path.join(sys.argv[1], "shards.json")))[int(sys.argv[3])]
for number, dfile in shard:
    source = os.path.join(sys.argv[1], f"{number}.py")
    try:
        py_compile.compile(source, cfile=os.path.join(sys.argv[2], f"{number}.pyc"), dfile=dfile, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    except py_compile.PyCompileError:
        pass
"""
COMPILER = """
import json, os, subprocess, sys
shards, workers = len(json.load(open(os.path.join(sys.argv[1], "shards.json")))), int(sys.argv[3])
running, failed = [], 0
for shard in range(shards):
    if len(running) >= workers:
        failed |= running.pop(0).wait()
    argv = [sys.executable, "-I", "-X", sys.argv[5], "-c", sys.argv[4], sys.argv[1], sys.argv[2], str(shard)]
    running.append(subprocess.Popen(argv))
for process in running:
    failed |= process.wait()
sys.exit(1 if failed else 0)
"""


@dataclass(frozen=True)
class Compiler:
    """An interpreter that compiles for the image: its root filesystem (made when first
    needed), path and version."""

    tree: Callable[[], Path]
    python: str
    python_version: str  # X.Y, for the cache tag
    identity: str  # what the bytecode depends on (the compiling image's digest): part of cache keys
    sandbox: str = "auto"
    workers: int = 1  # shards compiled at once (changes no byte)

    @property
    def cache_tag(self) -> str:
        """``cpython-311``: the part of a pyc's name that says which CPython it is for."""
        return "cpython-" + self.python_version.replace(".", "")


def compile_entries(entries: Sequence[TarEntry], compiler: Compiler, scratch: Path) -> list[TarEntry]:
    """A pyc entry for each ``.py`` file of ``entries`` that compiles (none for the others);
    their contents stay in ``scratch`` (an empty directory), which must outlive them."""
    sources = sorted((e for e in entries if e.kind == FILE and e.path.endswith(".py")), key=lambda e: e.path)
    if not sources:
        return []
    inputs, output = scratch / "py", scratch / "pyc"
    inputs.mkdir()
    output.mkdir()
    for number, entry in enumerate(sources):
        target = inputs / f"{number}.py"
        if entry.data is not None:
            target.write_bytes(entry.data)
        else:  # a file the install spilled to disk (the sandbox sees only what is mounted: no symlinks out)
            shutil.copyfile(entry.source, target)  # type: ignore[arg-type]
    shards = _shards(sources)
    (inputs / "shards.json").write_text(json.dumps(shards))
    if len(shards) == 1:  # most layers: one interpreter, no more
        argv = [compiler.python, "-I", "-c", SHARD, SOURCES, OUTPUT, "0"]
    else:
        workers = str(max(1, compiler.workers))
        argv = [compiler.python, "-I", "-X", PYCACHE, "-c", COMPILER, SOURCES, OUTPUT, workers, SHARD, PYCACHE]
    result = sandbox.run(
        compiler.tree(),
        argv,
        mounts=[sandbox.Mount(inputs, SOURCES), sandbox.Mount(output, OUTPUT, writable=True)],
        kind=compiler.sandbox,
    )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise BuildError(f"compiling bytecode with {compiler.python} of the base failed:\n{tail}")
    compiled = []
    for number, entry in enumerate(sources):
        pyc = output / f"{number}.pyc"
        if pyc.is_file():
            directory, name = posixpath.split(entry.path)
            path = posixpath.join(directory, "__pycache__", f"{name[:-3]}.{compiler.cache_tag}.pyc")
            compiled.append(TarEntry.from_path(path, pyc))
    return compiled


def _shards(sources: Sequence[TarEntry]) -> list[list[tuple[int, str]]]:
    """``(number, path in the image)`` of ``sources``, cut in order once a shard holds ``SHARD_BYTES``."""
    shards: list[list[tuple[int, str]]] = [[]]
    size = 0
    for number, entry in enumerate(sources):
        if size >= SHARD_BYTES:
            shards.append([])
            size = 0
        shards[-1].append((number, "/" + entry.path))
        size += entry.size()
    return shards

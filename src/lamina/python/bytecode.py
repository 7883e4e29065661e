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
runs under emulation. One fresh interpreter compiles a layer's files in path order, so
the same files and the same interpreter give the same bytes. A file that does not
compile (Python 2 test data in some wheels) gets no pyc, as ``compileall`` leaves it.
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
COMPILER = """
import json, os, py_compile, sys
os.umask(0o022)
listing = json.load(open(os.path.join(sys.argv[1], "files.json")))
for number, dfile in listing:
    source = os.path.join(sys.argv[1], f"{number}.py")
    try:
        py_compile.compile(source, cfile=os.path.join(sys.argv[2], f"{number}.pyc"), dfile=dfile, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    except py_compile.PyCompileError:
        pass
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
    (inputs / "files.json").write_text(json.dumps([[n, "/" + e.path] for n, e in enumerate(sources)]))
    result = sandbox.run(
        compiler.tree(),
        [compiler.python, "-I", "-c", COMPILER, SOURCES, OUTPUT],
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

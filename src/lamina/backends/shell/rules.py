"""How a ``shell_command`` runs: ``bash -c COMMAND`` in lamina's sandbox (no network, the
machine's root read-only, a private writable copy of the build root holding only the
files of its ``execution_dependencies``), with only its ``tools`` on ``PATH``; its
``output_files`` and ``output_directories`` are kept in the cache, keyed by everything
that goes in, and handed to the targets that use them at their repository paths, with
their executable bit (as Pants keeps it in its digests)."""

from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
from pathlib import Path

from lamina import sandbox
from lamina.backends.context import BuildContext
from lamina.backends.environment import named_values
from lamina.cache import action_key, file_digest
from lamina.docker.assemble import ContextFile
from lamina.errors import BuildError, BuildFileError
from lamina.graph.target import Target

FORMAT = 2
_ROOT = "/tmp/lamina-build-root"  # the build root, inside the sandbox
_TOOLS = "/tmp/lamina-tools"


def _fail(target: Target, message: str) -> BuildFileError:
    return BuildFileError(f"{target.address}: {message}", path=target.build_file, line=target.line)


def _workdir(target: Target) -> str:
    workdir = target.get("workdir") or "."
    if workdir == "/":
        return ""
    return posixpath.normpath(posixpath.join(target.address.spec_path, workdir)).removeprefix(".")


def _tools(target: Target) -> dict[str, str]:
    found = {}
    for name in ("bash", *(target.get("tools") or ())):
        path = shutil.which(name)
        if path is None:
            raise _fail(target, f"tools names {name!r}, which is not on this machine's PATH")
        found[name] = os.path.realpath(path)
    return found


def _inputs(target: Target, context: BuildContext) -> dict[str, Path]:
    graph, found = context.graph, {}
    roots = [
        graph.address_of(spec, relative_to=target.address.spec_path, context=target)
        for spec in target.get("execution_dependencies") or ()
    ]
    for dependency in graph.closure(roots) if roots else ():
        found.update((path, context.build_root / path) for path in dependency.sources)
    return found


def _environment(target: Target) -> dict[str, str]:
    return named_values(target.get("extra_env_vars") or ())


def shell_command_outputs(target: Target, context: BuildContext) -> dict[str, ContextFile]:
    """``{repository path: file}`` of what the command wrote (run once per run, cached across runs)."""
    return context.once(("shell_command", str(target.address)), lambda: _outputs(target, context))


def _outputs(target: Target, context: BuildContext) -> dict[str, ContextFile]:
    cache = context.cache
    tools, inputs, environment = _tools(target), _inputs(target, context), _environment(target)
    workdir = _workdir(target)
    outputs = [posixpath.normpath(posixpath.join(workdir, p)) for p in target.get("output_files") or ()]
    directories = [posixpath.normpath(posixpath.join(workdir, p)) for p in target.get("output_directories") or ()]
    key = action_key(
        "shell-command",
        FORMAT,
        {
            "command": target.get("command"), "workdir": workdir, "outputs": outputs, "directories": directories,
            "environment": sorted(environment.items()),
            "tools": {name: [path, _identity(path)] for name, path in sorted(tools.items())},
            "inputs": sorted((path, file_digest(source)) for path, source in inputs.items()),
        },
    )  # fmt: skip
    hit = cache.actions.get(key, {"files": dict, "executable": [str]})
    if hit is None or not all(cache.blobs.has(d) for d in hit["files"].values()):
        hit = _run(target, context, tools, inputs, environment, workdir, outputs, directories)
        cache.actions.put(key, hit, share=False)
    executable = set(hit["executable"])
    return {
        path: ContextFile(cache.blobs.verify(digest), path in executable)
        for path, digest in sorted(hit["files"].items())
    }


def _identity(path: str) -> str:
    stat = os.stat(path)
    return hashlib.sha256(f"{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]


def _run(target, context, tools, inputs, environment, workdir, outputs, directories) -> dict:
    """Run the command; ``{"files": {path: blob digest}, "executable": [path, ...]}`` of what it wrote."""
    cache = context.cache
    with cache.tempdir() as scratch:
        root, bin_dir = scratch / "root", scratch / "tools"
        bin_dir.mkdir()
        for name, path in tools.items():
            os.symlink(path, bin_dir / name)
        for path, source in inputs.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / path)
        (root / workdir).mkdir(parents=True, exist_ok=True)
        result = sandbox.run(
            Path("/"),
            ["bash", "-c", target.get("command")],
            mounts=[sandbox.Mount(root, _ROOT, writable=True), sandbox.Mount(bin_dir, _TOOLS)],
            environment={**environment, "PATH": _TOOLS},
            workdir=posixpath.join(_ROOT, workdir),
            timeout=float(target.get("timeout") or 30),
            kind="bubblewrap",
        )
        if result.returncode != 0:
            raise BuildError(
                f"{target.address}: its command failed ({result.returncode}):\n{(result.stderr or result.stdout)[-2000:]}"
            )
        written = []
        for path in outputs:
            if not (root / path).is_file():
                raise _fail(target, f"the command did not write {path} (an output_files entry)")
            written.append(path)
        for directory in directories:
            if not (root / directory).is_dir():
                raise _fail(target, f"the command did not make {directory}/ (an output_directories entry)")
            files = sorted(p for p in (root / directory).rglob("*") if p.is_file() and not p.is_symlink())
            written += [file.relative_to(root).as_posix() for file in files]
        return {
            "files": {path: cache.blobs.put_file(root / path) for path in written},
            "executable": sorted(path for path in written if ContextFile.on_disk(root / path).executable),
        }

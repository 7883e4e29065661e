"""A ``docker_image``'s build context, as Pants assembles it: the files of its dependencies
at their repository paths and the packages of its dependencies (a ``.pex``) at their
output paths, all relative to ``context_root``."""

from __future__ import annotations

import posixpath
import tarfile
from pathlib import Path

from lamina.backends.built import BuiltFile
from lamina.backends.context import BuildContext
from lamina.docker.assemble import ContextFile
from lamina.errors import BuildFileError
from lamina.graph.target import Target

# Dependencies whose sources are code for another tool, not files of the context (Pants leaves them out too).
_NOT_FILES = ("python_source", "python_requirement", "python_test")


def context_root(target: Target, context: BuildContext) -> str:
    """The context's root from the build root: ``./x`` is relative to the BUILD file's directory."""
    root = target.get("context_root")
    if root is None:
        root = context.config.docker.default_context_root
    if root.startswith("."):
        root = posixpath.join(target.address.spec_path, root)
    return posixpath.normpath(root).strip("/").removeprefix(".")


def package(target: Target, context: BuildContext):
    """What packaging ``target`` gives, once per run."""
    return context.once(("package", str(target.address)), lambda: context.registry.packager(target)(target, context))


def build_context(target: Target, context: BuildContext, scratch: Path) -> dict[str, ContextFile]:
    """``{context path: its file}``; a packaged directory is unpacked into ``scratch``."""
    graph, registry = context.graph, context.registry
    found: dict[str, ContextFile] = {}
    seen: set[str] = set()
    pending = list(graph.dependencies(target))
    while pending:
        dependency = pending.pop()
        key = str(dependency.address)
        if key in seen:
            continue
        seen.add(key)
        if dependency.alias in registry.generated_files:
            found.update(registry.generated_files[dependency.alias](dependency, context))
        elif dependency.alias in registry.output_paths:
            built = package(dependency, context)
            found.update(_package_files(built, context, scratch / str(len(seen))))
        elif dependency.alias in registry.base_builders or dependency.alias in registry.packagers:
            continue  # images: named by FROM or COPY --from, not files of the context
        else:
            if dependency.alias not in _NOT_FILES:
                found.update((path, ContextFile.on_disk(context.build_root / path)) for path in dependency.sources)
            pending.extend(graph.dependencies(dependency))
    root = context_root(target, context)
    if not root:
        return found
    if not (context.build_root / root).is_dir():
        raise BuildFileError(
            f"{target.address}: context_root {root!r} is not a directory", path=target.build_file, line=target.line
        )
    return {path[len(root) + 1 :]: source for path, source in found.items() if path.startswith(root + "/")}


def _package_files(built: BuiltFile, context: BuildContext, scratch: Path) -> dict[str, ContextFile]:
    blob = context.cache.blobs.verify(built.digest)  # no damaged byte enters an image
    if not built.directory:  # written to dist/ executable (0755), so in the context too
        return {posixpath.normpath(built.output_path): ContextFile(blob, executable=True)}
    scratch.mkdir(parents=True)
    with tarfile.open(blob) as archive:
        archive.extractall(scratch, filter="tar")
    return {
        posixpath.join(built.output_path, path.relative_to(scratch).as_posix()): ContextFile.on_disk(path)
        for path in sorted(scratch.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }

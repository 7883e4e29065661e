"""Stages that run commands, built by an installed engine: the Docker engine (through the
docker SDK) or Debian's ``buildah`` (rootless, daemonless). lamina never emulates ``RUN``.

The engine never pulls: every image the Dockerfile names outside itself (``FROM``,
``COPY --from``) is resolved by lamina (through mirrors, pinned) and handed to the engine
under the name the Dockerfile uses; a base named by a target address (an ``ARG`` default)
is handed over under a name of lamina's and the ``ARG`` set to it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from lamina.docker.assemble import Assembler, ImageSources, needed_stages
from lamina.docker.dockerfile import Dockerfile, Instruction, Stage
from lamina.errors import BuildFileError, EngineError
from lamina.oci import Image

ENGINES = ("auto", "docker", "buildah")
DOCKERFILE = ".lamina.Dockerfile"


@dataclass(frozen=True)
class _Named:
    image: Image
    repo_tags: tuple[str, ...]
    address: str = ""
    output_stem: str = ""


def _docker_answers() -> bool:
    try:
        from lamina.engine import client

        client().close()
        return True
    except EngineError:
        return False


def choose_engine(wanted: str, dockerfile: Dockerfile, run: Instruction) -> str:
    """``docker`` or ``buildah``: the one asked for, else the first that is there; a clear error when none is."""
    if wanted in ("auto", "docker") and _docker_answers():
        return "docker"
    if wanted in ("auto", "buildah") and shutil.which("buildah"):
        return "buildah"
    asked = "an engine" if wanted == "auto" else f"the {wanted} engine ([lamina] container_engine)"
    raise BuildFileError(
        f"`{run.original}` runs a command, which needs {asked} and none is available: start a Docker engine, or "
        "install buildah (apt-get install buildah); lamina builds Dockerfiles without RUN by itself, and never "
        "emulates RUN",
        path=dockerfile.path, line=run.line,
    )  # fmt: skip


def _external_images(dockerfile: Dockerfile, stage: Stage, sources: ImageSources) -> tuple[dict, dict[str, str]]:
    """``{name the engine must have: image}`` and build args that replace address bases."""
    assembler = Assembler(dockerfile, sources)
    images, args = {}, {}
    for needed in needed_stages(dockerfile, stage):
        reference = assembler.base_reference(needed)
        if assembler.stage_named(reference, needed.index) is None and reference != "scratch":
            image = sources.base(reference, needed.platform, needed.line)
            name = reference
            if reference.startswith((":", "//")):
                name = f"lamina-base/{image.digest.partition(':')[2][:32]}:latest"
                for arg, value in (*dockerfile.global_args, *sources.build_args.items()):
                    if value == reference:
                        args[arg] = name
            images[name] = image
        for instruction in needed.instructions:
            origin = instruction.flag("from")
            if origin and assembler.stage_named(origin, needed.index) is None:
                images[origin] = sources.base(origin, None, instruction.line)
    return images, args


def _write_context(sources: ImageSources, dockerfile: Dockerfile, directory: Path) -> None:
    for path, file in sources.context.items():
        (directory / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file.source, directory / path)
        (directory / path).chmod(0o755 if file.executable else 0o644)
    (directory / DOCKERFILE).write_text(dockerfile.text)


def build_with_engine(
    dockerfile: Dockerfile,
    stage: Stage,
    sources: ImageSources,
    run: Instruction,
    scratch: Path,
    *,
    target_name: str,
    engine: str = "auto",
) -> Image:
    """The image of ``stage``, built by the engine."""
    chosen = choose_engine(engine, dockerfile, run)
    images, replaced = _external_images(dockerfile, stage, sources)
    context_dir = scratch / "engine-context"
    context_dir.mkdir()
    _write_context(sources, dockerfile, context_dir)
    args = {**sources.build_args, **replaced}
    target = stage.name or None
    key = hashlib.sha256(f"{target_name}\0{dockerfile.text}".encode()).hexdigest()[:16]
    tag = f"lamina-build/{key}:latest"
    if chosen == "docker":
        return _docker_build(images, context_dir, args, target, tag, sources, dockerfile, run)
    return _buildah_build(images, context_dir, args, target, tag, sources, scratch, dockerfile, run)


def _docker_build(images, context_dir, args, target, tag, sources, dockerfile, run) -> Image:
    import docker.errors

    from lamina.sinks.daemon import Engine
    from lamina.sources import daemon

    with Engine(sources.cache) as engine:
        for name, image in images.items():
            engine.put(_Named(image, (name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest",)))
        try:
            engine.client.images.build(
                path=str(context_dir), dockerfile=DOCKERFILE, buildargs=args, target=target, tag=tag, pull=False,
                rm=True, forcerm=True,
            )  # fmt: skip
        except docker.errors.BuildError as err:
            log = "".join(str(chunk.get("stream", "")) for chunk in err.build_log)[-4000:]
            raise BuildFileError(
                f"the Docker engine failed to build it: {err.msg}\n{log}", path=dockerfile.path, line=run.line
            ) from None
        except docker.errors.APIError as err:
            raise EngineError(f"the Docker engine refused the build: {err}") from None
        image = daemon.read(tag, sources.cache)
        engine.client.images.remove(tag, noprune=True)  # the image stays, under the names it is given
    return image


def _buildah(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["buildah", *args], capture_output=True, text=True, check=False, timeout=3600)


def _buildah_build(images, context_dir, args, target, tag, sources, scratch, dockerfile, run) -> Image:
    from lamina.sinks import tarball
    from lamina.sources import oci_layout

    for index, (name, image) in enumerate(images.items()):
        archive = scratch / f"base-{index}.tar"
        tarball.write(image, archive, repo_tags=[name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"])
        pulled = _buildah("pull", "--quiet", f"docker-archive:{archive}")
        if pulled.returncode != 0:
            raise EngineError(f"buildah could not take base {name}: {pulled.stderr.strip()}")
        named = _buildah("tag", pulled.stdout.strip().splitlines()[-1], name)
        if named.returncode != 0:
            raise EngineError(f"buildah could not name base {name}: {named.stderr.strip()}")
    command = ["bud", "--pull-never", "--layers=false", "-f", str(context_dir / DOCKERFILE), "-t", tag]
    command += [f"--build-arg={k}={v}" for k, v in sorted(args.items())]
    if target:
        command += ["--target", target]
    built = _buildah(*command, str(context_dir))
    if built.returncode != 0:
        raise BuildFileError(
            f"buildah failed to build it:\n{(built.stderr or built.stdout).strip()[-4000:]}", path=dockerfile.path,
            line=run.line,
        )  # fmt: skip
    layout = scratch / "buildah-out"
    pushed = _buildah("push", tag, f"oci:{layout}:latest")
    if pushed.returncode != 0:
        raise EngineError(f"buildah could not write the image it built: {pushed.stderr.strip()}")
    image = _copied_into_cache(oci_layout.read(layout, "latest"), sources)
    _buildah("rmi", tag)  # the image is lamina's now; the bases stay, for the next build
    return image


def _copied_into_cache(image: Image, sources: ImageSources) -> Image:
    """The image with its layers' blobs in lamina's cache (the layout it came from is temporary)."""
    from dataclasses import replace

    from lamina.oci import FileLayer

    layers = []
    for layer in image.layers:
        with layer.open() as handle, sources.cache.blobs.writer(layer.digest) as blob:
            while chunk := handle.read(1 << 20):
                blob.write(chunk)
        layers.append(
            FileLayer(sources.cache.blobs.path(layer.digest), layer.media_type, layer.digest, layer.diff_id, layer.size)
        )
    return replace(image, layers=tuple(layers))

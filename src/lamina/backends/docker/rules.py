"""How a ``docker_image`` is built: its Dockerfile's target stage, assembled by lamina
(``lamina.docker.assemble``) when no stage it needs runs commands, else by an installed
engine (``lamina.docker.engine``); then named as Pants names it."""

from __future__ import annotations

import posixpath
import re

from lamina.backends.bases import read_base, target_images
from lamina.backends.built import BuiltImage, output_stem
from lamina.backends.context import BuildContext
from lamina.backends.docker.build_context import build_context
from lamina.backends.docker.source import dockerfile_of
from lamina.backends.environment import named_values
from lamina.config import DockerRegistry
from lamina.docker.assemble import Assembler, ImageSources, NeedsEngine, needed_stages, needs_engine, target_stage
from lamina.docker.dockerfile import Dockerfile, Stage
from lamina.errors import BuildFileError, ImageError
from lamina.graph.target import Target
from lamina.oci import Image
from lamina.oci.model import Platform
from lamina.oci.mutate import UNSTAMPED_CREATED, with_config, with_top_level
from lamina.sources import scratch

_TEMPLATE = re.compile(r"\{([^{}]+)\}")


def build_args(target: Target, context: BuildContext) -> dict[str, str]:
    """``[docker] build_args`` then the target's ``extra_build_args``: ``NAME=value``, or
    ``NAME`` for the environment's value (left out when the environment has none)."""
    return named_values((*context.config.docker.build_args, *(target.get("extra_build_args") or ())))


def _stage_of(target: Target, context: BuildContext, dockerfile: Dockerfile) -> Stage:
    name = target.get("target_stage") or context.config.docker.build_target_stage
    return target_stage(dockerfile, name, (target.build_file, target.line))


def _platform(text: str | None) -> Platform | None:
    if not text:
        return None
    os_name, _, rest = text.partition("/")
    architecture, _, variant = rest.partition("/")
    return Platform(os_name, architecture or "amd64", variant or None)


class _Bases:
    """What ``FROM`` and ``COPY --from`` name outside the Dockerfile: a target (by address,
    usually through an ``ARG`` default), a dependency ``docker_image`` by one of its names,
    ``scratch``, or a registry image (through ``[oci.registries] mirrors``, pinned)."""

    def __init__(self, target: Target, context: BuildContext) -> None:
        self.target, self.context = target, context

    def __call__(self, reference: str, platform: str | None, line: int) -> Image:
        context, target = self.context, self.target
        if reference == "scratch":
            return scratch()
        named = self.named_target(reference)
        if named is not None:
            images = target_images(named, context, f"{target.address} (at {target.build_file}:{target.line})")
            wanted = _platform(platform)
            matching = [i for i in images if wanted is None or i.platform == wanted]
            if not matching:
                raise ImageError(
                    f"{named.address} has no {platform} image (it has {', '.join(str(i.platform) for i in images)})"
                )
            return matching[0]
        return read_base(reference, context, _platform(platform))

    def named_target(self, reference: str) -> Target | None:
        """The target ``reference`` names (an address, or a dependency image's name), else None."""
        graph = self.context.graph
        if reference.startswith((":", "//")):
            return graph.address_of(reference, relative_to=self.target.address.spec_path, context=self.target)
        for dependency in graph.dependencies(self.target):
            if dependency.alias == "docker_image" and reference in image_names(dependency, self.context):
                return dependency
        return None


def root_base(target: Target, context: BuildContext) -> Image:
    """The image the target stage's ``FROM`` chain starts from (where its Python comes from)."""
    dockerfile = dockerfile_of(target, context.build_root)
    assembler = Assembler(
        dockerfile, ImageSources({}, _Bases(target, context), context.cache, build_args(target, context))
    )
    stage = _stage_of(target, context, dockerfile)
    for _ in range(len(dockerfile.stages)):
        reference = assembler.base_reference(stage)
        earlier = assembler.stage_named(reference, stage.index)
        if earlier is None:
            return assembler.sources.base(reference, stage.platform, stage.line)
        stage = earlier
    raise ImageError(f"{target.address}: its stages' FROM lines form a loop")


def registry_references(target: Target, context: BuildContext) -> list[str]:
    """The registry images the target stage needs: ``FROM`` and ``COPY --from`` lines naming
    no stage, no target and no dependency's image."""
    dockerfile = dockerfile_of(target, context.build_root)
    bases = _Bases(target, context)
    assembler = Assembler(dockerfile, ImageSources({}, bases, context.cache, build_args(target, context)))
    found = []
    for stage in needed_stages(dockerfile, _stage_of(target, context, dockerfile)):
        names = [assembler.base_reference(stage)] + [i.flag("from") for i in stage.instructions if i.flag("from")]
        for name in names:
            if (
                name != "scratch"
                and assembler.stage_named(name, stage.index) is None
                and bases.named_target(name) is None
            ):
                found.append(name)
    return sorted(set(found))


def root_bases(target: Target, context: BuildContext) -> tuple[Image]:
    """``root_base``, as the ``runtime_bases`` hook gives it."""
    return (root_base(target, context),)


def _build(target: Target, context: BuildContext) -> Image:
    dockerfile = dockerfile_of(target, context.build_root)
    stage = _stage_of(target, context, dockerfile)
    args = build_args(target, context)
    with context.cache.tempdir() as scratch_dir:
        files = build_context(target, context, scratch_dir)
        sources = ImageSources(files, _Bases(target, context), context.cache, args)
        run = needs_engine(dockerfile, stage)
        try:
            if run is None:
                image = Assembler(dockerfile, sources).image(stage)
            else:
                from lamina.docker.engine import build_with_engine

                image = build_with_engine(
                    dockerfile, stage, sources, run, scratch_dir, target_name=str(target.address),
                    engine=context.config.container_engine,
                )  # fmt: skip
        except NeedsEngine as err:  # an instruction only an engine can apply, found while assembling
            raise BuildFileError(
                f"{err.instruction.original}: lamina does not apply this instruction itself", path=err.path,
                line=err.instruction.line,
            ) from None  # fmt: skip
    labels = target.get("image_labels") or {}
    if labels:
        image = with_config(image, {"Labels": {**((image.config.get("config") or {}).get("Labels") or {}), **labels}})
    if run is None:
        image = with_top_level(image, {"created": UNSTAMPED_CREATED})
    return image


def docker_image_images(target: Target, context: BuildContext) -> tuple[Image, ...]:
    """The image of ``target``, built once per run (it may be a base or a ``COPY --from`` of others)."""
    return context.once(("docker_image", str(target.address)), lambda: (_build(target, context),))


def _fill(template: str, values: dict[str, str], target: Target, field: str) -> str:
    def one(found: re.Match) -> str:
        key = found[1]
        if key not in values:
            raise BuildFileError(
                f"{target.address}: {field} {template!r} uses {{{key}}}, which is not set (known: "
                f"{', '.join(sorted(values)) or 'none'}); pass it as a build arg or remove it",
                path=target.build_file, line=target.line,
            )  # fmt: skip
        return values[key]

    return _TEMPLATE.sub(one, template)


def image_names(target: Target, context: BuildContext, image: Image | None = None) -> tuple[str, ...]:
    """Every ``[REGISTRY/]REPOSITORY:TAG`` the image is named, as Pants names it."""
    spec_path = target.address.spec_path
    values = {
        "name": target.address.name,
        "directory": posixpath.basename(spec_path),
        "parent_directory": posixpath.basename(posixpath.dirname(spec_path)),
        "full_directory": spec_path,
        "default_repository": context.config.docker.default_repository,
        **{f"build_args.{k}": v for k, v in build_args(target, context).items()},
    }
    if image is not None:
        values["pants.hash"] = image.digest.partition(":")[2]
    repository = _fill(
        target.get("repository") or context.config.docker.default_repository, values, target, "repository"
    )
    tags = [
        _fill(tag, values, target, "image_tags")
        for tag in target.get("image_tags") or ("latest",)
        if image or "pants.hash" not in tag
    ]
    names = []
    for registry in _registries(target, context):
        for tag in (*tags, *(registry.extra_image_tags if registry else ())):
            prefix = f"{registry.address.rstrip('/')}/" if registry else ""
            own = registry.repository if registry and registry.repository else repository
            names.append(f"{prefix}{own}:{tag}")
    return tuple(dict.fromkeys(names))


def _registries(target: Target, context: BuildContext) -> list:
    """The registries named (``@alias`` or an address); the default ones when none; [None] for no registry."""
    configured = context.config.docker.registries
    chosen = []
    for entry in target.get("registries") or ("<all default registries>",):
        if entry == "<all default registries>":
            chosen += [r for r in configured.values() if r.default]
        elif entry.startswith("@"):
            if entry[1:] not in configured:
                raise BuildFileError(
                    f"{target.address}: registries names {entry}, which [docker.registries] does not define "
                    f"(defined: {', '.join('@' + a for a in configured) or 'none'})",
                    path=target.build_file, line=target.line,
                )  # fmt: skip
            chosen.append(configured[entry[1:]])
        else:
            chosen.append(DockerRegistry(alias=entry, address=entry))
    return chosen or [None]


def package_docker_image(target: Target, context: BuildContext) -> BuiltImage:
    """The image of ``target``, named for ``package`` and ``publish``."""
    image = docker_image_images(target, context)[0]
    skip = bool(target.get("skip_push")) or any(r is not None and r.skip_push for r in _registries(target, context))
    return BuiltImage(
        address=str(target.address),
        image=image,
        repo_tags=image_names(target, context, image),
        output_stem=output_stem(target.address),
        skip_push=skip,
    )

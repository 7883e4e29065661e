"""What an image's ``base=`` (or ``builder=``) names, as one image per platform: a base
target built by its backend (``debian_base``), or an image read by ``lamina.sources``."""

from __future__ import annotations

from lamina.backends.context import BuildContext
from lamina.errors import ImageError
from lamina.graph.target import Target
from lamina.oci import Image
from lamina.oci.model import Platform
from lamina.registry.pins import read_pins
from lamina.sources import SCHEMES, load_base


def base_images(target: Target, context: BuildContext) -> tuple[Image, ...]:
    """The base of ``target``: one image, or one per platform of a multi-architecture base."""
    spec = target.get("base") or context.config.default_base
    if not spec:
        raise ImageError(
            f"{target.address} (at {target.build_file}:{target.line}) has no base=; set it, or [oci] default_base in pants.toml"
        )
    return spec_images(spec, target, "base", context)


def spec_images(spec: str, target: Target, field: str, context: BuildContext) -> tuple[Image, ...]:
    """The images ``spec`` (``target``'s ``field``: its base or builder) names: a base target's,
    else the one image a ``lamina.sources`` reference reads (an archive, a layout, a registry)."""
    named = context.graph.image_target(spec, target, field)
    if named is None:
        return (read_base(spec, context),)
    return target_images(named, context, f"{target.address} (at {target.build_file}:{target.line}): {field}={spec!r}")


def registry_spec(target: Target, context: BuildContext) -> str | None:
    """``target``'s ``base=`` (or the default base) when it names a registry image, else None."""
    spec = target.get("base") or context.config.default_base
    if not spec or spec == "scratch" or spec.split(":", 1)[0] in SCHEMES or context.graph.base_target(target):
        return None
    return spec


def read_base(spec: str, context: BuildContext, platform: Platform | None = None) -> Image:
    """The image a reference (registry, through mirrors and pins; archive; layout; engine) names, read once per run."""
    pins = read_pins(context.build_root / context.config.bases_lockfile)
    return context.once(
        ("base image", spec, platform),
        lambda: load_base(
            spec, context.build_root, context.cache, registry_client=context.registry_client, pins=pins,
            mirrors=context.config.mirrors, platform=platform,
        ),
    )  # fmt: skip


def target_images(base_target: Target, context: BuildContext, named_by: str) -> tuple[Image, ...]:
    """The images (one per platform) of a base target, built once per run; ``named_by`` says
    who named it, for the error when it is no base."""
    builder = context.registry.base_builders.get(base_target.alias)
    if builder is None:
        raise ImageError(
            f"{named_by} names {base_target.address}, a {base_target.alias} target, which is not a base image; "
            "name a debian_base target"
        )
    return context.once(("base", str(base_target.address)), lambda: tuple(builder(base_target, context)))

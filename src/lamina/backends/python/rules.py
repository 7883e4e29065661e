"""How a ``python_image`` is built: base -> venv and third-party layers -> app layer -> config,
once per platform of the base.

Every step reads only values and writes only the cache; outputs are written by the
``package`` goal. Before an image is returned, its native code is checked against the
libraries the image has (``lamina.python.native``), so a missing library fails the
build instead of the first import in production.
"""

from __future__ import annotations

import functools
import logging
import posixpath
from dataclasses import dataclass

from packaging.requirements import Requirement

from lamina.backends.bases import base_images
from lamina.backends.built import BuiltImage, output_stem
from lamina.backends.context import BuildContext
from lamina.backends.python.app import LAYER_FORMAT as APP_FORMAT
from lamina.backends.python.app import AppFile, AppLayer, app_layer
from lamina.backends.python.builder import Builder, builder_for
from lamina.backends.python.compiler import compiler_for
from lamina.backends.python.explain import MadeLayer, explain, inputs_of
from lamina.backends.python.first_party import first_party_files
from lamina.backends.python.image_config import configure, image_env
from lamina.backends.python.inference import PythonInference
from lamina.backends.python.platform_probe import probed
from lamina.backends.python.stale_locks import warn_if_stale
from lamina.backends.python.target_types import builder_spec
from lamina.backends.python.third_party import LAYER_FORMAT as THIRD_PARTY_FORMAT
from lamina.backends.python.third_party import NativeBuild, ThirdParty, ThirdPartyRequest, venv_layout
from lamina.errors import BuildFileError, ImageError, ResolveError
from lamina.graph.target import Target
from lamina.oci import Image
from lamina.oci.index import ImageIndex
from lamina.oci.mutate import UNSTAMPED_CREATED, append_layer, with_config
from lamina.python.build_lock import build_lock_path
from lamina.python.imports import module_defines
from lamina.python.lockfile import CONSTRAINTS, load_lockfile
from lamina.python.native import MissingLibrary, missing_libraries

log = logging.getLogger(__name__)

LAYOUTS = ("venv", "pex")


def _app_files(closure: list[Target], context: BuildContext) -> list[AppFile]:
    """The closure's first-party files, under the app directory."""
    found = first_party_files(closure, context.graph, context.build_root)
    return [AppFile(posixpath.join(context.config.app_dir, path), source) for path, source in found.items()]


@dataclass(frozen=True)
class _Request:
    """What every platform's image of one target shares."""

    lock: object
    resolve: str
    requirements: tuple[Requirement, ...]
    annotations: dict
    created: str


def _native_build(target: Target, context: BuildContext, base: Image, platform, lock) -> NativeBuild | None:
    """How this image's sdists are built: None (pure Python, on the host) unless it names a
    builder; the builder itself is made only when the resolve has a build lock (else its
    sdists cannot be built, which building them says)."""
    spec = builder_spec(target, context.config)
    if not spec:
        return None
    has_build_lock = build_lock_path(lock.path).is_file()
    return NativeBuild(builder_for(target, spec, context, base, platform) if has_build_lock else None, spec)


def _image_on(
    base: Image, bases: tuple[Image, ...], target: Target, context: BuildContext, request: _Request, app: AppLayer
) -> tuple[Image, list]:
    """The image of ``target`` on one base: its venv and third-party layers for the base's platform, then the app."""
    config, cache = context.config, context.cache
    app_natives = app.natives
    platform, libraries = probed(context, base)
    layout = venv_layout(context, platform)
    third_party = ThirdParty.of(context)
    if request.requirements:
        native = _native_build(target, context, base, platform, request.lock)
        builder = native.builder if native is not None else None
        compiler = compiler_for(target, context, base, bases, platform)
        venv = third_party.layers(
            ThirdPartyRequest(request.lock, request.resolve, request.requirements, platform, layout, native, compiler)
        )
    else:
        venv, builder = third_party.empty_layer(platform, layout), None
    deps_natives = venv.natives
    env = image_env(base, config.venv_dir, target.get("env", {}))
    library_path = [d for d in env.get("LD_LIBRARY_PATH", "").split(":") if d.startswith("/")]
    # Images with the same layers on the same base need checking once (a pure-Python app adds nothing to check).
    app_key = app.layer.digest if app_natives.files or app_natives.libraries else None
    checked = (base.digest, tuple(layer.layer.digest for layer in venv.layers), app_key, tuple(library_path))
    missing = context.once(
        ("libraries", checked),
        lambda: missing_libraries(
            deps_natives.files + app_natives.files,
            deps_natives.libraries + app_natives.libraries,
            libraries,
            library_path,
        ),
    )
    if missing:
        raise ImageError(_missing_message(target, context, base, missing, builder))
    image = base
    for layer in venv.layers:
        image = append_layer(image, layer.layer, created_by=layer.created_by)
    image = append_layer(image, app.layer, created_by=f"lamina: application {target.address}")
    made = [MadeLayer("venv", venv.layers[0].layer.digest)]
    made += [MadeLayer("third-party", layer.layer.digest, layer.dists) for layer in venv.layers[1:]]
    made.append(MadeLayer("app", app.layer.digest))
    formats = {"third-party": THIRD_PARTY_FORMAT, "app": APP_FORMAT}
    inputs = inputs_of(base.digest, venv.dists, app.sources, formats, context.build_root)
    explain(str(target.address), str(base.platform), made, inputs, cache)
    image = configure(
        image,
        env=env,
        venv_dir=config.venv_dir,
        app_dir=config.app_dir,
        ports=target.get("ports", ()),
        user=target.get("user"),
        workdir=target.get("workdir"),
        labels=target.get("labels", {}),
        annotations=request.annotations,
        created=request.created,
    )
    return image, venv.dists


def _pex_image_on(
    base: Image, bases: tuple[Image, ...], target: Target, context: BuildContext, request: _Request
) -> tuple[Image, list]:
    """The image of ``target`` on one base laid out as a loose pex (``lamina.backends.python.pex_image``)."""
    from lamina.backends.python.pex_image import pex_entrypoint, pex_layers

    config = context.config
    platform, libraries = probed(context, base)
    compiler = compiler_for(target, context, base, bases, platform)
    layers = pex_layers(target, context, platform, compiler)
    natives = [n for _, _, n in layers.dists] + [layers.top_natives]
    env = {**image_env(base, config.venv_dir, {}), **{str(k): str(v) for k, v in target.get("env", {}).items()}}
    env.pop("VIRTUAL_ENV", None)
    env["PATH"] = env["PATH"].removeprefix(f"{config.venv_dir}/bin:")
    library_path = [d for d in env.get("LD_LIBRARY_PATH", "").split(":") if d.startswith("/")]
    checked = (base.digest, tuple(layer.digest for _, layer, _ in layers.dists), layers.top.digest, tuple(library_path))
    missing = context.once(
        ("libraries", checked),
        lambda: missing_libraries(
            tuple(f for n in natives for f in n.files), tuple(lib for n in natives for lib in n.libraries),
            libraries, library_path,
        ),
    )  # fmt: skip
    if missing:
        raise ImageError(_missing_message(target, context, base, missing, None))
    image = base
    for name, layer, _ in layers.dists:
        image = append_layer(image, layer, created_by=f"lamina: pex distribution {name}")
    image = append_layer(image, layers.bootstrap, created_by="lamina: pex bootstrap")
    image = append_layer(image, layers.top, created_by=f"lamina: pex of {target.address}")
    image = configure(
        image, env=env, venv_dir=config.venv_dir, app_dir=config.app_dir, ports=target.get("ports", ()),
        user=target.get("user"), workdir=target.get("workdir"), labels=target.get("labels", {}),
        annotations=request.annotations, created=request.created,
    )  # fmt: skip
    image = with_config(image, {"Entrypoint": pex_entrypoint(platform, config.app_dir)})
    return image, [name for name, _, _ in layers.dists]


def _missing_message(
    target: Target, context, base: Image, missing: list[MissingLibrary], builder: Builder | None
) -> str:
    """Which files need which libraries the image lacks, and where they would come from: the
    package the builder's own package database says ships each (the builder had them, or
    the code would not have linked), else the base target's advice."""
    lines = [
        (
            f"{target.address} (at {target.build_file}:{target.line}): the {base.platform} image lacks shared "
            "libraries its native code needs, so importing it would fail:"
        )
    ]
    for item in missing:
        searched = f" (searched {', '.join(item.searched)})" if item.searched else ""
        lines.append(f"  {item.file.owner}: {item.file.path} needs {item.soname}{searched}")
    sonames = sorted({item.soname for item in missing})
    dirs = sorted({d for m in missing for d in m.searched})
    known = _builder_packages(builder, sonames, dirs) if builder is not None else {}
    if known:
        lines.append(
            f"The builder {builder.address} ships "
            + ", ".join(f"{soname} in the Debian package {package}" for soname, package in sorted(known.items()))
            + "."
        )
    base_target = context.graph.base_target(target)
    hints = context.registry.library_packages.get(base_target.alias) if base_target is not None else None
    if hints is not None:
        lines.append(hints(base_target, context, base.platform, sonames, dirs, known))
    else:
        lines.append(f"Use a base image that ships {', '.join(sonames)}, or pin versions that bundle them.")
    return "\n".join(lines)


def _builder_packages(builder: Builder, sonames: list[str], dirs: list[str]) -> dict[str, str]:
    """``{soname: Debian package}`` from the builder's package database, where it has them."""
    from lamina.debian.package_files import packages_shipping

    found = packages_shipping(builder.rootfs, [posixpath.join(d, s) for s in sonames for d in dirs])
    packages: dict[str, str] = {}
    for path, package in sorted(found.items()):
        packages.setdefault(posixpath.basename(path), package)
    return packages


def _check_layout(target: Target) -> None:
    if not target.get("entry_point") and not target.get("binary"):
        raise BuildFileError(
            f"{target.address}: a python_image needs entry_point= (what runs) or binary= (a pex_binary)",
            path=target.build_file, line=target.line,
        )  # fmt: skip
    layout = target.get("layout", "venv")
    if layout not in LAYOUTS:
        raise BuildFileError(
            f"{target.address}: layout={layout!r} is not one of 'venv' (a venv at [oci] venv_dir) or 'pex' (a loose "
            "pex in the app dir, a layer per distribution)",
            path=target.build_file,
            line=target.line,
        )


def _check_entry_point(source: Target, entry_point: str, image: Target, context: BuildContext) -> None:
    """The function an entry point names must exist in its module."""
    module, _, function = entry_point.partition(":")
    if not function:
        return
    path = source.sources[0]
    source_bytes = (context.build_root / path).read_bytes()
    defined, names = module_defines(source_bytes, function.split(".")[0], path, context.cache)
    if not defined:
        import difflib

        close = difflib.get_close_matches(function, names, n=1)
        hint = f"; did you mean {module}:{close[0]}?" if close else ""
        raise BuildFileError(
            f"{image.address}: entry_point {entry_point!r} names {function!r}, which {path} does not define{hint}",
            path=image.build_file,
            line=image.line,
        )


@functools.lru_cache(maxsize=4096)
def _requirement(text: str) -> Requirement:
    """``Requirement(text)``, parsed once per run for every image that names it."""
    return Requirement(text)


def image_tags(target: Target) -> tuple[str, ...]:
    """The tags an image is published under: ``image_tags``; ``tags`` only as the deprecated spelling."""
    if target.get("image_tags"):
        return tuple(target.get("image_tags"))
    if target.get("tags"):
        log.warning(
            "%s (at %s:%d): tags= on a python_image is deprecated as image tags: `tags` is Pants' field for "
            "selecting targets (--tag); write image_tags=%r instead",
            target.address, target.build_file, target.line, list(target.get("tags")),
        )  # fmt: skip
        return tuple(target.get("tags"))
    return ("latest",)


def package_python_image(target: Target, context: BuildContext) -> BuiltImage:
    """Assemble the image for ``target`` (cached step by step); on a multi-architecture
    base, one image per platform under an image index."""
    config, graph, cache = context.config, context.graph, context.cache
    _check_layout(target)  # cheap checks of what the user wrote first, then the base
    as_pex = bool(target.get("binary")) or target.get("layout") == "pex"
    if as_pex:
        from lamina.backends.python.pex_image import pex_source

        pex_source(target, context)  # a binary= that names no pex_binary says so first
    closure = graph.closure([target])
    if not target.get("binary"):
        source, entry_point = PythonInference.of(graph).entry_point(target)
        _check_entry_point(source, entry_point, target, context)
    bases = base_images(target, context)

    resolve = graph.resolve_of(target)
    requirements = sorted({r for t in closure if t.alias == "python_requirement" for r in t.get("requirements", ())})
    lock = load_lockfile(config.lock_path(resolve), resolve_name=resolve) if requirements else None
    if lock is not None:
        warn_if_stale(lock, resolve, context)
        if lock.format == CONSTRAINTS:
            raise ResolveError(
                f"{target.address}: {lock.path} is a constraints file: it pins versions but no hashes, so what "
                "lamina would install cannot be verified; set [python] enable_resolves and [python.resolves] "
                f"and run `lamina generate-lockfiles --resolve={resolve}` to write a hash-pinned lock"
            )
    annotations = {"org.opencontainers.image.title": str(target.address)}
    if target.get("description"):
        annotations["org.opencontainers.image.description"] = target.get("description")
    created = UNSTAMPED_CREATED
    if context.stamp_facts is not None:
        annotations.update(context.stamp_facts.annotations())
        created = context.stamp_facts.created or created
    request = _Request(lock, resolve, tuple(_requirement(r) for r in requirements), annotations, created)

    if as_pex:
        built = [_pex_image_on(base, bases, target, context, request) for base in bases]
        third_party = tuple(built[0][1])
    else:
        app = app_layer(_app_files(closure, context), app_dir=config.app_dir, entry_point=entry_point, cache=cache)
        built = [_image_on(base, bases, target, context, request, app) for base in bases]
        third_party = tuple(f"{d.name}=={d.version}" for d in built[0][1])
    images = tuple(image for image, _ in built)
    repository = target.get("repository") or target.address.name
    return BuiltImage(
        address=str(target.address),
        image=images[0] if len(images) == 1 else ImageIndex(images, annotations),
        repo_tags=tuple(f"{repository}:{tag}" for tag in image_tags(target)),
        output_stem=output_stem(target.address),
        third_party=third_party,
    )

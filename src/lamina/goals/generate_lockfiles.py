"""``lamina generate-lockfiles``: lock each Python resolve with pip-tools, from its
requirement targets, and each ``debian_base`` from its verified Debian archives."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from lamina.errors import AddressError, ConfigError, RegistryError
from lamina.registry.pins import write_pins
from lamina.registry.reference import parse_reference
from lamina.sources import current_digest

log = logging.getLogger(__name__)

NAME = "generate-lockfiles"
REGISTRY_BASES = "registry-bases"  # the --resolve name of the registry bases' pins
HELP = "Lock every Python resolve (pip-compile --generate-hashes) and debian_base, or only --resolve=NAME."


def register(subparsers) -> None:
    """Add the ``generate-lockfiles`` sub-command."""
    parser = subparsers.add_parser(NAME, help=HELP, description=HELP)
    parser.add_argument(
        "--resolve",
        action="append",
        help=f"only this Python resolve, debian_base address, or {REGISTRY_BASES} (repeatable)",
    )
    parser.add_argument(
        "--debian-insecure-skip-verify",
        action="store_true",
        help="lock debian_base targets without verifying the archives' Release signatures (not recommended)",
    )


def _debian_targets(project, wanted: list[str] | None) -> list:
    graph = project.graph
    if wanted is None:
        return sorted((t for t in graph.targets.values() if t.alias == "debian_base"), key=lambda t: t.address)
    found = []
    for name in wanted:
        try:
            target = graph.address_of(name)
        except AddressError:
            target = None
        if target is None or target.alias != "debian_base":
            known = ", ".join(sorted(project.config.resolves)) or "none"
            raise ConfigError(
                f"unknown resolve {name!r}: [python.resolves] in pants.toml names {known}, "
                "and a debian_base is named by its address (e.g. src/base:python)"
            )
        found.append(target)
    return found


def _pin_registry_bases(project) -> None:
    """Pin every tagged registry base that an image names (a ``python_image``'s base, a
    ``docker_image``'s ``FROM``) to the digest its tag has now, asked through the mirrors."""
    graph, config = project.graph, project.config
    references = {}
    for target in graph.targets.values():
        names_bases = project.registry.registry_bases.get(target.alias)
        for spec in names_bases(target, project.context) if names_bases else ():
            try:
                reference = parse_reference(spec)
            except RegistryError as err:
                raise ConfigError(
                    f"{target.address} (at {target.build_file}:{target.line}): base {spec!r}: {err}"
                ) from None
            if reference.digest is None:
                references[str(reference)] = reference
    if not references:
        return
    pins = {}
    for text, reference in sorted(references.items()):
        digest = current_digest(reference, project.registry_client, config.mirrors)
        if digest is None:
            raise ConfigError(f"base {text}: the registry has no such tag")
        pins[text] = digest
    path = config.build_root / config.bases_lockfile
    write_pins(path, pins)
    print(f"wrote {path.relative_to(config.build_root)} ({len(pins)} bases)")


def run(args: argparse.Namespace, project) -> int:
    """Write each lock file from what its targets declare."""
    from lamina.backends.debian.lockgen import generate_lock  # the lockers are needed by this goal only
    from lamina.python.lockgen import generate_lockfile

    config, graph = project.config, project.graph
    by_resolve: dict[str, list[str]] = {}
    for target in graph.targets.values():
        if target.alias == "python_requirement":
            by_resolve.setdefault(graph.resolve_of(target), []).extend(target.get("requirements", ()))
    python_resolves = sorted(set(config.resolves) | set(by_resolve))
    if args.resolve:
        debian = _debian_targets(project, [r for r in args.resolve if r not in config.resolves and r != REGISTRY_BASES])
        python_resolves = [r for r in args.resolve if r in config.resolves]
    else:
        debian = _debian_targets(project, None)
    for resolve in python_resolves:
        if resolve not in config.resolves:
            raise ConfigError(
                f"unknown resolve {resolve!r}; [python.resolves] in pants.toml names: {', '.join(sorted(config.resolves)) or 'none'}"
            )
        requirements = sorted(set(by_resolve.get(resolve, [])), key=lambda r: canonicalize_name(Requirement(r).name))
        output = config.lock_path(resolve)

        def lock(requirements: list[str], output: Path, resolve: str = resolve) -> None:
            generate_lockfile(
                requirements,
                output,
                resolve_name=resolve,
                python_version=None,
                index_urls=config.index_urls,
                credentials=project.transport.credentials,
            )

        lock(requirements, output)
        print(f"wrote {output.relative_to(config.build_root)} ({len(requirements)} requirements)")
        _lock_build_requirements(project, resolve, output, lock)
    if not args.resolve or REGISTRY_BASES in args.resolve:
        _pin_registry_bases(project)
    verify = config.debian_verify_signatures and not args.debian_insecure_skip_verify
    for target in debian:
        path, lock = generate_lock(target, project.context, verify=verify)
        counts = ", ".join(f"{len(debs)} {arch}" for arch, debs in sorted(lock.packages.items()))
        print(f"wrote {path.relative_to(config.build_root)} ({counts} packages)")
    return 0


def _lock_build_requirements(project, resolve: str, output: Path, lock) -> None:
    """The build lock beside ``output``: what the resolve's sdist-only distributions need to
    build, ``[build-system] requires`` and, asked in the builder of an image of the resolve,
    what their backends' ``get_requires_for_build_wheel`` adds."""
    from lamina.download import fetch_all
    from lamina.python.build_lock import build_lock_path, sdist_build_requirements, sdists_to_build
    from lamina.python.lockfile import load_lockfile

    config = project.config
    sdists = sdists_to_build(load_lockfile(output, resolve_name=resolve), project.index)
    if not sdists:
        return
    paths = fetch_all(sdists, project.cache.blobs, project.index.transport, max_workers=config.max_workers)
    requirements = sorted({r for f in sdists for r in sdist_build_requirements(paths[f.sha256], f.filename)})
    build_lock = build_lock_path(output)
    lock(requirements, build_lock)
    found = _builder_of(project, resolve)
    if found is None:
        log.info(
            "no python_image of resolve %r names a builder ([python] builder, or builder=): what the build backends "
            "of its sdists ask for beyond [build-system] requires is not locked", resolve,
        )  # fmt: skip
    else:
        third_party, builder, platform = found
        locked = load_lockfile(build_lock, resolve_name=resolve)
        asked = {
            r for f in sdists for r in third_party.build_requirements(f, paths[f.sha256], builder, platform, locked)
        }
        if not asked <= set(requirements):
            requirements = sorted(set(requirements) | asked)
            lock(requirements, build_lock)
    names = ", ".join(f.filename for f in sdists)
    print(f"wrote {build_lock.relative_to(config.build_root)} ({len(requirements)} build requirements of {names})")


def _builder_of(project, resolve: str):
    """``(ThirdParty, Builder, platform)`` of the first image (by address) of ``resolve`` that
    names a builder, on its base's first platform: where its build backends are asked what
    they need; None when no image of the resolve names a builder."""
    from lamina.backends.bases import base_images
    from lamina.backends.python.builder import builder_for
    from lamina.backends.python.platform_probe import probed
    from lamina.backends.python.target_types import builder_spec
    from lamina.backends.python.third_party import ThirdParty

    config, graph = project.config, project.graph
    for target in sorted(graph.targets.values(), key=lambda t: str(t.address)):
        spec = builder_spec(target, config)
        if target.alias != "python_image" or not spec or graph.resolve_of(target) != resolve:
            continue
        base = base_images(target, project.context)[0]
        platform, _ = probed(project.context, base)
        builder = builder_for(target, spec, project.context, base, platform)
        third_party = ThirdParty(
            project.cache, project.index, max_workers=config.max_workers, sandbox=config.python_sandbox
        )
        return third_party, builder, platform
    return None

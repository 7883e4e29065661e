"""``lamina publish``: build image targets and push each to its repository with every tag.

A ``repository`` that names no registry is put under ``[oci] default_repository``.
Only blobs the registry lacks are uploaded; a rerun uploads nothing and moves no tag.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from lamina.backends.built import BuiltImage
from lamina.errors import ConfigError
from lamina.goals.build import build_all, report, write_retrying
from lamina.goals.package import add_json_option, add_stamp_option
from lamina.registry.reference import Reference, parse_reference
from lamina.registry.remote_cache import RegistryCache
from lamina.sinks import registry

NAME = "publish"
HELP = "Build images and push them to their registries (only missing blobs are uploaded)."


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``publish`` sub-command."""
    parser = subparsers.add_parser(NAME, help=HELP, description=HELP)
    parser.add_argument("specs", nargs="*", help="target specs, e.g. :: or src/python/app:img")
    parser.add_argument("--dry-run", action="store_true", help="build and say where images would go; push nothing")
    add_json_option(parser)
    add_stamp_option(parser)
    return parser


def destination(built: BuiltImage, default_repository: str | None) -> tuple[Reference, list[str]]:
    """Where ``built`` goes: its repository (under the default prefix when it names no
    registry) and its tags."""
    repository = built.repo_tags[0].rsplit(":", 1)[0]
    tags = [tag.rsplit(":", 1)[1] for tag in built.repo_tags]
    first, _, rest = repository.partition("/")
    if not (rest and ("." in first or ":" in first or first == "localhost")):
        if not default_repository:
            raise ConfigError(
                f"{built.address}: repository {repository!r} names no registry; give it one "
                "(repository='registry.example.com/team/app') or set [oci] default_repository in pants.toml"
            )
        repository = f"{default_repository.rstrip('/')}/{repository}"
    return parse_reference(repository), tags


def _per_repository(item):
    """``item`` once per repository its names are in (a docker_image's registries), each with those names' tags."""
    groups: dict[str, list[str]] = {}
    for name in item.result.repo_tags:
        groups.setdefault(name.rsplit(":", 1)[0], []).append(name)
    return [
        dataclasses.replace(item, result=dataclasses.replace(item.result, repo_tags=tuple(g))) for g in groups.values()
    ]


def run(args: argparse.Namespace, project) -> int:
    """Build every image target in the specs, then push each."""
    built = [item for item in build_all(project, args.specs) if isinstance(item.result, BuiltImage)]
    for item in built:
        if item.result.skip_push:
            print(f"{item.result.address}  not pushed (skip_push)", file=sys.stderr)
    built = [one for item in built if not item.result.skip_push for one in _per_repository(item)]
    if not built:
        print("nothing to publish in " + " ".join(args.specs or ["::"]), file=sys.stderr)
        return 0
    default_repository = project.config.default_repository
    destinations = [destination(item.result, default_repository) for item in built]  # all checked before any push
    holders: dict[str, dict[str, str]] = {}  # registry -> {digest: repository}: blobs to mount, not upload
    remote = project.cache.actions.remote
    if isinstance(remote, RegistryCache) and not args.dry_run:
        holders[remote.client.registry] = remote.held()  # mount, don't re-upload
    registries = registry.Registries(
        lambda built: destination(built, default_repository), project.registry_client,
        holders=holders, max_workers=project.config.max_workers,
    )  # fmt: skip
    for item, (reference, tags) in zip(built, destinations):
        if args.dry_run:
            if args.json:
                print(
                    json.dumps(
                        {**report(item, project, []), "repository": reference.name, "dry_run": True}, sort_keys=True
                    )
                )
                continue
            print(f"{reference.name}@{item.result.image.digest}  (dry run: tags {', '.join(tags)} not pushed)")
            continue
        outputs = write_retrying(project, item, registries.put)
        pushed = registries.reports[item.result.address]
        if args.json:
            described = {
                **report(item, project, outputs),
                "repository": reference.name, "blobs_uploaded": len(pushed.uploaded),
                "bytes_uploaded": pushed.uploaded_bytes, "blobs_mounted": len(pushed.mounted),
                "blobs_present": len(pushed.present),
            }  # fmt: skip
            print(json.dumps(described, sort_keys=True))
            continue
        print(
            f"{reference.name}@{pushed.digest}  ({len(pushed.uploaded)} blobs uploaded, "
            f"{pushed.uploaded_bytes:,} bytes; {len(pushed.mounted)} mounted; {len(pushed.present)} already there)"
        )
    return 0

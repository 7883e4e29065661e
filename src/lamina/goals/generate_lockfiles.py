"""``lamina generate-lockfiles``: lock each resolve with pip-tools, from its requirement targets."""

from __future__ import annotations

import argparse

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from lamina.errors import ConfigError
from lamina.python.lockgen import generate_lockfile

NAME = "generate-lockfiles"
HELP = "Lock every resolve (or --resolve=NAME) with pip-compile --generate-hashes."


def register(subparsers) -> None:
    """Add the ``generate-lockfiles`` sub-command."""
    parser = subparsers.add_parser(NAME, help=HELP, description=HELP)
    parser.add_argument("--resolve", action="append", help="only this resolve (repeatable)")


def run(args: argparse.Namespace, project) -> int:
    """Write each resolve's lock file from the requirements its targets declare."""
    config, graph = project.config, project.graph
    by_resolve: dict[str, list[str]] = {}
    for target in graph.targets.values():
        if target.alias == "python_requirement":
            by_resolve.setdefault(graph.resolve_of(target), []).extend(target.get("requirements", ()))
    wanted = args.resolve or sorted(set(config.resolves) | set(by_resolve))
    for resolve in wanted:
        if resolve not in config.resolves:
            raise ConfigError(
                f"unknown resolve {resolve!r}; [python.resolves] in pants.toml names: {', '.join(sorted(config.resolves)) or 'none'}"
            )
        requirements = sorted(set(by_resolve.get(resolve, [])), key=lambda r: canonicalize_name(Requirement(r).name))
        output = config.lock_path(resolve)
        generate_lockfile(requirements, output, resolve_name=resolve, python_version=None, index_urls=config.index_urls)
        print(f"wrote {output.relative_to(config.build_root)} ({len(requirements)} requirements)")
    return 0

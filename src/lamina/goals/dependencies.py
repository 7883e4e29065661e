"""``lamina dependencies``: what the targets depend on, explicit and inferred."""

from __future__ import annotations

import argparse

NAME = "dependencies"
HELP = "List the dependencies of targets (direct, or with --transitive all of them)."


def register(subparsers) -> None:
    """Add the ``dependencies`` sub-command."""
    parser = subparsers.add_parser(NAME, help=HELP, description=HELP)
    parser.add_argument("specs", nargs="*", default=["::"])
    parser.add_argument("--transitive", action="store_true", help="include dependencies of dependencies")


def run(args: argparse.Namespace, project) -> int:
    """Print the union of the targets' dependencies, sorted, one per line."""
    graph = project.graph
    roots = graph.resolve_specs(args.specs or ["::"])
    if args.transitive:
        found = {str(t.address) for t in graph.closure(roots)} - {str(t.address) for t in roots}
    else:
        found = {str(d.address) for t in roots for d in graph.dependencies(t)}
    for address in sorted(found):
        print(address)
    return 0

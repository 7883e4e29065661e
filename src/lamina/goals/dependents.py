"""``lamina dependents``: which targets depend on the given ones."""

from __future__ import annotations

import argparse

NAME = "dependents"
HELP = "List the targets that depend on the given targets."


def register(subparsers) -> None:
    """Add the ``dependents`` sub-command."""
    parser = subparsers.add_parser(NAME, help=HELP, description=HELP)
    parser.add_argument("specs", nargs="+")
    parser.add_argument("--transitive", action="store_true", help="include dependents of dependents")


def run(args: argparse.Namespace, project) -> int:
    """Print dependents, sorted, one per line."""
    graph = project.graph
    for target in graph.dependents(graph.resolve_specs(args.specs), transitive=args.transitive):
        print(target.address)
    return 0

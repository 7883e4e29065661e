"""``lamina list``: the addresses the specs match, generated targets included."""

from __future__ import annotations

import argparse

NAME = "list"
HELP = "List the addresses of targets."


def register(subparsers) -> None:
    """Add the ``list`` sub-command."""
    parser = subparsers.add_parser(NAME, help=HELP, description=HELP)
    parser.add_argument("specs", nargs="*", default=["::"], help="target specs (default ::)")


def run(args: argparse.Namespace, project) -> int:
    """Print one address per line."""
    for target in project.graph.resolve_specs(args.specs or ["::"]):
        print(target.address)
    return 0

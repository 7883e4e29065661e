"""``lamina peek``: targets and their fields as JSON, like Pants' peek."""

from __future__ import annotations

import argparse
import json

NAME = "peek"
HELP = "Show targets and their fields as JSON."


def register(subparsers) -> None:
    """Add the ``peek`` sub-command."""
    parser = subparsers.add_parser(NAME, help=HELP, description=HELP)
    parser.add_argument("specs", nargs="*", default=["::"])


def run(args: argparse.Namespace, project) -> int:
    """Print a JSON array of targets with their fields and inferred dependencies."""
    graph = project.graph
    out = []
    for target in graph.resolve_specs(args.specs or ["::"]):
        entry = target.to_json()
        entry["dependencies"] = [str(d.address) for d in graph.dependencies(target)]
        out.append(entry)
    print(json.dumps(out, indent=2, sort_keys=False, default=repr))
    return 0

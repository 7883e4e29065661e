"""``lamina tailor``: add the targets a repository is missing, as Pants' ``tailor`` does.

It appends to each directory's BUILD file (creating it), never edits what is there, and
is idempotent. ``--check`` writes nothing and exits 1 when something is missing. In a
uv workspace (or beside a ``pylock.toml``) without a ``pants.toml``, it first writes one.
"""

from __future__ import annotations

import argparse
import posixpath
import sys
from pathlib import Path

from lamina.atomic import write_text
from lamina.backends.python.tailor import default_name, proposals, workspace_config
from lamina.config import CONFIG_FILE

NAME = "tailor"
HELP = "Add missing targets (python_sources, python_tests, python_requirements, python_image) to BUILD files."


def register(subparsers) -> None:
    """Add the ``tailor`` sub-command."""
    parser = subparsers.add_parser(NAME, help=HELP, description=HELP)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if targets are missing")


def prepare(args: argparse.Namespace) -> None:
    """Before the project loads: a workspace without ``pants.toml`` gets one."""
    root = (args.build_root or Path.cwd()).absolute()
    if any((d / CONFIG_FILE).is_file() for d in (root, *root.parents)):
        return
    config = workspace_config(root)
    if config is None:
        return
    if args.check:
        print(f"{CONFIG_FILE} is missing; `lamina tailor` would write it")
        raise SystemExit(1)
    write_text(root / CONFIG_FILE, config)
    print(f"Created {CONFIG_FILE}")
    args.build_root = root


def _free_name(proposal, taken: set) -> str:
    candidates = [f"{proposal.name}-image", *(f"{proposal.name}-image-{n}" for n in range(2, 100))]
    return next(c for c in candidates if (proposal.directory, c) not in taken)


def run(args: argparse.Namespace, project) -> int:
    """Append what is missing to BUILD files (or, with ``--check``, report it)."""
    taken = {(t.address.spec_path, t.address.name) for t in project.graph.targets.values()}
    by_directory: dict[str, list] = {}
    for proposal in proposals(project):
        if (proposal.directory, proposal.name) in taken:
            if proposal.alias != "python_image":
                continue  # a target of that name is there already
            proposal = proposal.named(_free_name(proposal, taken))
        taken.add((proposal.directory, proposal.name))
        by_directory.setdefault(proposal.directory, []).append(proposal)
    missing = [p for items in by_directory.values() for p in items]
    for directory, items in sorted(by_directory.items()):
        build_file = posixpath.join(directory, "BUILD") if directory else "BUILD"
        path = project.build_root / build_file
        verb = "Would update" if args.check else ("Updated" if path.exists() else "Created")
        print(f"{verb} {build_file}:")
        for item in items:
            print(f"  - Add {item.alias} target {item.name}")
        if not args.check:
            before = path.read_text(encoding="utf-8") if path.exists() else ""
            separator = "\n" if before and not before.endswith("\n\n") else ""
            calls = [i.call(default_name(project, directory)) for i in items]
            write_text(path, before + separator + "\n\n".join(calls) + "\n")
    if args.check and missing:
        print("run `lamina tailor` to add them", file=sys.stderr)
        return 1
    return 0

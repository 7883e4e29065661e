"""The ``lamina`` command line: global options, then a goal and its specs."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from pathlib import Path

from lamina import __version__, progress
from lamina.errors import LaminaError
from lamina.goals import GOALS
from lamina.graph.changed import DEPENDENTS, ChangedSince
from lamina.project import load_project
from lamina.redact import redact


def _global_options(parser: argparse.ArgumentParser, **defaults) -> None:
    parser.add_argument(
        "--build-root", type=Path, help="the repository root (default: nearest dir with pants.toml)", **defaults
    )
    parser.add_argument(
        "--cache-dir", type=Path, help="the local cache (default: $LAMINA_CACHE_DIR or ~/.cache/lamina)", **defaults
    )
    parser.add_argument(
        "--tag",
        action="append",
        metavar="[+-]TAG1,TAG2",
        help="only targets with one of these tags (or, with '-', none of them); repeat to require each, as in Pants",
        **defaults,
    )
    parser.add_argument(
        "--changed-since",
        metavar="REF",
        help="only targets a change since this git ref affects, as in Pants",
        **defaults,
    )
    parser.add_argument(
        "--changed-dependents",
        choices=DEPENDENTS,
        help="with --changed-since, also the dependents of changed targets (default: none)",
        **defaults,
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=_positive,
        metavar="N",
        help="targets built at once (default: [lamina] jobs, else one per CPU); digests do not depend on it",
        **defaults,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what lamina does", **defaults)
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars, even in a terminal", **defaults)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of jobs (1 or more)")
    return value


def _parser() -> tuple[argparse.ArgumentParser, dict]:
    parser = argparse.ArgumentParser(prog="lamina", description="Build Python monorepos into minimal OCI images.")
    _global_options(parser)
    parser.add_argument("--version", action="version", version=f"lamina {__version__}")
    subparsers = parser.add_subparsers(dest="goal", metavar="GOAL", required=True)
    goals = {}
    for name in GOALS:
        module = importlib.import_module(f"lamina.goals.{name}")
        module.register(subparsers)
        # As in Pants, global options may also follow the goal: `lamina package --cache-dir X ::`.
        _global_options(subparsers.choices[module.NAME], default=argparse.SUPPRESS)
        goals[module.NAME] = module
    return parser, goals


class _Redacting(logging.Filter):
    """Masks secrets in every log line, whatever logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        return True


def _configure_logging(verbose: bool) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    handler.addFilter(_Redacting())
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler], force=True)


def main(argv: list[str] | None = None) -> int:
    """Run one goal; user errors print ``error: ...`` and exit 1."""
    parser, goals = _parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    progress.configure(enabled=sys.stderr.isatty() and not args.quiet and not args.verbose)
    try:
        if hasattr(goals[args.goal], "prepare"):
            goals[args.goal].prepare(args)
        changed = ChangedSince(args.changed_since, args.changed_dependents or "none") if args.changed_since else None
        project = load_project(
            args.build_root, args.cache_dir, stamp=getattr(args, "stamp", None), tags=tuple(args.tag or ()),
            changed=changed, jobs=args.jobs,
        )  # fmt: skip
        return goals[args.goal].run(args, project)
    except LaminaError as err:
        progress.finish()  # the error stays on screen, not under a bar
        print(f"error: {redact(str(err))}", file=sys.stderr)
        return err.exit_code
    except BrokenPipeError:  # e.g. `lamina list :: | head`: the reader has gone, so stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        progress.finish()
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        progress.finish()


if __name__ == "__main__":
    sys.exit(main())

"""greet-cli: greet people from the command line with the shared greeting library.

Usage:
  greet-cli hello NAME [--shout]
  greet-cli table NAME...
  greet-cli (-h | --help)

Options:
  --shout    Greet in capitals.
  -h --help  Show this help.
"""

from __future__ import annotations

from collections.abc import Sequence

from docopt import docopt
from tabulate import tabulate

from greeting import greet


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line (docopt reads the module docstring) and print the greeting(s)."""
    arguments = docopt(__doc__, argv=list(argv) if argv is not None else None)
    if arguments["hello"]:
        print(greet(arguments["NAME"][0], shout=arguments["--shout"]))
    else:
        rows = [(name, greet(name)) for name in arguments["NAME"]]
        print(tabulate(rows, headers=["name", "greeting"], tablefmt="github"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

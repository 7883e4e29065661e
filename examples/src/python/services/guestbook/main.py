"""guestbook: sign and read a guestbook kept in PostgreSQL.

Usage:
  guestbook sign NAME
  guestbook read
  guestbook (-h | --help)

The connection comes from libpq's environment (PGHOST, PGPORT, PGUSER, PGPASSWORD,
PGDATABASE). psycopg2 is published only as an sdist with a C extension: lamina compiles
it in the builder (3rdparty/debian:builder) and ships only the wheel and libpq5.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg2
from docopt import docopt

from greeting import greet

SCHEMA = "CREATE TABLE IF NOT EXISTS guestbook (id serial PRIMARY KEY, name text NOT NULL)"


def main(argv: Sequence[str] | None = None) -> int:
    """Sign the guestbook or print every greeting in it, oldest first."""
    arguments = docopt(__doc__, argv=list(argv) if argv is not None else None)
    with psycopg2.connect("") as connection, connection.cursor() as cursor:
        cursor.execute(SCHEMA)
        if arguments["sign"]:
            cursor.execute("INSERT INTO guestbook (name) VALUES (%s) RETURNING id", (arguments["NAME"],))
            (number,) = cursor.fetchone()
            print(f"{greet(arguments['NAME'])} You are visitor #{number}.")
        else:
            cursor.execute("SELECT name FROM guestbook ORDER BY id")
            for (name,) in cursor.fetchall():
                print(greet(name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

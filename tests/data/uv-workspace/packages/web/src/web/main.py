"""Prints a greeting as escaped HTML."""

from greeter import Greeting
from markupsafe import escape


def main() -> None:
    print(f"<p>{escape(Greeting('<web>').text())}</p>")


if __name__ == "__main__":
    main()

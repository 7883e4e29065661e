"""Prints a greeting in a table."""

from greeter import Greeting
from tabulate import tabulate


def main() -> None:
    print(tabulate([[Greeting("cli").text()]], headers=["greeting"]))


if __name__ == "__main__":
    main()

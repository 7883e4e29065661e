import sys

from colors import green

from helloworld.greet.greeting import Greeter


def say_hello() -> None:
    greeting = Greeter().greet(sys.argv[1] if len(sys.argv) > 1 else "Pants")
    print(green(greeting))


if __name__ == "__main__":
    say_hello()

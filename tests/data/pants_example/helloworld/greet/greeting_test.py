from helloworld.greet.greeting import Greeter


def test_greeter() -> None:
    assert Greeter("es").greet("test") == "Hola, test!"

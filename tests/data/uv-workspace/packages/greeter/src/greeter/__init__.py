"""A greeting, as an attrs class."""

import attrs


@attrs.frozen
class Greeting:
    name: str

    def text(self) -> str:
        return f"Hello, {self.name}!"

"""A greeting as a value, so both services phrase and format it the same way."""

from __future__ import annotations

import attrs


def _non_blank(instance: Greeting, attribute: attrs.Attribute[str], value: str) -> None:
    """Reject names that would render as "Hello, !"."""
    if not value.strip():
        raise ValueError(f"{attribute.name} must not be blank")


@attrs.frozen
class Greeting:
    """Who to greet, and whether to shout about it."""

    name: str = attrs.field(converter=str.strip, validator=_non_blank)
    shout: bool = False

    def render(self) -> str:
        """The greeting as text, e.g. "Hello, World!" (or "HELLO, WORLD!" when shouting)."""
        text = f"Hello, {self.name}!"
        return text.upper() if self.shout else text


def greet(name: str, *, shout: bool = False) -> str:
    """Render the greeting for ``name``; the one-call form the services use."""
    return Greeting(name=name, shout=shout).render()

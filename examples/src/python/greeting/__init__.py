"""The shared greeting library: one place that decides how the services greet people."""

from __future__ import annotations

from greeting.model import Greeting, greet

__all__ = ["Greeting", "greet"]

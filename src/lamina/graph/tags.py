"""Pants' ``--tag`` filters: ``--tag=a,b`` keeps targets tagged a or b, ``--tag=-a,b`` those
tagged neither, ``+`` is optional; several ``--tag`` options must all hold."""

from __future__ import annotations

from collections.abc import Iterable


class TagFilter:
    """Whether a target's ``tags`` pass every ``--tag`` filter."""

    def __init__(self, filters: Iterable[str]) -> None:
        self.filters: list[tuple[bool, frozenset[str]]] = []
        for text in filters:
            exclude = text.startswith("-")
            names = text[1:] if text[:1] in "+-" and text else text
            self.filters.append((exclude, frozenset(n.strip() for n in names.split(",") if n.strip())))

    def keeps(self, tags: Iterable[str]) -> bool:
        """Whether a target with ``tags`` is selected."""
        present = {str(t) for t in tags}
        return all(bool(present & names) != exclude for exclude, names in self.filters)

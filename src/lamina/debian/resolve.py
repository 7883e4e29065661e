"""The closure of requested Debian packages, picked the way ``apt-get install
--no-install-recommends`` would, minus what only package managers need.

``Pre-Depends`` and ``Depends`` are followed; each alternative group is satisfied by a
package already picked, else by its first alternative that exists (newest version
meeting the constraint, real packages before virtual ones named through ``Provides``).
``Recommends``, ``Suggests`` and ``Conflicts`` are not followed: nothing is installed
by dpkg, so there is nothing for them to decide.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

from debian.deb822 import PkgRelation
from debian.debian_support import Version

from lamina.debian.archive import Candidate
from lamina.debian.request import DEFAULT_EXCLUDE
from lamina.errors import ResolveError

_OPS = {
    "<<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "=": lambda a, b: a == b,
    ">=": lambda a, b: a >= b,
    ">>": lambda a, b: a > b,
}


def _meets(version: str | None, constraint: tuple[str, str] | None) -> bool:
    if constraint is None:
        return True
    if version is None:  # an unversioned Provides satisfies no versioned dependency
        return False
    op, wanted = constraint
    return _OPS[op](Version(version), Version(wanted))


def _relations(text: str) -> list[list[dict]]:
    return PkgRelation.parse_relations(text) if text.strip() else []


def _describe(group: list[dict]) -> str:
    return " | ".join(
        alt["name"] + (f" ({alt['version'][0]} {alt['version'][1]})" if alt.get("version") else "") for alt in group
    )


class Resolver:
    """Resolves package names against the candidates of one architecture."""

    def __init__(self, candidates: Iterable[Candidate], *, exclude: Iterable[str] = DEFAULT_EXCLUDE) -> None:
        self.exclude = frozenset(exclude)
        self.by_name: dict[str, list[Candidate]] = {}
        self.providers: dict[str, list[tuple[Candidate, str | None]]] = {}
        for candidate in candidates:
            self.by_name.setdefault(candidate.name, []).append(candidate)
        for versions in self.by_name.values():
            versions.sort(key=lambda c: Version(c.version), reverse=True)  # stable: earlier sources win ties
        for versions in self.by_name.values():
            for candidate in versions:
                for group in _relations(candidate.provides):
                    for provided in group:
                        version = provided["version"][1] if provided.get("version") else None
                        self.providers.setdefault(provided["name"], []).append((candidate, version))

    def _newest(self, name: str, constraint: tuple[str, str] | None) -> Candidate | None:
        return next((c for c in self.by_name.get(name, ()) if _meets(c.version, constraint)), None)

    def _pick(self, group: list[dict], selected: dict[str, Candidate]) -> Candidate | None:
        for alt in group:  # a real package of that name first, as apt does
            found = self._newest(alt["name"], alt.get("version"))
            if found is not None:
                return selected.get(found.name, found)
        for alt in group:  # then a provider, preferring one already picked, then the first by name
            providers = [c for c, v in self.providers.get(alt["name"], ()) if _meets(v, alt.get("version"))]
            providers = [c for c in providers if c.name not in self.exclude] or providers
            for candidate in sorted(providers, key=lambda c: (c.name not in selected, c.name)):
                return selected.get(candidate.name, candidate)
        return None

    def _satisfied(self, group: list[dict], selected: dict[str, Candidate]) -> bool:
        for alt in group:
            name, constraint = alt["name"], alt.get("version")
            if name in self.exclude:
                return True
            if name in selected and _meets(selected[name].version, constraint):
                return True
            if any(c.name in selected and _meets(v, constraint) for c, v in self.providers.get(name, ())):
                return True
        return False

    def resolve(self, requested: Sequence[str], *, where: str = "") -> list[Candidate]:
        """The requested packages (``name`` or ``name=version``) and their closure, by name."""
        selected: dict[str, Candidate] = {}
        parent: dict[str, str] = {}
        queue: deque[Candidate] = deque()
        for request in requested:
            name, _, version = request.partition("=")
            group = [{"name": name.strip(), "version": ("=", version.strip()) if version else None}]
            found = self._pick(group, selected)
            if found is None:
                raise ResolveError(f"{where}no package {request!r} in the sources{self._hint(name)}")
            if found.name not in selected:
                selected[found.name] = found
                queue.append(found)
        while queue:
            package = queue.popleft()
            relations = _relations(package.pre_depends) + _relations(package.depends)
            for group in relations:
                if self._satisfied(group, selected):
                    continue
                found = self._pick(group, selected)
                if found is None:
                    chain = self._chain(package.name, parent)
                    raise ResolveError(
                        f"{where}{chain} depends on {_describe(group)}, which no package of the sources provides; "
                        "add a source that has it, or add it to exclude= if the image does not need it"
                    )
                if found.name not in selected:
                    selected[found.name] = found
                    parent[found.name] = package.name
                    queue.append(found)
        return [selected[name] for name in sorted(selected)]

    def _hint(self, name: str) -> str:
        import difflib

        close = difflib.get_close_matches(name, list(self.by_name), n=1)
        return f"; did you mean {close[0]!r}?" if close else ""

    @staticmethod
    def _chain(name: str, parent: dict[str, str]) -> str:
        chain = [name]
        while chain[-1] in parent and len(chain) < 50:
            chain.append(parent[chain[-1]])
        return " <- ".join(chain)

"""Pants' visibility rules: ``__dependencies_rules__`` (what targets here may depend on) and
``__dependents_rules__`` (who may depend on targets here).

Each argument is a rule set ``(selector, rule, rule, ...)``. A BUILD file's rule sets apply
to the targets of its directory and below, unless a deeper BUILD file declares its own
(``extend=True`` keeps the parent's after them). The first rule set whose selector matches
the target applies, and in it the first rule whose path glob matches the other end of the
edge decides: allowed, ``!`` denied (an error) or ``?`` allowed with a warning. A matching
rule set without a matching rule denies, as in Pants.

Selectors: ``"*"``, a target type (``python_sources``, ``"python_*"``), a path glob, the
``"type[path]"`` form, or a dict of ``type``, ``name``, ``path`` and ``tags``. Path globs:
``//p`` from the build root, ``/p`` from the declaring BUILD file's directory, ``.`` the
directory of the target itself, anything else matches the end of the path.
"""

from __future__ import annotations

import fnmatch
import logging
import posixpath
import re
from collections.abc import Callable
from typing import Any

from lamina.errors import BuildFileError
from lamina.graph.build_file import RuleSets
from lamina.graph.files import glob_pattern
from lamina.graph.target import Target

log = logging.getLogger(__name__)
_TYPED = re.compile(r"^(?P<type>[\w*?]+)?\[(?P<path>[^\]]*)\]$")


def _path_of(target: Target) -> str:
    return target.address.filename or target.address.spec_path


def _path_matches(glob: str, path: str, *, declared_in: str, relative_to: str) -> bool:
    if glob in ("*", "**"):
        return True
    if glob.startswith("//"):
        pattern, anchored = glob[2:], True
    elif glob.startswith("/"):
        pattern, anchored = posixpath.join(declared_in, glob[1:]), True
    elif glob == "." or glob.startswith("./"):
        pattern, anchored = posixpath.normpath(posixpath.join(relative_to, glob)), True
    else:
        pattern, anchored = glob, False
    pattern = pattern.strip("/")
    regex = glob_pattern(pattern if anchored else f"**/{pattern}")
    # a directory pattern also covers what is inside it
    return bool(
        regex.fullmatch(path) or glob_pattern(f"{pattern}/**" if anchored else f"**/{pattern}/**").fullmatch(path)
    )


def _selector_matches(selector: Any, target: Target, aliases: tuple[str, ...], declared_in: str) -> bool:
    """Whether ``selector`` picks ``target``, whose type is any of ``aliases`` (its own, and
    its generator's: Pants matches a generated target by the type written in the BUILD file)."""

    def is_type(pattern: Any) -> bool:
        pattern = getattr(pattern, "alias", pattern)
        return any(fnmatch.fnmatchcase(alias, pattern) for alias in aliases)

    if getattr(selector, "alias", None) is not None:
        return is_type(selector)
    if isinstance(selector, (tuple, list)):
        return any(_selector_matches(s, target, aliases, declared_in) for s in selector)
    path = _path_of(target)
    if isinstance(selector, dict):
        if "type" in selector and not is_type(selector["type"]):
            return False
        if "name" in selector and not fnmatch.fnmatchcase(target.address.name, selector["name"]):
            return False
        if "path" in selector and not _path_matches(
            selector["path"], path, declared_in=declared_in, relative_to=declared_in
        ):
            return False
        return not ("tags" in selector and not set(selector["tags"]) <= set(target.get("tags") or ()))
    if not isinstance(selector, str):
        return False
    if selector == "*":
        return True
    typed = _TYPED.match(selector)
    if typed:
        kind, glob = typed["type"], typed["path"]
        return (kind is None or is_type(kind)) and (
            not glob or _path_matches(glob, path, declared_in=declared_in, relative_to=declared_in)
        )
    if "/" in selector or selector.startswith("."):
        return _path_matches(selector, path, declared_in=declared_in, relative_to=declared_in)
    return is_type(selector)


def _action(rule: str) -> tuple[str, str]:
    if rule.startswith("!"):
        return "deny", rule[1:]
    if rule.startswith("?"):
        return "warn", rule[1:]
    return "allow", rule


class Visibility:
    """Checks every dependency edge against the rules in effect for both of its ends."""

    def __init__(
        self, rule_sets: Callable[[str, str], list[RuleSets]], aliases: Callable[[Target], tuple[str, ...]]
    ) -> None:
        self._rule_sets = rule_sets  # (directory, kind) -> the rule sets in effect there, nearest first
        self._aliases = aliases  # a target's type, and its generator's

    def check(self, origin: Target, dependency: Target) -> None:
        """Raise (or warn) when a rule forbids ``origin`` depending on ``dependency``."""
        self._apply("dependencies_rules", governed=origin, other=dependency, origin=origin, dependency=dependency)
        self._apply("dependents_rules", governed=dependency, other=origin, origin=origin, dependency=dependency)

    def _apply(self, kind: str, *, governed: Target, other: Target, origin: Target, dependency: Target) -> None:
        for rules in self._rule_sets(governed.address.spec_path, kind):
            declared_in = posixpath.dirname(rules.path)
            for rule_set in rules.sets:
                entries = rule_set if isinstance(rule_set, (tuple, list)) else (rule_set,)
                if not entries or not _selector_matches(entries[0], governed, self._aliases(governed), declared_in):
                    continue
                for rule in entries[1:]:
                    for text in rule if isinstance(rule, (tuple, list)) else (rule,):
                        action, glob = _action(text)
                        if _path_matches(
                            glob, _path_of(other), declared_in=declared_in, relative_to=governed.address.spec_path
                        ):
                            return self._decide(action, text, rules, kind, origin, dependency)
                return self._decide("deny", "(no rule matched)", rules, kind, origin, dependency)

    @staticmethod
    def _decide(action: str, rule: str, rules: RuleSets, kind: str, origin: Target, dependency: Target) -> None:
        if action == "allow":
            return
        message = (
            f"{origin.address} may not depend on {dependency.address}: rule {rule!r} of "
            f"__{kind}__ at {rules.path}:{rules.line}"
        )
        if action == "warn":
            log.warning("%s:%d: %s", origin.build_file, origin.line, message.replace("may not", "should not"))
            return
        raise BuildFileError(message, path=origin.build_file, line=origin.line)

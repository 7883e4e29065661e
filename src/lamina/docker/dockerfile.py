"""A Dockerfile as stages of instructions, with ARG scoping and Docker's word expansion
(``$VAR``, ``${VAR:-default}``, quotes and escapes). Lines (continuations, comments, the
``# escape=`` directive) are read by ``dockerfile-parse``; each instruction's flags and
arguments are split as BuildKit's parser splits them.

Only what lamina needs to apply instructions is modelled; what a word means is left to
the builder (``lamina.docker.assemble``).
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field

from dockerfile_parse import DockerfileParser

from lamina.errors import BuildFileError

# Instructions whose arguments Docker expands with the build's variables.
EXPANDED = {"ADD", "COPY", "ENV", "EXPOSE", "FROM", "LABEL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR", "ARG"}
_ESCAPE_DIRECTIVE = re.compile(r"^#\s*escape\s*=\s*([\\`])\s*$", re.IGNORECASE)
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"


@dataclass(frozen=True)
class Instruction:
    """One instruction as written: its keyword, ``--flags``, arguments and line."""

    keyword: str  # upper case
    flags: tuple[str, ...]
    args: tuple[str, ...]
    json: bool  # exec form (a JSON array)
    line: int
    original: str

    def flag(self, name: str) -> str | None:
        """The value of ``--name=value``, or None."""
        prefix = f"--{name}="
        return next((f[len(prefix) :] for f in self.flags if f.startswith(prefix)), None)


@dataclass
class Stage:
    """``FROM base [AS name]`` and the instructions up to the next ``FROM``."""

    index: int
    base: str  # as written, before expansion
    name: str | None
    platform: str | None
    line: int
    instructions: list[Instruction] = field(default_factory=list)


@dataclass(frozen=True)
class Dockerfile:
    """A parsed Dockerfile: its global ``ARG`` defaults (before the first ``FROM``) and stages."""

    path: str  # where it was read from, for messages
    text: str
    escape: str
    global_args: tuple[tuple[str, str | None], ...]
    stages: tuple[Stage, ...]

    def stage(self, name_or_index: str) -> Stage | None:
        """The stage called ``name_or_index`` (or at that index)."""
        for stage in self.stages:
            if stage.name == name_or_index.lower() or str(stage.index) == name_or_index:
                return stage
        return None


def parse(text: str, path: str) -> Dockerfile:
    """Parse Dockerfile ``text`` (read from ``path``)."""
    escape = "\\"
    for line in text.splitlines():
        found = _ESCAPE_DIRECTIVE.match(line)
        if found:
            escape = found[1]
            break
        if not line.startswith("#"):
            break
    global_args: list[tuple[str, str | None]] = []
    stages: list[Stage] = []
    for instruction in instructions(text, escape):
        if instruction.keyword == "FROM":
            args = instruction.args
            if len(args) not in (1, 3) or (len(args) == 3 and args[1].lower() != "as"):
                raise BuildFileError("expected FROM IMAGE [AS NAME]", path=path, line=instruction.line)
            name = args[2].lower() if len(args) == 3 else None
            stages.append(Stage(len(stages), args[0], name, instruction.flag("platform"), instruction.line))
        elif not stages:
            if instruction.keyword != "ARG":
                raise BuildFileError(
                    f"{instruction.keyword} before the first FROM; only ARG may come first",
                    path=path, line=instruction.line,
                )  # fmt: skip
            global_args.extend(arg_declarations(instruction))
        else:
            stages[-1].instructions.append(instruction)
    if not stages:
        raise BuildFileError("the Dockerfile has no FROM", path=path, line=1)
    return Dockerfile(path, text, escape, tuple(global_args), tuple(stages))


# Instructions whose leading --name=value words are flags.
_FLAGGED = {"FROM", "COPY", "ADD", "RUN", "HEALTHCHECK"}
# Instructions that may be written as a JSON array (exec form).
_JSON_FORMS = {"CMD", "ENTRYPOINT", "RUN", "SHELL", "COPY", "ADD", "VOLUME"}
# Instructions whose argument is one string in shell form.
_SHELL_FORMS = {"CMD", "ENTRYPOINT", "RUN", "ONBUILD", "MAINTAINER"}


def instructions(text: str, escape: str = "\\") -> list[Instruction]:
    """Every instruction of ``text`` with its flags and arguments, in order."""
    parser = DockerfileParser(fileobj=io.BytesIO(text.encode()))
    found = []
    for item in parser.structure:
        keyword = item["instruction"].upper()
        if keyword == "COMMENT":
            continue
        flags, rest = _flags(item["value"]) if keyword in _FLAGGED else ((), item["value"])
        as_json = _json_list(rest) if keyword in _JSON_FORMS else None
        if as_json is not None:
            args = tuple(as_json)
        elif keyword in _SHELL_FORMS:
            args = (rest,)
        elif keyword in ("ENV", "LABEL"):
            args = _pairs(rest, escape)
        elif keyword == "HEALTHCHECK":
            kind, _, command = rest.strip().partition(" ")
            command_json = _json_list(command)
            args = (kind, *(command_json if command_json is not None else ([command.strip()] if command else [])))
            as_json = command_json
        else:
            args = tuple(_words(rest, escape))
        original = " ".join(line.strip() for line in item["content"].splitlines() if line.strip())
        found.append(Instruction(keyword, flags, args, as_json is not None, item["startline"] + 1, original))
    return found


def _flags(value: str) -> tuple[tuple[str, ...], str]:
    flags, rest = [], value.strip()
    while rest.startswith("--"):
        flag, _, rest = rest.partition(" ")
        flags.append(flag)
        rest = rest.lstrip()
    return tuple(flags), rest


def _json_list(text: str) -> list[str] | None:
    if not text.strip().startswith("["):
        return None
    try:
        found = json.loads(text)
    except ValueError:
        return None
    return found if isinstance(found, list) and all(isinstance(v, str) for v in found) else None


def _words(text: str, escape: str) -> list[str]:
    """Whitespace-separated words, quotes and escapes kept for expansion (BuildKit's ``parseWords``)."""
    words, word, quote, i = [], [], None, 0
    while i < len(text):
        char = text[i]
        if char == escape and i + 1 < len(text):
            word += [char, text[i + 1]]
            i += 2
            continue
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char.isspace():
            if word:
                words.append("".join(word))
                word = []
            i += 1
            continue
        word.append(char)
        i += 1
    if word:
        words.append("".join(word))
    return words


def _pairs(text: str, escape: str) -> tuple[str, ...]:
    """``ENV``/``LABEL`` arguments as name, value, name, value...: ``A=1 B="x y"``, or the legacy ``A rest of line``."""
    words = _words(text, escape)
    if words and "=" not in words[0]:
        name, _, value = text.strip().partition(" ")
        return (name, value.strip())
    pairs: list[str] = []
    for word in words:
        name, _, value = word.partition("=")
        pairs += [name, value]
    return tuple(pairs)


def arg_declarations(instruction: Instruction) -> list[tuple[str, str | None]]:
    """``ARG A=1 B`` -> ``[("A", "1"), ("B", None)]`` (defaults unexpanded)."""
    found = []
    for arg in instruction.args:
        name, equals, default = arg.partition("=")
        found.append((name, default if equals else None))
    return found


class ExpansionError(ValueError):
    """A ``${VAR:?message}`` whose variable is unset, or a malformed ``${...}``."""


def expand(word: str, variables: dict[str, str], escape: str = "\\") -> str:
    """``word`` as Docker's shell lexer processes it: quotes removed, escapes applied,
    ``$VAR`` and ``${VAR}`` substituted (with ``:-``, ``-``, ``:+``, ``+``, ``:?`` and ``?``)."""
    out: list[str] = []
    i, n = 0, len(word)
    while i < n:
        char = word[i]
        if char == escape and i + 1 < n:
            out.append(word[i + 1])
            i += 2
        elif char == "'":
            end = word.find("'", i + 1)
            if end < 0:
                raise ExpansionError(f"unterminated single quote in {word!r}")
            out.append(word[i + 1 : end])
            i = end + 1
        elif char == '"':
            i += 1
            while i < n and word[i] != '"':
                if word[i] == escape and i + 1 < n and word[i + 1] in ('"', "$", escape):
                    out.append(word[i + 1])
                    i += 2
                elif word[i] == "$":
                    value, i = _variable(word, i, variables, escape)
                    out.append(value)
                else:
                    out.append(word[i])
                    i += 1
            if i >= n:
                raise ExpansionError(f"unterminated double quote in {word!r}")
            i += 1
        elif char == "$":
            value, i = _variable(word, i, variables, escape)
            out.append(value)
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _variable(word: str, i: int, variables: dict[str, str], escape: str) -> tuple[str, int]:
    """The value of the ``$...`` at ``word[i]`` and the index after it."""
    simple = re.compile(_NAME).match(word, i + 1)
    if simple:
        return variables.get(simple[0], ""), simple.end()
    if not word.startswith("${", i):
        return "$", i + 1
    name = re.compile(_NAME).match(word, i + 2)
    if not name:
        raise ExpansionError(f"bad substitution in {word!r}")
    j, depth = name.end(), 1
    k = j
    while k < len(word) and depth:
        depth += {"{": 1, "}": -1}.get(word[k], 0) if word[k - 1 : k] != escape else 0
        k += 1
    if depth:
        raise ExpansionError(f"missing '}}' in {word!r}")
    operator_and_word = word[j : k - 1]
    value = variables.get(name[0])
    if not operator_and_word:
        return value or "", k
    operator = operator_and_word[:2] if operator_and_word[:1] == ":" else operator_and_word[:1]
    rest = expand(operator_and_word[len(operator) :], variables, escape)
    unset = value is None or (operator.startswith(":") and value == "")
    if operator in (":-", "-"):
        return (rest if unset else value), k
    if operator in (":+", "+"):
        return ("" if unset else rest), k
    if operator in (":?", "?"):
        if unset:
            raise ExpansionError(f"{name[0]}: {rest or 'parameter not set'}")
        return value, k
    raise ExpansionError(f"unsupported substitution {word[i:k]!r}")

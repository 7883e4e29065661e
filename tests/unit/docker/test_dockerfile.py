"""Dockerfiles parsed by BuildKit's parser, words expanded as Docker expands them."""

from __future__ import annotations

import pytest

from lamina.docker.dockerfile import ExpansionError, expand, parse
from lamina.errors import BuildFileError

VARIABLES = {"A": "1", "EMPTY": "", "PATH": "/usr/bin"}


@pytest.mark.parametrize(
    ("word", "expanded"),
    [
        ("$A", "1"),
        ("${A}x", "1x"),
        ('"$A b"', "1 b"),
        ("'$A'", "$A"),
        ("${UNSET:-def}", "def"),
        ("${EMPTY:-def}", "def"),
        ("${EMPTY-def}", ""),
        ("${A:+set}", "set"),
        ("${UNSET:+set}", ""),
        ("a\\ b", "a b"),
        ('"two \\"words\\""', 'two "words"'),
        ("/opt/bin:$PATH", "/opt/bin:/usr/bin"),
        ("${UNSET:-${A}}", "1"),
        ("cost$", "cost$"),
    ],
)
def test_words_expand_as_docker_expands_them(word, expanded):
    assert expand(word, VARIABLES) == expanded


def test_a_required_variable_that_is_unset_is_an_error():
    with pytest.raises(ExpansionError, match="NAME: give it"):
        expand("${NAME:?give it}", VARIABLES)


def test_stages_global_args_and_escape_directive():
    dockerfile = parse(
        "# escape=`\nARG BASE=:base\nFROM ${BASE} AS build\nCOPY a `\n  b /x/\nFROM scratch\nCOPY --from=build /x /\n",
        "Dockerfile",
    )
    assert dockerfile.escape == "`"
    assert dockerfile.global_args == (("BASE", ":base"),)
    assert [(s.name, s.base, s.line) for s in dockerfile.stages] == [("build", "${BASE}", 3), (None, "scratch", 6)]
    copy = dockerfile.stages[0].instructions[0]
    assert (copy.keyword, copy.args, copy.line) == ("COPY", ("a", "b", "/x/"), 4)
    assert dockerfile.stages[1].instructions[0].flag("from") == "build"


@pytest.mark.parametrize(
    ("text", "message"),
    [("COPY a b\n", "COPY before the first FROM"), ("ARG X\n", "has no FROM"), ("FROM a b c\n", "FROM IMAGE")],
)
def test_malformed_dockerfiles_name_the_line(text, message):
    with pytest.raises(BuildFileError, match=message) as raised:
        parse(text, "src/Dockerfile")
    assert str(raised.value).startswith("src/Dockerfile")

"""A ``pex_binary``'s interpreter constraints, as Pants computes them: each constrained target
of its closure contributes its own field, else its default (its resolve's, with
``default_to_resolve_interpreter_constraints``, else ``[python]``'s), and all are ANDed."""

from __future__ import annotations

import pytest

from lamina.backends.python.pex_binary import interpreter_constraints
from lamina.errors import BuildFileError, ConfigError
from lamina.project import load_project

PANTS_TOML = """[python]
interpreter_constraints = [">=3.9"]
enable_resolves = true
default_to_resolve_interpreter_constraints = {default_to_resolve}
[python.resolves]
a = "a.lock"
b = "b.lock"
[python.resolves_to_interpreter_constraints]
b = ["==3.12.*"]
"""
BUILD = """python_sources(name="a", sources=["a.py"], resolve="a")
python_sources(name="b", sources=["b.py", "own.py"], resolve="b",
               overrides={"own.py": {"interpreter_constraints": ["<3.13"]}})
pex_binary(name="pa", entry_point="a.py", resolve="a")
pex_binary(name="pb", entry_point="b.py", resolve="b")
pex_binary(name="pown", entry_point="own.py", resolve="b")
pex_binary(name="bad", entry_point="a.py", resolve="a", interpreter_constraints=["CPython=<3.9"])
"""


def _constraints(tmp_path, default_to_resolve: bool) -> dict[str, tuple[str, ...]]:
    repo = tmp_path / "repo"
    repo.mkdir(exist_ok=True)
    (repo / "pants.toml").write_text(PANTS_TOML.format(default_to_resolve=str(default_to_resolve).lower()))
    (repo / "BUILD").write_text(BUILD)
    for name in ("a.py", "b.py", "own.py"):
        (repo / name).write_text("print('hi')\n")
    graph = load_project(repo, tmp_path / "cache").graph
    found = {}
    for name in ("pa", "pb", "pown"):
        target = graph.targets[f"//:{name}"]
        found[name] = interpreter_constraints(target, graph.closure([target]), graph)
    with pytest.raises(BuildFileError, match=r"interpreter constraint 'CPython=<3.9' is not valid") as raised:
        target = graph.targets["//:bad"]
        interpreter_constraints(target, graph.closure([target]), graph)
    assert raised.value.line == 7
    return found


def test_each_target_defaults_to_its_resolves_constraints_when_pants_toml_says_so(tmp_path):
    assert _constraints(tmp_path, True) == {
        "pa": (">=3.9",),
        "pb": ("==3.12.*",),
        "pown": ("CPython<3.13,==3.12.*",),  # its own field, and the binary's resolve's default
    }


def test_otherwise_to_the_python_sections(tmp_path):
    assert _constraints(tmp_path, False) == {"pa": (">=3.9",), "pb": (">=3.9",), "pown": ("CPython<3.13,>=3.9",)}


def test_a_bad_constraint_in_pants_toml_names_it(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "pants.toml").write_text('[python]\ninterpreter_constraints = ["=>3.9"]\n')
    (repo / "BUILD").write_text('python_sources()\npex_binary(name="bin", entry_point="a.py")\n')
    (repo / "a.py").write_text("")
    graph = load_project(repo, tmp_path / "cache").graph
    target = graph.targets["//:bin"]
    with pytest.raises(ConfigError, match=r"\[python\] interpreter_constraints: '=>3.9' is not valid"):
        interpreter_constraints(target, graph.closure([target]), graph)

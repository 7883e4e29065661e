"""BUILD evaluation: targets, generators, defaults, and errors with file:line."""

from __future__ import annotations

import re

import pytest
from conftest import addresses

from lamina.backends import default_registry
from lamina.errors import AddressError, BuildFileError, DependencyCycleError
from lamina.graph.build_file import evaluate


def test_generators_make_file_and_requirement_targets(repo):
    project = repo(
        {
            "BUILD": 'python_requirements(name="reqs")\n',
            "requirements.txt": "attrs>=23\n# comment\nPyYAML==6.0 ; python_version >= '3'\n",
            "src/app/BUILD": "python_sources()\n",
            "src/app/main.py": "",
            "src/app/main_test.py": "",
        }
    )()
    assert addresses(project.graph.resolve_specs(["::"])) == [
        "//:reqs", "//:reqs#PyYAML", "//:reqs#attrs", "//requirements.txt:reqs", "src/app:app", "src/app/main.py",
    ]  # fmt: skip


def test_defaults_are_inherited_by_subdirectories(repo):
    project = repo(
        {
            "BUILD": '__defaults__({python_image: dict(base="scratch", user="1000")})\n',
            "src/app/BUILD": 'python_sources()\npython_image(name="img", entry_point="app.main", user="2000")\n',
            "src/app/main.py": "",
        }
    )()
    image = project.graph.address_of("src/app:img")
    assert (image.get("base"), image.get("user")) == ("scratch", "2000")


def test_syntax_error_names_file_and_line(repo):
    with pytest.raises(BuildFileError, match=r"src/app/BUILD:2: invalid syntax"):
        repo({"src/app/BUILD": "python_sources()\npython_sources(\n"})()


def test_unknown_target_type_suggests_the_closest(repo):
    with pytest.raises(
        BuildFileError, match=r"src/app/BUILD:3: unknown name 'python_source_'.*did you mean 'python_source'"
    ):
        repo({"src/app/BUILD": "\n\npython_source_()\n"})()


def test_unknown_field_names_type_and_suggests(repo):
    with pytest.raises(
        BuildFileError, match=r"BUILD:1: unknown field 'entrypoint' for target type 'python_image'.*'entry_point'"
    ):
        repo({"src/app/BUILD": 'python_image(name="i", entrypoint="x")\n'})()


def test_builtins_and_imports_are_not_available(repo):
    with pytest.raises(BuildFileError, match="BUILD:1"):
        repo({"BUILD": "import os\n"})()
    with pytest.raises(BuildFileError, match="unknown name 'open'"):
        repo({"BUILD": "open('x')\n"})()


def test_pants_types_are_listed_but_not_packaged(repo):
    project = repo({"BUILD": 'python_tests(name="tests", timeout=10)\nadhoc_tool(name="img", runnable=":x")\n'})()
    targets = project.graph.resolve_specs(["::"])
    assert addresses(targets) == ["//:img", "//:tests"]
    assert all(project.registry.packager(t) is None for t in targets)


def test_unknown_address_suggests(repo):
    project = repo({"src/app/BUILD": 'python_sources(name="lib")\n', "src/app/a.py": ""})()
    with pytest.raises(AddressError, match="did you mean src/app:lib"):
        project.graph.resolve_specs(["src/app:lb"])


def test_unknown_dependency_names_the_target_and_line(repo):
    project = repo({"src/app/BUILD": 'python_sources(name="lib", dependencies=[":nope"])\n', "src/app/a.py": ""})()
    with pytest.raises(AddressError, match=r"src/app:lib at src/app/BUILD:1"):
        project.graph.dependencies(project.graph.address_of("src/app:lib"))


def test_explicit_cycle_is_an_error(repo):
    project = repo(
        {
            "src/a/BUILD": 'resources(name="a", sources=["*.txt"], dependencies=["src/b:b"])\n',
            "src/b/BUILD": 'resources(name="b", sources=["*.txt"], dependencies=["src/a:a"])\n',
        }
    )()
    with pytest.raises(DependencyCycleError, match="src/a:a -> src/b:b -> src/a:a"):
        project.graph.closure(project.graph.resolve_specs(["src/a:a"]))


def test_specs(repo):
    project = repo(
        {
            "src/a/BUILD": 'resources(name="a", sources=["*.txt"])\nresources(name="x", sources=["*.txt"])\n',
            "src/a/b/BUILD": 'resources(name="b", sources=["*.txt"])\n',
        }
    )()
    graph = project.graph
    assert addresses(graph.resolve_specs(["src/a:"])) == ["src/a:a", "src/a:x"]
    assert addresses(graph.resolve_specs(["src/a::"])) == ["src/a:a", "src/a:x", "src/a/b:b"]
    assert addresses(graph.resolve_specs(["src/a"])) == ["src/a:a", "src/a:x"]  # a directory: its targets
    assert addresses(graph.resolve_specs(["src/a:a"])) == ["src/a:a"]
    assert addresses(graph.resolve_specs(["src/a::", "!src/a/b::", "!src/a:x"])) == ["src/a:a"]
    with pytest.raises(AddressError):
        graph.resolve_specs(["nowhere::"])


@pytest.mark.parametrize(
    ("source", "refused"),
    [
        ("().__class__.__bases__[0].__subclasses__()", "attribute '__class__'"),
        ("x = (i for i in [1]).gi_frame.f_back.f_globals", "attribute 'gi_frame'"),
        ("f = python_sources.__globals__", "attribute '__globals__'"),
        ("b = __builtins__", "name '__builtins__'"),
        ("try:\n    python_sources()\nexcept:\n    pass", "bare `except:`"),
        ("s = '{0.__class__}'.format_map", "attribute 'format_map'"),
    ],
)
def test_build_files_cannot_reach_past_their_vocabulary(source, refused):
    with pytest.raises(BuildFileError, match=rf"BUILD:\d+: BUILD files may not use (the|a) {re.escape(refused)}"):
        evaluate(source + "\n", "BUILD", default_registry().target_types)


def test_build_files_that_run_too_long_are_stopped():
    with pytest.raises(BuildFileError, match=r"src/BUILD: evaluating took longer than 0.3 s"):
        evaluate("while True:\n    pass\n", "src/BUILD", default_registry().target_types, timeout=0.3)
    declared = evaluate(
        "def lib(n):\n    python_sources(name=n)\n\nlib('a')\n", "BUILD", default_registry().target_types
    )
    assert [d.kwargs["name"] for d in declared.declarations] == ["a"]  # what BUILD files may do still works

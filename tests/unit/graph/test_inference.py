"""Dependency inference from imports, as Pants does it."""

from __future__ import annotations

import logging

from conftest import addresses

from lamina.backends.python.inference import PythonInference

FILES = {
    "BUILD": 'python_requirements(name="reqs", module_mapping={"ansicolors": ["colors"]})\n',
    "requirements.txt": "ansicolors==1.1.8\nPyYAML==6.0\nrequests==2.31\n",
    "src/lib/BUILD": "python_sources()\n",
    "src/lib/__init__.py": "",
    "src/lib/util.py": "import yaml\nfrom colors import red\n",
    "src/app/BUILD": 'python_sources()\npython_image(name="img", entry_point="main.py:run", base="scratch")\n',
    "src/app/main.py": "import os, json\nfrom lib.util import thing\nfrom . import helper\nimport nowhere_to_be_found\n",
    "src/app/helper.py": "import importlib\nimportlib.import_module('lib')\n",
}


def _deps(project, address):
    return addresses(project.graph.dependencies(project.graph.address_of(address)))


def test_first_and_third_party_imports_are_inferred(repo, caplog):
    project = repo(FILES)()
    project.graph.module_names = None
    with caplog.at_level(logging.WARNING):
        deps = _deps(project, "src/app/main.py")
    assert deps == ["src/app/helper.py", "src/lib/util.py"]
    # an empty __init__.py is no dependency (Pants' init_files = "content_only"); an import of it is
    assert _deps(project, "src/lib/util.py") == ["//:reqs#PyYAML", "//:reqs#ansicolors"]
    assert _deps(project, "src/app/helper.py") == ["src/lib/__init__.py"]
    assert "src/app/main.py:4: cannot infer a dependency for import 'nowhere_to_be_found'" in caplog.text
    assert "'os'" not in caplog.text


def test_image_depends_on_its_entry_point_and_closure_is_transitive(repo):
    project = repo(FILES)()
    graph = project.graph
    image = graph.address_of("src/app:img")
    assert PythonInference.of(graph).entry_point(image)[1] == "app.main:run"
    closure = addresses(graph.closure([image]))
    assert "//:reqs#PyYAML" in closure and "//:reqs#requests" not in closure
    assert "src/lib/util.py" in closure


def test_excludes_remove_inferred_dependencies(repo):
    files = dict(FILES)
    files["src/lib/BUILD"] = 'python_sources(dependencies=["!//:reqs#PyYAML"])\n'
    project = repo(files)()
    assert "//:reqs#PyYAML" not in _deps(project, "src/lib/util.py")


def test_dependents(repo):
    project = repo(FILES)()
    graph = project.graph
    direct = addresses(graph.dependents([graph.address_of("src/lib/util.py")]))
    assert direct == ["src/app/main.py", "src/lib:lib"]
    transitive = addresses(graph.dependents([graph.address_of("src/lib/util.py")], transitive=True))
    assert "src/app:img" in transitive


def test_init_files_follow_python_infer_init_files(repo):
    files = {**FILES, "src/lib/__init__.py": "VERSION = 1\n"}
    assert "src/lib/__init__.py" in _deps(repo(files)(), "src/lib/util.py")  # it has content
    always = {
        **FILES,
        "pants.toml": FILES.get("pants.toml", '[source]\nroot_patterns = ["src"]\n')
        + '[python-infer]\ninit_files = "always"\n',
    }
    assert "src/lib/__init__.py" in _deps(repo(always)(), "src/lib/util.py")
    never = {**files, "pants.toml": '[source]\nroot_patterns = ["src"]\n[python-infer]\ninit_files = "never"\n'}
    assert "src/lib/__init__.py" not in _deps(repo(never)(), "src/lib/util.py")


def test_images_carry_every_ancestor_init_file(repo):
    from lamina.backends.python.rules import _app_files

    project = repo(FILES)()
    image = project.graph.address_of("src/app:img")
    files = {f.image_path for f in _app_files(project.graph.closure([image]), project.context)}
    assert {"/app/lib/__init__.py", "/app/lib/util.py", "/app/app/main.py"} <= files

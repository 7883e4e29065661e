"""Nothing a user writes is silently ignored or crashes lamina: overrides, ignore rules, globs,
tags, mistyped addresses, undecodable files, unparsable sources and very large graphs."""

from __future__ import annotations

import logging
import re
import time

import pytest
from conftest import addresses

from lamina.backends.python.rules import image_tags, package_python_image
from lamina.errors import AddressError, BuildFileError, ConfigError, DependencyCycleError


def _deps(project, address):
    return addresses(project.graph.dependencies(project.graph.address_of(address)))


def test_overrides_set_fields_of_generated_targets_as_pants_does(repo):
    project = repo({
        "BUILD": 'python_requirements(name="reqs", overrides={"PyYAML": {"modules": ["yaml"]}, '
                 '("attrs", "six"): {"dependencies": ["src/app/extra.py"]}})\n',
        "requirements.txt": "attrs>=23\nPyYAML==6.0\nsix\n",
        "src/app/BUILD": 'python_sources(overrides={"main.py": {"dependencies": [":app", "./extra.py"]}, '
                         '("t_*.py", "extra.py"): {"tags": ["slow"]}})\n',
        "src/app/main.py": "", "src/app/extra.py": "", "src/app/t_one.py": "", "src/app/t_two.py": "",
    })()  # fmt: skip
    graph = project.graph
    assert graph.address_of("//:reqs#PyYAML").get("modules") == ["yaml"]
    assert graph.address_of("//:reqs#attrs").get("dependencies") == ["src/app/extra.py"]
    assert _deps(project, "//:reqs#six") == ["src/app/extra.py"]
    assert "src/app/extra.py" in _deps(project, "src/app/main.py")
    assert [graph.address_of(f"src/app/{f}").get("tags") for f in ("t_one.py", "extra.py", "main.py")] == [
        ["slow"],
        ["slow"],
        None,
    ]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"src/app/BUILD": 'python_sources(overrides={"nope.py": {"tags": ["x"]}})\n', "src/app/a.py": ""},
         r"src/app/BUILD:1: Unused file paths in the `overrides` field for src/app:app: \['nope.py'\]"),
        ({"BUILD": 'python_requirements(name="reqs", overrides={"flask": {"modules": ["f"]}})\n', "requirements.txt": "attrs\n"},
         r"Unused key in the `overrides` field for //:\w+: \['flask'\]"),
        ({"src/app/BUILD": 'python_sources(overrides={"a.py": {"entry_point": "x"}})\n', "src/app/a.py": ""},
         r"overrides sets 'entry_point', which a python_source target does not have"),
        ({"src/app/BUILD": 'python_sources(overrides={"a.py": {"tags": ["x"]}, "*.py": {"tags": ["y"]}})\n',
          "src/app/a.py": ""}, r"overrides sets 'tags' twice for a.py"),
    ],
)  # fmt: skip
def test_overrides_that_do_nothing_are_errors(repo, files, message):
    with pytest.raises(BuildFileError, match=message):
        repo(files)()


def test_gitignore_and_pants_ignore_are_honoured(repo):
    load = repo({
        ".gitignore": "generated/*\n*.bak\n",
        "pants.toml": '[GLOBAL]\npants_ignore.add = ["/scratch/", "!generated/keep/"]\n[source]\nroot_patterns = ["src"]\n',
        "generated/BUILD": "this is not python(\n",
        "generated/keep/BUILD": "files(sources=['*'])\n",
        "generated/keep/data.txt": "",
        "scratch/BUILD": "broken(\n",
        "dist/BUILD": "broken(\n",
        "src/app/BUILD": "python_sources()\n",
        "src/app/main.py": "", "src/app/old.py.bak": "",
    })  # fmt: skip
    graph = load().graph
    assert addresses(graph.resolve_specs(["::"])) == [
        "generated/keep:keep", "generated/keep/BUILD", "generated/keep/data.txt", "src/app:app", "src/app/main.py",
    ]  # fmt: skip
    assert graph.address_of("generated/keep:keep").sources == ("generated/keep/BUILD", "generated/keep/data.txt")


@pytest.mark.parametrize("glob", ["/etc/*", "../secrets/*.py", "sub/../../x.py", "!../y.py"])
def test_globs_may_not_leave_the_build_files_directory(repo, glob):
    with pytest.raises(BuildFileError, match=rf"src/app/BUILD:1: .*source glob '{re.escape(glob)}' reaches outside"):
        repo({"src/app/BUILD": f"python_sources(sources=['*.py', {glob!r}])\n", "src/app/a.py": ""})()


def test_a_single_python_source_works_with_every_goal(repo):
    project = repo({
        "src/app/BUILD": 'python_source(name="main", source="app.py")\nresource(name="cfg", source="cfg.json")\n',
        "src/app/app.py": "import json\nfrom app import helper\n",
        "src/app/helper.py": "",
        "src/app/cfg.json": "{}",
    })()  # fmt: skip
    main = project.graph.address_of("src/app:main")
    assert main.sources == ("src/app/app.py",) and project.graph.address_of("src/app:cfg").sources == (
        "src/app/cfg.json",
    )
    assert project.graph.dependencies(main) == []
    assert main.to_json()["sources"] == ["src/app/app.py"]
    with pytest.raises(BuildFileError, match=r"src/app:gone: source='gone.py' names no file"):
        repo({"src/app/BUILD": 'python_source(name="gone", source="gone.py")\n'})()


def test_undecodable_files_are_errors_with_file_and_line(repo, tmp_path):
    load = repo({"BUILD": 'python_requirements(name="reqs")\n', "requirements.txt": "attrs\n"})
    (tmp_path / "requirements.txt").write_bytes(b"attrs\nna\xefve==1\n")
    with pytest.raises(BuildFileError, match=r"requirements.txt:2: requirements file is not UTF-8 text \(byte 0xef\)"):
        load()
    (tmp_path / "BUILD").write_bytes(b"# caf\xe9\npython_sources()\n")
    with pytest.raises(BuildFileError, match=r"^BUILD:1: BUILD file is not UTF-8"):
        load()
    (tmp_path / "BUILD").write_text("")
    (tmp_path / "pants.toml").write_bytes(b'[source]\nroot_patterns = ["s\xe9"]\n')
    with pytest.raises(ConfigError, match=r"pants.toml: not UTF-8 text"):
        load()


def test_a_source_that_does_not_parse_is_reported_with_file_and_line(repo, caplog):
    project = repo({"src/app/BUILD": "python_sources()\n", "src/app/main.py": "import os\n\ndef broken(:\n"})()
    with caplog.at_level(logging.WARNING):
        assert _deps(project, "src/app/main.py") == []
    assert "src/app/main.py:3: cannot parse (invalid syntax), so its imports are not inferred" in caplog.text


def test_long_chains_and_ladders_are_walked_in_linear_time(repo):
    chain = {f"c/t{i}/BUILD": f'target(dependencies=["//c/t{i + 1}"])\n' for i in range(1499)}
    chain["c/t1499/BUILD"] = "target()\n"
    ladder = {f"l/t{i}/BUILD": f'target(dependencies=["//l/t{i + 1}", "//l/t{i + 2}"])\n' for i in range(998)}
    ladder |= {"l/t998/BUILD": 'target(dependencies=["//l/t999"])\n', "l/t999/BUILD": "target()\n"}
    graph = repo({**chain, **ladder})().graph
    started = time.monotonic()
    assert len(graph.closure([graph.address_of("c/t0")])) == 1500
    assert len(graph.closure([graph.address_of("l/t0")])) == 1000
    assert time.monotonic() - started < 10  # a guard against exponential walks; the figure is in the benchmark
    looped = repo({**chain, "c/t1499/BUILD": 'target(dependencies=["//c/t700"])\n'})().graph
    with pytest.raises(DependencyCycleError, match=r"dependency cycle: c/t700:t700 -> c/t701:t701 -> .* -> c/t700"):
        looped.closure([looped.address_of("c/t0")])


def test_a_mistyped_base_address_gets_a_did_you_mean_not_a_registry_lookup(repo):
    files = {
        "3rdparty/debian/BUILD": 'debian_base(name="python3.11", packages=["python3.11-minimal"])\n',
        "src/app/BUILD": "python_sources()\npython_image(name='img', entry_point='app.main', base={base!r})\n",
        "src/app/main.py": "",
    }
    for base, message in (
        ("3rdparty/debian:pythn3.11", r"no target has the address '3rdparty/debian:pythn3.11'.*did you mean 3rdparty/debian:python3.11"),
        ("3rdparty/debain:python3.11", r"base='3rdparty/debain:python3.11' names no target; did you mean //3rdparty/debian:python3.11\?"),
    ):  # fmt: skip
        graph = repo({**files, "src/app/BUILD": files["src/app/BUILD"].format(base=base)})().graph
        with pytest.raises(AddressError, match=message):
            graph.base_target(graph.address_of("src/app:img"))
    graph = repo({**files, "src/app/BUILD": files["src/app/BUILD"].format(base="registry.example.com/py:3.11")})().graph
    assert graph.base_target(graph.address_of("src/app:img")) is None  # a registry reference


def test_tags_select_targets_and_image_tags_name_images(repo, caplog):
    files = {
        "src/app/BUILD": "python_sources()\n"
                         "python_image(name='new', entry_point='app.main', image_tags=['v1', 'stable'], tags=['web'])\n"
                         "python_image(name='old', entry_point='app.main', tags=['v0'])\n",
        "src/app/main.py": "",
    }  # fmt: skip
    project = repo(files)()
    assert image_tags(project.graph.address_of("src/app:new")) == ("v1", "stable")
    with caplog.at_level(logging.WARNING):
        assert image_tags(project.graph.address_of("src/app:old")) == ("v0",)
    assert "tags= on a python_image is deprecated as image tags" in caplog.text and "image_tags=['v0']" in caplog.text
    from lamina.project import load_project

    root = project.build_root
    select = lambda *tags: addresses(load_project(root, root / ".cache", tags=tags).graph.resolve_specs(["::"]))
    assert select("web") == ["src/app:new"]
    assert select("-web,v0") == ["src/app:app", "src/app/main.py"]
    assert select("+web,v0", "-v0") == ["src/app:new"]


def test_layout_and_entry_point_are_checked_before_anything_is_built(repo):
    files = {"src/app/BUILD": "python_sources()\npython_image(name='img', entry_point={entry!r}, base='scratch'{more})\n",
             "src/app/main.py": "def run():\n    pass\n\nVALUE = 1\n"}  # fmt: skip
    for entry, more, message in (
        ("app.main:rnu", "", r"entry_point 'app.main:rnu' names 'rnu', which src/app/main.py does not define; did you mean app.main:run\?"),
        ("app.main:run", ", layout='zip'", r"layout='zip' is not one of 'venv' .* or 'pex'"),
        ("", "", r"src/app:img: a python_image needs entry_point= \(what runs\) or binary="),
    ):  # fmt: skip
        project = repo({**files, "src/app/BUILD": files["src/app/BUILD"].format(entry=entry, more=more)})()
        with pytest.raises(BuildFileError, match=message):
            package_python_image(project.graph.address_of("src/app:img"), project.context)


def test_unknown_python_options_are_errors_but_pants_own_are_accepted(repo):
    repo(
        {
            "pants.toml": '[python]\ntailor_pex_binary_targets = false\npip_version = "24.2"\nresolves_to_no_binary = {}\n'
        }
    )()
    with pytest.raises(
        ConfigError, match=r"unknown option 'default_resolv' in \[python\]; did you mean 'default_resolve'"
    ):
        repo({"pants.toml": '[python]\ndefault_resolv = "x"\n'})()


def test_dependencies_and_peek_of_a_single_python_source(repo, capsys):
    from lamina.cli import main

    project = repo(
        {"src/app/BUILD": 'python_source(name="main", source="app.py")\n', "src/app/app.py": "import os\n"}
    )()
    root = str(project.build_root)
    assert main(["--build-root", root, "--cache-dir", f"{root}/.cache", "dependencies", "src/app:main"]) == 0
    assert main(["--build-root", root, "--cache-dir", f"{root}/.cache", "peek", "src/app:main"]) == 0
    assert '"sources": [\n      "src/app/app.py"\n    ]' in capsys.readouterr().out

"""BUILD files as Pants evaluates them: the prelude, ``env``, ``build_file_dir``,
``parametrize``, every form of ``__defaults__``, ``build_patterns``, Pants' addressing and
the requirement sources (requirements files, PEP 621, Poetry)."""

from __future__ import annotations

import pytest
from conftest import addresses

from lamina.errors import BuildFileError
from lamina.graph.address import Address
from lamina.python.imports import parse_imports
from lamina.python.requirement_sources import poetry_constraint


@pytest.mark.parametrize(
    ("address", "printed"),
    [
        (Address("src/app", "app"), "src/app:app"),
        (Address("src/app", "app", relative_file="main.py"), "src/app/main.py"),
        (Address("src/app", "lib", relative_file="main.py"), "src/app/main.py:lib"),
        (Address("src", "lib", relative_file="app/sub/x.py"), "src/app/sub/x.py:../../lib"),
        (Address("src", "src", relative_file="app/x.py"), "src/app/x.py:../src"),
        (Address("3rdparty/python", "python", generated="attrs"), "3rdparty/python#attrs"),
        (Address("", "reqs", generated="attrs"), "//:reqs#attrs"),
        (Address("", "reqs", relative_file="requirements.txt"), "//requirements.txt:reqs"),
        (Address("src/app", "app", parameters=(("resolve", "a"),)), "src/app@resolve=a"),
        (Address("src/app", "img", parameters=(("resolve", "a"), ("x", "1"))), "src/app:img@resolve=a,x=1"),
    ],
)
def test_addresses_print_as_pants_prints_them(address, printed):
    assert str(address) == printed


def test_prelude_macros_env_and_build_file_dir(repo, monkeypatch):
    monkeypatch.setenv("LAMINA_TEST_TAG", "from-env")
    project = repo({
        "pants.toml": '[GLOBAL]\nbuild_file_prelude_globs = ["macros/*.py"]\n[source]\nroot_patterns = ["src"]\n',
        "macros/lib.py": (
            "def service(name, **kwargs):\n"
            "    tags = sorted(set(kwargs.pop('tags', []) + ['service']))\n"
            "    python_sources(name=name, tags=tags, **kwargs)\n"
        ),
        "src/app/BUILD": (
            "service(name=f'{build_file_dir().name}-lib', tags=[env('LAMINA_TEST_TAG', 'x'), env('UNSET_X', 'dflt')])\n"
        ),
        "src/app/main.py": "",
    })()  # fmt: skip
    target = project.graph.address_of("src/app:app-lib")
    assert target.get("tags") == ["dflt", "from-env", "service"] and target.line == 1


def test_parametrize_makes_one_target_per_value(repo):
    project = repo({
        "pants.toml": '[python]\nresolves = { a = "a.lock", b = "b.lock" }\n[source]\nroot_patterns = ["src"]\n',
        "src/app/BUILD": (
            "python_sources(resolve=parametrize('a', 'b'))\n"
            "resources(name='data', sources=['*.json'], **parametrize('one', tags=['1']), **parametrize('two', tags=['2']))\n"
        ),
        "src/app/main.py": "", "src/app/d.json": "{}",
    })()  # fmt: skip
    assert addresses(project.graph.resolve_specs(["src/app::"])) == [
        "src/app:app", "src/app:data",
        "src/app/d.json:data@parametrize=one", "src/app/d.json:data@parametrize=two",
        "src/app/main.py@resolve=a", "src/app/main.py@resolve=b",
    ]  # fmt: skip
    assert project.graph.address_of("src/app/main.py@resolve=b").get("resolve") == "b"


def test_defaults_replace_or_extend_and_apply_to_all(repo):
    project = repo({
        "BUILD": "__defaults__({(python_sources, resources): dict(tags=['root'])}, all=dict(description='d'))\n",
        "src/a/BUILD": "__defaults__({python_sources: dict(tags=['a'])})\npython_sources()\nresources(name='r', sources=['*.txt'])\n",
        "src/b/BUILD": "__defaults__({python_sources: dict(tags=['b'])}, extend=True)\npython_sources()\n",
        "src/c/BUILD": "__defaults__(all=dict(resolve='x', nonsense=1), ignore_unknown_fields=True)\npython_sources()\n",
        "src/a/x.py": "", "src/a/x.txt": "", "src/b/x.py": "", "src/c/x.py": "",
    })()  # fmt: skip
    graph = project.graph
    assert graph.address_of("src/a").get("tags") == ["a"] and graph.address_of("src/a").get("description") is None
    assert graph.address_of("src/a:r").get("tags") == ["root"] and graph.address_of("src/a:r").get("description") == "d"
    assert graph.address_of("src/b").get("tags") == ["b"] and graph.address_of("src/b").get("description") == "d"
    assert graph.address_of("src/c").get("resolve") == "x" and "nonsense" not in graph.address_of("src/c").fields


def test_build_patterns_and_buildroot(repo):
    project = repo({
        "pants.toml": '[GLOBAL]\nbuild_patterns = ["BUILD", "BUILD.*"]\nbuild_ignore = ["/legacy/"]\n',
        "BUILDROOT": "not a BUILD file(\n",
        "src/a/BUILD.pants": "resources(sources=['*.txt'])\n",
        "legacy/BUILD": "broken(\n",
        "src/a/x.txt": "",
    })()  # fmt: skip
    assert addresses(project.graph.resolve_specs(["::"])) == ["src/a:a", "src/a/x.txt"]


def test_unknown_target_types_warn_when_asked(repo, caplog):
    with pytest.raises(BuildFileError, match="unknown name 'my_macro_target'"):
        repo({"BUILD": "my_macro_target(name='x')\n"})()
    project = repo(
        {"pants.toml": '[lamina]\nunknown_target_types = "warn"\n', "BUILD": "my_macro_target(name='x')\n"}
    )()
    assert addresses(project.graph.resolve_specs(["::"])) == ["//:x"]
    assert "my_macro_target" in caplog.text


def test_transitive_excludes_and_spec_excludes(repo):
    project = repo({
        "src/a/BUILD": "resources(sources=['*.txt'], dependencies=['src/b', '!!src/c'])\n",
        "src/b/BUILD": "resources(sources=['*.txt'], dependencies=['src/c'])\n",
        "src/c/BUILD": "resources(sources=['*.txt'])\n",
        "src/a/x.txt": "", "src/b/x.txt": "", "src/c/x.txt": "",
    })()  # fmt: skip
    graph = project.graph
    closure = addresses(graph.closure([graph.address_of("src/a")]))
    assert "src/b:b" in closure and not any(a.startswith("src/c") for a in closure)
    assert addresses(graph.resolve_specs(["::", "!src/a::", "!src/b/"])) == ["src/c:c", "src/c/x.txt"]


def test_requirement_sources(repo):
    project = repo({
        "3rdparty/BUILD": (
            "python_requirements(name='txt')\n"
            "python_requirements(name='pep621', source='pyproject.toml')\n"
            "poetry_requirements(name='poetry', source='poetry/pyproject.toml')\n"
        ),
        "3rdparty/requirements.txt": "-r more.txt\nattrs \\\n  >=23  # comment\nname @ https://example.com/n.whl\n",
        "3rdparty/more.txt": "--index-url https://example.com/simple\nrich[jupyter]>=13 ; python_version >= '3.8'\n",
        "3rdparty/pyproject.toml": '[project]\nname = "x"\ndependencies = ["click>=8"]\n[project.optional-dependencies]\ndev = ["pytest"]\n',
        "3rdparty/poetry/pyproject.toml": (
            '[tool.poetry.dependencies]\npython = "^3.9"\nrequests = "^2.31"\nlocal = { path = "../lib" }\n'
            'typer = { version = "~0.9", extras = ["all"], python = ">=3.9" }\n'
            '[tool.poetry.group.dev.dependencies]\nblack = "*"\n'
        ),
    })()  # fmt: skip
    graph = project.graph
    listed = addresses(graph.resolve_specs(["3rdparty::"]))
    assert [a for a in listed if "#" in a] == [
        "3rdparty:pep621#click", "3rdparty:pep621#pytest", "3rdparty:poetry#black", "3rdparty:poetry#requests",
        "3rdparty:poetry#typer", "3rdparty:txt#attrs", "3rdparty:txt#name", "3rdparty:txt#rich",
    ]  # fmt: skip
    assert "3rdparty/requirements.txt:txt" in listed and "3rdparty/poetry/pyproject.toml:../poetry" in listed
    assert graph.address_of("3rdparty:txt#attrs").get("requirements") == ("attrs >=23",)
    assert graph.address_of("3rdparty:poetry#typer").get("requirements") == (
        "typer[all]>=0.9,<0.10.0 ; python_version >= '3.9'",
    )


@pytest.mark.parametrize(
    ("constraint", "specifier"),
    [("^1.2.3", ">=1.2.3,<2.0.0"), ("^0.2.3", ">=0.2.3,<0.3.0"), ("^0.0.3", ">=0.0.3,<0.0.4"), ("^0.0", ">=0.0,<0.1.0"),
     ("~1.2.3", ">=1.2.3,<1.3.0"), ("~1", ">=1,<2.0.0"), ("1.2.3", "==1.2.3"), ("*", ""), (">=1,<2", ">=1,<2")],
)  # fmt: skip
def test_poetry_constraints_translate_as_pants_translates_them(constraint, specifier):
    assert poetry_constraint(constraint) == specifier


def test_imports_of_newer_syntax_are_read_token_by_token():
    source = b"import os, json as j\nfrom .sibling import (a,\n  b as c)\ntype Alias = int | str\n"
    with pytest.raises(SyntaxError):
        parse_imports(source, "pkg.mod", is_package=False, filename="m.py")
    found = parse_imports(source, "pkg.mod", is_package=False, filename="m.py", newer_syntax=True)
    assert [i.candidates[0] for i in found] == ["os", "json", "pkg.sibling.a", "pkg.sibling.b"]


def test_visibility_rules_are_enforced_as_in_pants(repo, caplog):
    files = {
        "src/BUILD": "__dependencies_rules__((python_sources, '/shared/**', '.', '?/legacy/**', '!*'), ('*', '*'))\n",
        "src/app/BUILD": "python_sources()\n",
        "src/app/main.py": "import shared.util\nimport legacy.old\n",
        "src/shared/BUILD": "python_sources()\n__dependents_rules__(('*', '//src/app/**', '!*'))\n",
        "src/shared/util.py": "",
        "src/legacy/BUILD": "python_sources()\n",
        "src/legacy/old.py": "",
        "src/other/BUILD": "python_sources()\n",
        "src/other/x.py": "import shared.util\n",
        "src/bad/BUILD": "python_sources()\n",
        "src/bad/y.py": "import other.x\n",
    }
    graph = repo(files)().graph
    assert addresses(graph.dependencies(graph.address_of("src/app/main.py"))) == [
        "src/legacy/old.py", "src/shared/util.py",
    ]  # fmt: skip
    assert "src/app/main.py should not depend on src/legacy/old.py: rule '?/legacy/**'" in caplog.text
    with pytest.raises(BuildFileError, match=r"src/bad/y.py may not depend on src/other/x.py: rule '!\*' of "
                                             r"__dependencies_rules__ at src/BUILD:1"):  # fmt: skip
        graph.dependencies(graph.address_of("src/bad/y.py"))
    with pytest.raises(BuildFileError, match=r"src/other/x.py may not depend on src/shared/util.py: rule '!\*' of "
                                             r"__dependents_rules__ at src/shared/BUILD:2"):  # fmt: skip
        graph.dependencies(graph.address_of("src/other/x.py"))


def test_a_pants_plugin_backend_is_read_not_run(repo, caplog):
    plugin = (
        "from pants.engine.target import COMMON_TARGET_FIELDS, Target\n\n\n"
        "class Deployment(Target):\n    alias = 'k8s_deployment_x'\n    core_fields = COMMON_TARGET_FIELDS\n"
    )
    project = repo({
        "pants.toml": '[GLOBAL]\npythonpath = ["%(buildroot)s/pants-plugins"]\nbackend_packages = ["deploy_plugin_x"]\n',
        "pants-plugins/deploy_plugin_x/__init__.py": "",
        "pants-plugins/deploy_plugin_x/register.py": "from deploy_plugin_x.target_types import Deployment\n\n\n"
                                                      "def target_types():\n    return [Deployment]\n",
        "pants-plugins/deploy_plugin_x/target_types.py": plugin,
        "deploy/BUILD": "k8s_deployment_x(name='web', replicas=3)\n",
    })()  # fmt: skip
    assert addresses(project.graph.resolve_specs(["deploy::"])) == ["deploy:web"]
    assert caplog.text.count("is a Pants plugin") == 1 and "k8s_deployment_x" in caplog.text


def test_string_imports_unowned_behaviour_and_root_patterns(repo, caplog):
    files = {
        "pants.toml": '[source]\nroot_patterns = ["/projects/*/src"]\n[python-infer]\nstring_imports = true\n',
        "projects/api/src/api/BUILD": "python_sources()\n",
        "projects/api/src/api/handlers.py": "",
        "projects/api/src/api/app.py": "ROUTES = ['api.handlers.index', 'not.a.known_module']\nimport missing_thing\n",
    }
    graph = repo(files)().graph
    app = graph.address_of("projects/api/src/api/app.py")
    assert addresses(graph.dependencies(app)) == ["projects/api/src/api/handlers.py"]
    assert "import 'missing_thing'" in caplog.text and "not.a.known_module" not in caplog.text
    strict = {**files, "pants.toml": files["pants.toml"] + 'unowned_dependency_behavior = "error"\n'}
    graph = repo(strict)().graph
    with pytest.raises(BuildFileError, match=r"projects/api/src/api/app.py:2: cannot infer a dependency for import"):
        graph.dependencies(graph.address_of("projects/api/src/api/app.py"))

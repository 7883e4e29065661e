"""``pex_binary`` is built by pex itself, offline, from the closure of its entry point and the
locked wheels lamina fetched and checked; the fields Pants has change the ``.pex`` as in Pants."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from corpus import corpus_copy, use_mirror
from oci_reading import REPO_ROOT, image_outputs, lamina

pytestmark = pytest.mark.integration


def _pex_info(pex: Path) -> dict:
    with zipfile.ZipFile(pex) as archive:
        return json.loads(archive.read("PEX-INFO"))


@pytest.fixture(scope="module")
def example_python(tmp_path_factory) -> tuple[Path, str]:
    """A copy of pantsbuild/example-python with its pex_binary packaged (from an empty cache), and
    what ``package`` printed."""
    work = tmp_path_factory.mktemp("example-python")
    repo = corpus_copy("pantsbuild+example-python", work / "repo")
    return repo, lamina("package", "helloworld:pex_binary", cwd=repo, cache=work / "cache").stdout


def test_example_python_pex_is_built_by_pex_at_pants_output_path_and_byte_identical(example_python, tmp_path):
    repo, printed = example_python
    pex = repo / "dist" / "helloworld" / "pex_binary.pex"  # where the repository's README says it goes
    assert "    dist/helloworld/pex_binary.pex" in printed.splitlines()
    built_first = pex.read_bytes()
    lamina("package", "helloworld:pex_binary", cwd=repo, cache=tmp_path / "cache-2")
    assert pex.read_bytes() == built_first, "two clean caches must give the same .pex, byte for byte"

    info = _pex_info(pex)
    assert info["entry_point"] == "helloworld.main"  # entry_point="main.py", relative to helloworld/BUILD
    assert info["requirements"] == ["ansicolors==1.1.8"]  # exactly the lock subset the closure imports
    assert list(info["distributions"]) == ["ansicolors-1.1.8-py2.py3-none-any.whl"]
    with zipfile.ZipFile(pex) as archive:
        names = set(archive.namelist())
    assert {"helloworld/main.py", "helloworld/greet/greeting.py", "helloworld/greet/translations.json"} <= names
    assert not any(n.startswith("helloworld/translator/") and n.endswith("_test.py") for n in names)


def _run_directly(pex: Path, python: Path) -> subprocess.CompletedProcess:
    """Execute ``pex`` itself (its ``#!/usr/bin/env pythonX.Y`` line) with ``python``'s directory first on PATH."""
    path = f"{python.parent}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(
        [pex], capture_output=True, text=True, timeout=120, env={**os.environ, "PATH": path}, check=False
    )


GREETING = re.compile(r"\x1b\[32m[^,]+, pantsbuild!\x1b\[0m")  # green, in a random language, as its README says


def test_example_python_pex_runs_with_the_hosts_python(example_python, python312):
    """The repository asks for ==3.12.* and searches <PATH> and <PYENV>: the .pex is built for the
    host's CPython 3.12 that search finds (not the Python running lamina) and runs with it,
    executed directly as its README says."""
    pex = example_python[0] / "dist/helloworld/pex_binary.pex"
    assert pex.read_bytes().startswith(b"#!/usr/bin/env python3.12\n")
    run = _run_directly(pex, python312)
    assert run.returncode == 0, run.stderr
    assert GREETING.fullmatch(run.stdout.strip()), run.stdout


def test_example_python_pex_runs_in_an_image_of_its_pex(tmp_path, python_mirror, load_image, run_container):
    """The same .pex copied into a docker_image FROM python:3.13 (Debian trixie's CPython, through
    the mirror) greets there too."""
    repo = corpus_copy("pantsbuild+example-python", tmp_path / "example-python")
    use_mirror(repo, python_mirror.address)
    (repo / "helloworld/BUILD").write_text(
        (repo / "helloworld/BUILD").read_text()
        + '\ndocker_image(name="img", instructions=["FROM python:3.13", "COPY helloworld/pex_binary.pex /bin/app", '
        '\'ENTRYPOINT ["/usr/local/bin/python3.13", "/bin/app"]\'])\n'
    )
    lamina("package", "--output=tarball", "helloworld:img", cwd=repo, cache=tmp_path / "cache")
    result = run_container(load_image(image_outputs(repo, "helloworld", "img")[1]))
    assert result.exit_code == 0, result.stderr
    assert GREETING.fullmatch(result.stdout.strip()), result.stdout


def test_lamina_running_on_python_3_12_builds_the_pex_offline(tmp_path, python312):
    """pex's vendored pip runs on Python 3.11 and older only: lamina installed on 3.12 (from its
    wheel and locked requirements, as users install it) hands pex the pip it pins, checked
    against its hashes, with the other wheels; pex still reaches no index."""
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir", str(tmp_path / "dist"), str(REPO_ROOT)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    venv = tmp_path / "venv"
    subprocess.run([python312, "-m", "venv", venv], check=True, timeout=300)
    pip = [venv / "bin/python", "-m", "pip", "install", "--quiet"]
    subprocess.run(
        [*pip, "--require-hashes", "-r", REPO_ROOT / "3rdparty/python/requirements.lock"], check=True, timeout=900
    )
    subprocess.run([*pip, "--no-deps", *(tmp_path / "dist").glob("lamina-*.whl")], check=True, timeout=300)
    repo = corpus_copy("pantsbuild+example-python", tmp_path / "example-python")
    built = subprocess.run(
        [venv / "bin/lamina", "--cache-dir", tmp_path / "cache", "package", "helloworld:pex_binary"],
        cwd=repo, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    run = _run_directly(repo / "dist/helloworld/pex_binary.pex", python312)
    assert run.returncode == 0, run.stderr
    assert GREETING.fullmatch(run.stdout.strip()), run.stdout


VERSION_APP = "import sys\n\nprint('%d.%d' % sys.version_info[:2])\n"


def test_interpreter_constraints_are_anded_over_the_closure_and_pick_a_host_python(tmp_path, python312):
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "pants.toml").write_text('[python]\ninterpreter_constraints = [">=3.11"]\n')
    (repo / "app/main.py").write_text(VERSION_APP)
    (repo / "app/BUILD").write_text(
        "python_sources()\n"
        'pex_binary(name="py312", entry_point="main.py", interpreter_constraints=["==3.12.*"])\n'
        'pex_binary(name="py310", entry_point="main.py", interpreter_constraints=["CPython==3.10.*"])\n'
        'pex_binary(name="bad", entry_point="main.py", interpreter_constraints=["=>3.9"])\n'
    )
    cache = tmp_path / "cache"
    lamina("package", "app:py312", cwd=repo, cache=cache)
    pex = repo / "dist/app/py312.pex"
    assert pex.read_bytes().startswith(b"#!/usr/bin/env python3.12\n")
    run = _run_directly(pex, python312)
    assert run.returncode == 0 and run.stdout.strip() == "3.12", run.stderr

    # the sources' >=3.11 (from [python]) and the binary's ==3.10.*: no Python is both
    failed = lamina("package", "app:py310", cwd=repo, cache=cache, check=False)
    assert failed.returncode != 0
    assert "app:py310: no Python on this machine meets the interpreter constraints CPython==3.10.*,>=3.11" in (
        failed.stderr
    )
    assert "search_path = ['<PYENV>', '<PATH>']" in failed.stderr and "Install a matching CPython" in failed.stderr
    failed = lamina("package", "app:bad", cwd=repo, cache=cache, check=False)
    assert "app/BUILD:4" in failed.stderr and "interpreter constraint '=>3.9' is not valid" in failed.stderr
    assert sorted(p.name for p in (repo / "dist/app").iterdir()) == ["py312.pex"]


APP = """import os
import sys


def hello() -> None:
    print("hello", os.environ.get("GREETING", "-"), *sys.argv[1:])


if __name__ == "__main__":
    print("as main", *sys.argv[1:])
"""


@pytest.fixture(scope="module")
def fields_repo(tmp_path_factory) -> Path:
    """A repository without third-party code whose pex_binary targets use each entry_point form and field."""
    repo = tmp_path_factory.mktemp("fields") / "repo"
    (repo / "src/app").mkdir(parents=True)
    (repo / "pants.toml").write_text('[source]\nroot_patterns = ["/src"]\n')
    (repo / "src/app/main.py").write_text(APP)
    inspect = [sys.executable, "-m", "pex.cli", "interpreter", "inspect", "--markers", "--tags"]
    (repo / "src/app/platform.json").write_text(
        subprocess.run(inspect, capture_output=True, text=True, check=True, timeout=120).stdout
    )
    (repo / "src/app/BUILD").write_text(
        'file(name="platform", source="platform.json")\n'
        'pex_binary(name="platformed", entry_point="app.main", complete_platforms=[":platform"], include_tools=True)\n'
        "python_sources()\n"
        'pex_binary(name="file", entry_point="main.py")\n'
        'pex_binary(name="file-func", entry_point="./main.py:hello", args=["--from-build"], env={"GREETING": "hi"})\n'
        'pex_binary(name="module-func", entry_point="app.main:hello", layout="packed", execution_mode="venv")\n'
        'pex_binary(name="module", entry_point="app.main", layout="loose", output_path="bin/module-app")\n'
        'pex_binary(name="no-sources", entry_point="app.main", include_sources=False)\n'
    )
    lamina("package", "src/app::", cwd=repo, cache=tmp_path_factory.mktemp("fields-cache"))
    return repo


@pytest.mark.parametrize(
    ("pex", "expected"),
    [
        ("src.app/file.pex", "as main x"),
        ("src.app/file-func.pex", "hello hi --from-build x"),
        ("src.app/module-func.pex", "hello - x"),
        ("bin/module-app", "as main x"),
        ("src.app/platformed.pex", "as main x"),
    ],
)
def test_each_entry_point_form_runs(fields_repo, pex, expected):
    path = fields_repo / "dist" / pex
    command = [sys.executable, path / "__main__.py" if path.is_dir() else path, "x"]
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=120, env={"PEX_ROOT": str(fields_repo / ".pex")}
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == expected


def test_layout_execution_mode_and_include_sources_reach_pex(fields_repo):
    packed = fields_repo / "dist/src.app/module-func.pex"
    assert (packed / "PEX-INFO").is_file() and (packed / ".bootstrap").is_file()  # packed: zipped parts in a directory
    assert json.loads((packed / "PEX-INFO").read_text())["venv"] is True
    loose = fields_repo / "dist/bin/module-app"
    assert (loose / "app/main.py").is_file() and (loose / ".bootstrap").is_dir()
    with zipfile.ZipFile(fields_repo / "dist/src.app/no-sources.pex") as archive:
        assert not any(n.startswith("app/") for n in archive.namelist())
    platformed = _pex_info(fields_repo / "dist/src.app/platformed.pex")  # complete_platforms from pex3's own output
    assert platformed["includes_tools"] is True


def test_a_bad_field_value_names_the_target_and_line(tmp_path):
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "pants.toml").write_text("")
    (repo / "app/main.py").write_text(APP)
    (repo / "app/BUILD").write_text('python_sources()\n\npex_binary(name="bin", entry_point="main.py", layout="zip")\n')
    result = lamina("package", "app:bin", cwd=repo, cache=tmp_path / "cache", check=False)
    assert result.returncode != 0
    assert "app/BUILD:3" in result.stderr and "layout='zip' is not one of 'zipapp', 'packed', 'loose'" in result.stderr
    assert not (repo / "dist").exists()

"""``lamina package ::`` on the example monorepo: images that run, hold only their own
closure, rebuild nothing when nothing changed, and change one layer on an app edit."""

from __future__ import annotations

import importlib.util
import json
import marshal
import os
import re
import tarfile
import uuid

import pytest
import requests
from oci_reading import (
    BASE,
    EXAMPLES,
    blob,
    copy_examples,
    image_outputs,
    lamina,
    layer_names,
    manifest,
    top_descriptor,
    venv_layers,
    venv_names,
)

pytestmark = pytest.mark.integration

WEB = ("src/python/services/web", "web")
CLI = ("src/python/services/greet_cli", "greet-cli")
GUESTBOOK = ("src/python/services/guestbook", "guestbook")  # psycopg2, compiled in 3rdparty/debian:builder


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The examples packaged once from a cold cache, four targets at a time."""
    root = copy_examples(tmp_path_factory.mktemp("clone") / "examples")
    cache = tmp_path_factory.mktemp("cache")
    result = lamina("--jobs=4", "package", "::", cwd=root, cache=cache)
    return root, cache, result


def test_package_prints_address_outputs_and_digest(built):
    root, _, result = built
    for spec_path, name in (WEB, CLI):
        layout, archive = image_outputs(root, spec_path, name)
        assert layout.is_dir() and archive.is_file()
        assert f"{spec_path}:{name}" in result.stdout
        assert str(archive.relative_to(root)) in result.stdout or str(archive) in result.stdout
        assert top_descriptor(layout)["digest"] in result.stdout
        assert f"dist/oci:lamina-examples/{name}:latest" in result.stdout


def test_cli_image_runs_with_arguments(built, load_image, run_container):
    root, _, _ = built
    image = load_image(image_outputs(root, *CLI)[1])
    shouted = run_container(image, ["hello", "World", "--shout"])
    assert (shouted.exit_code, shouted.stdout.strip()) == (0, "HELLO, WORLD!"), shouted.stderr
    usage = run_container(image, ["hello"])
    assert usage.exit_code == 1 and "Usage" in usage.stdout + usage.stderr


def test_web_image_answers_health_over_loopback(built, load_image, serve_container):
    root, _, _ = built
    image = load_image(image_outputs(root, *WEB)[1])
    with serve_container(image) as url:
        assert requests.get(url + "/health", timeout=10).json()["status"] == "ok"
        assert requests.get(url + "/greet/World?shout=true", timeout=10).json()["message"] == "HELLO, WORLD!"


def test_guestbook_image_runs_as_nonroot_and_answers_queries_against_postgresql(
    built, load_image, run_container, postgres
):
    root, _, _ = built
    image = load_image(image_outputs(root, *GUESTBOOK)[1])
    signed = run_container(image, ["sign", "Ada"], environment=postgres.environment, network="host")
    assert (signed.exit_code, signed.stdout.strip()) == (0, "Hello, Ada! You are visitor #1."), signed.stderr
    read = run_container(image, ["read"], environment=postgres.environment, network="host")
    assert (read.exit_code, read.stdout.strip()) == (0, "Hello, Ada!"), read.stderr
    whoami = run_container(
        image, ["-c", "import os; print(os.getuid())"], entrypoint=["/opt/venv/bin/python"], network="none"
    )
    assert whoami.stdout.strip() == "65532"


def test_a_runtime_base_without_libpq5_fails_naming_the_library_the_extension_and_the_package(built, tmp_path):
    _, cache, _ = built
    clone = copy_examples(tmp_path / "examples")
    debian = clone / "3rdparty/debian"
    (debian / "BUILD").write_text((debian / "BUILD").read_text().replace('"libpq5",', ""))
    lamina("generate-lockfiles", "--resolve=3rdparty/debian:python3.11-libpq", cwd=clone, cache=cache)
    failed = lamina("package", ":".join(GUESTBOOK), cwd=clone, cache=cache, check=False)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr, failed.stderr
    message = failed.stderr
    assert "the linux/amd64 image lacks shared libraries its native code needs" in message
    assert "psycopg2/_psycopg.cpython-311-x86_64-linux-gnu.so needs libpq.so.5" in message
    assert "The builder 3rdparty/debian:builder ships libpq.so.5 in the Debian package libpq5." in message
    assert "Add libpq5 to the packages of 3rdparty/debian:python3.11-libpq (at 3rdparty/debian/BUILD:" in message
    assert "then run `lamina generate-lockfiles --resolve=3rdparty/debian:python3.11-libpq`" in message
    assert not (clone / "dist" / "src.python.services.guestbook").exists()


def _locked_debs(base: str) -> set[str]:
    lock = json.loads((EXAMPLES / "3rdparty/debian" / f"{base}.lock.json").read_text())
    return {deb["name"] for deb in lock["architectures"]["amd64"]}


def _all_files(root, target):
    layout, _ = image_outputs(root, *target)
    return [name for layer in manifest(layout)["layers"] for name in layer_names(layout, layer["digest"])]


def test_guestbook_image_holds_no_compiler_headers_dev_packages_or_build_requirements(built):
    root, _, _ = built
    names = _all_files(root, GUESTBOOK)
    assert any(n.endswith("usr/lib/x86_64-linux-gnu/libpq.so.5") for n in names)  # the runtime library, from libpq5
    assert any("psycopg2/_psycopg" in n and n.endswith(".so") for n in names)  # the compiled extension
    packages = {n.rsplit("/", 1)[-1].removesuffix(".md5sums") for n in names if "var/lib/dpkg/status.d/" in n}
    assert "libpq5" in packages
    assert not {p for p in packages if p.endswith("-dev")}
    assert not packages & (_locked_debs("builder") - _locked_debs("python3.11-libpq"))  # gcc, binutils, make, ...
    assert not [n for n in names if "/include/" in n or n.endswith((".h", ".a"))]  # no headers, no static libraries
    assert not [n for n in names if n.rsplit("/", 1)[-1] in {"gcc", "cc", "c++", "ld", "as", "make", "pg_config"}]
    assert not _dists(names) & {"pip", "setuptools", "wheel", "packaging"}


def _image_files(root, target):
    layout, _ = image_outputs(root, *target)
    # base layers first, then the venv and third-party layers, then the app
    return venv_names(layout), layer_names(layout, manifest(layout)["layers"][-1]["digest"])


def _dists(names):
    return {n.split("/")[-1].split("-")[0].lower() for n in names if n.endswith(".dist-info")}


def test_each_image_holds_only_its_own_closure(built):
    root, _, _ = built
    web_third_party, web_app = _image_files(root, WEB)
    cli_third_party, cli_app = _image_files(root, CLI)
    assert {"fastapi", "uvicorn", "pydantic", "attrs"} <= _dists(web_third_party)
    assert {"docopt", "attrs"} <= _dists(cli_third_party)
    assert not {"docopt", "tabulate"} & _dists(web_third_party)
    assert not {"fastapi", "uvicorn", "starlette", "pydantic"} & _dists(cli_third_party)
    assert any(n.endswith("services/web/main.py") for n in web_app)
    assert not any("greet_cli" in n for n in web_app)
    assert any(n.endswith("greeting/model.py") for n in cli_app)


def test_no_build_tools_or_caches_land_in_images(built):
    root, _, _ = built
    for target in (WEB, CLI):
        third_party, app = _image_files(root, target)
        names = third_party + app
        assert not _dists(names) & {"pip", "setuptools", "wheel"}
        assert not [n for n in names if n.endswith((".whl", ".tar.gz")) or "/.cache/" in n or "pip-" in n]
        assert not [n for n in names if n.rsplit("/", 1)[-1] in {"gcc", "cc", "ld", "make"}]


def test_layers_says_what_each_layer_holds_and_keys_on(built):
    root, cache, _ = built
    shown = lamina("layers", ":".join(CLI), cwd=root, cache=cache).stdout
    layout = image_outputs(root, *CLI)[0]
    for architecture, platform in (("amd64", "linux/amd64"), ("arm64", "linux/arm64/v8")):
        layers = manifest(layout, architecture)["layers"]
        section = shown.split(f"({platform})")[1].split("(linux/")[0]
        assert [line.split()[1] for line in section.splitlines() if line[2:3].isdigit()] == [
            layer["digest"][:19] for layer in layers
        ]
    assert (
        "third-party distributions: " in shown
        and "attrs==" in shown
        and "docopt==0.6.2" in shown
        and "fastapi" not in shown
    )
    assert "application files: " in shown and "app/services/greet_cli/main.py" in shown
    assert "base: lamina: Debian packages base-files" in shown
    assert list((root / "dist").rglob("*.lamina-*")) == []


def test_noop_rebuild_writes_nothing_new(built):
    root, cache, _ = built
    blobs_before = sorted(p.name for p in (cache / "blobs" / "sha256").iterdir())
    outputs_before = {p: p.stat().st_mtime_ns for p in (root / "dist").rglob("*")}
    again = lamina("package", "::", cwd=root, cache=cache)
    assert sorted(p.name for p in (cache / "blobs" / "sha256").iterdir()) == blobs_before
    assert {p: p.stat().st_mtime_ns for p in (root / "dist").rglob("*")} == outputs_before  # no output touched
    for target in (WEB, CLI, GUESTBOOK, BASE):
        assert top_descriptor(image_outputs(root, *target)[0])["digest"] in again.stdout


def test_app_only_edit_changes_only_the_app_layer(built, tmp_path):
    root, cache, _ = built
    clone = copy_examples(tmp_path / "examples")
    before_web = manifest(image_outputs(root, *WEB)[0])
    before_cli = manifest(image_outputs(root, *CLI)[0])
    with open(clone / WEB[0] / "main.py", "a") as handle:
        handle.write("\n# an app-only edit\n")
    edited = lamina("-v", "package", "--json", "::", cwd=clone, cache=cache)
    # -v says why: the web app layer was rebuilt for its edited file, everything else was a hit
    web_lines = [line for line in edited.stderr.splitlines() if f"{':'.join(WEB)} (linux/amd64): " in line]
    (rebuilt,) = [line for line in web_lines if "rebuilt" in line]
    assert "app layer" in rebuilt and "rebuilt: file changed: src/python/services/web/main.py" in rebuilt
    assert all("reused: a cache hit in the local cache" in line for line in web_lines if "app layer" not in line)
    reports = {r["address"]: r for r in map(json.loads, edited.stdout.splitlines())}  # one JSON object per target
    assert set(reports) == {":".join(t) for t in (WEB, CLI, GUESTBOOK, BASE)} | {
        "3rdparty/debian:python3.11-libpq", "3rdparty/debian:builder",
    }  # fmt: skip
    web = reports[":".join(WEB)]
    assert web["tags"] == ["lamina-examples/web:latest"] and web["outputs"] == [
        "dist/oci:lamina-examples/web:latest",
        "dist/src.python.services.web/web.tar",
    ]
    assert {i["platform"] for i in web["images"]} == {"linux/amd64", "linux/arm64/v8"}
    for image in web["images"]:  # the app layer is made again, everything below it comes from the cache
        assert [layer["source"] for layer in image["layers"]] == ["cached"] * (len(image["layers"]) - 1) + ["built"]
    cli = reports[":".join(CLI)]
    assert {layer["source"] for image in cli["images"] for layer in image["layers"]} == {"cached"}
    after_web = manifest(image_outputs(clone, *WEB)[0])
    after_cli = manifest(image_outputs(clone, *CLI)[0])
    assert [l["digest"] for l in after_web["layers"][:-1]] == [l["digest"] for l in before_web["layers"][:-1]]
    assert after_web["layers"][-1]["digest"] != before_web["layers"][-1]["digest"]
    assert after_web["layers"][-1]["size"] < 100_000
    assert after_cli == before_cli


def test_same_inputs_give_same_digests_across_clones_caches_umask_tz_and_jobs(built, tmp_path):
    root, _, _ = built
    clone = copy_examples(tmp_path / "elsewhere" / "checkout")
    old_umask = os.umask(0o077)
    try:
        for path in clone.rglob("*"):
            if path.is_file() and path.suffix in {".py", ""}:
                os.chmod(path, 0o600)
        lamina("--jobs=1", "package", "::", cwd=clone, cache=tmp_path / "other-cache", env={"TZ": "Asia/Kathmandu"})
    finally:
        os.umask(old_umask)
    for target in (WEB, CLI, GUESTBOOK, BASE):
        for architecture in ("amd64", "arm64"):
            assert manifest(image_outputs(clone, *target)[0], architecture) == manifest(
                image_outputs(root, *target)[0], architecture
            )
        assert top_descriptor(image_outputs(clone, *target)[0]) == top_descriptor(image_outputs(root, *target)[0])
    # one after another and four at once: the same layout, byte for byte, entries in address order
    assert (clone / "dist/oci/index.json").read_bytes() == (root / "dist/oci/index.json").read_bytes()


def test_load_puts_the_image_in_the_engine(built, docker_client):
    root, cache, _ = built
    lamina("package", "--load", f"{CLI[0]}:{CLI[1]}", cwd=root, cache=cache)
    layout, _ = image_outputs(root, *CLI)
    loaded = docker_client.images.get("lamina-examples/greet-cli:latest")
    assert loaded.id == manifest(layout, "amd64")["config"]["digest"]  # this machine's image of the index


def test_load_sends_the_engine_only_the_layers_it_lacks(built, docker_client, run_container, tmp_path):
    _, cache, _ = built
    clone = copy_examples(tmp_path / "examples")
    build_file = clone / CLI[0] / "BUILD"
    repository = f"lamina-tests/slim-load-{uuid.uuid4().hex[:12]}"  # this test's own: no other test loads it
    build_file.write_text(build_file.read_text().replace('"lamina-examples/greet-cli"', f'"{repository}"'))
    spec = f"{CLI[0]}:{CLI[1]}"
    loaded = []
    try:
        lamina("package", "--output=docker", spec, cwd=clone, cache=cache)
        loaded.append(docker_client.images.get(f"{repository}:latest").id)
        with open(clone / CLI[0] / "main.py", "a") as handle:
            handle.write("\n# an app-only edit\n")
        edited = lamina("-v", "package", "--output=docker", spec, cwd=clone, cache=cache)
        layers = manifest(image_outputs(built[0], *CLI)[0])["layers"]
        assert f"1 of {len(layers)} layers sent, it held the others" in edited.stderr
        loaded.append(docker_client.images.get(f"{repository}:latest").id)
        assert run_container(f"{repository}:latest", ["hello", "Slim"]).stdout.strip() == "Hello, Slim!"
        assert not (clone / "dist").exists()  # --output=docker: nothing written under dist/
    finally:
        for image_id in loaded:
            docker_client.images.remove(image_id, force=True)


def test_load_without_an_engine_is_a_clear_error(built):
    root, cache, _ = built
    result = lamina(
        "package", "--load", f"{CLI[0]}:{CLI[1]}", cwd=root, cache=cache,
        env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"}, check=False,
    )  # fmt: skip
    assert result.returncode == 1 and "no Docker engine answered" in result.stderr


def test_a_one_distribution_lock_bump_changes_only_its_layer_and_the_images_that_use_it(built, tmp_path):
    root, cache, _ = built
    clone = copy_examples(tmp_path / "examples")
    requirements = clone / "3rdparty/python/requirements.txt"
    requirements.write_text(requirements.read_text().replace("tabulate>=0.9", "tabulate==0.9.0"))
    lamina("generate-lockfiles", "--resolve=python-default", cwd=clone, cache=cache)  # the Debian lock stays as it is
    assert "tabulate==0.9.0" in (clone / "3rdparty/python/default.lock").read_text()
    bumped = lamina("-v", "package", "::", cwd=clone, cache=cache)
    assert re.search(
        r"greet-cli \(linux/amd64\): third-party layer [a-z, ]*tabulate.* rebuilt: lock entry tabulate: \S+ -> 0\.9\.0",
        bumped.stderr,
    )
    for architecture in ("amd64", "arm64"):
        before = manifest(image_outputs(root, *CLI)[0], architecture)["layers"]
        after = manifest(image_outputs(clone, *CLI)[0], architecture)["layers"]
        assert len(after) == len(before)
        (changed,) = [i for i, (old, new) in enumerate(zip(before, after)) if old != new]
        names = layer_names(image_outputs(clone, *CLI)[0], after[changed]["digest"])
        assert any(n.endswith("tabulate-0.9.0.dist-info/METADATA") for n in names)
        assert not any(n.endswith("docopt.py") for n in names)  # docopt's layer is untouched
        assert changed < len(after) - 1  # not the app layer
    for target in (WEB, GUESTBOOK):  # they do not use tabulate: same images, same digests
        assert top_descriptor(image_outputs(clone, *target)[0]) == top_descriptor(image_outputs(root, *target)[0])


def test_third_party_layers_carry_unchecked_hash_bytecode_of_the_bases_cpython(built):
    root, _, _ = built
    layout = image_outputs(root, *WEB)[0]
    for architecture in ("amd64", "arm64"):
        pycs, sources = {}, set()
        for layer in venv_layers(layout, architecture):
            with tarfile.open(blob(layout, layer["digest"])) as archive:
                for member in archive.getmembers():
                    if member.name.endswith(".cpython-311.pyc"):
                        pycs[member.name] = archive.extractfile(member).read()
                    elif member.name.endswith(".py"):
                        sources.add(member.name)
        pydantic = "opt/venv/lib/python3.11/site-packages/pydantic/__pycache__/main.cpython-311.pyc"
        assert pydantic in pycs and len(pycs) > 0.9 * len(sources)  # all but what does not compile
        for data in pycs.values():
            assert data[:4] == importlib.util.MAGIC_NUMBER  # the base's CPython 3.11, as this host's
            assert int.from_bytes(data[4:8], "little") == 0b01  # hash-based, unchecked: never rewritten at import
        code = marshal.loads(pycs[pydantic][16:])
        assert code.co_filename == "/opt/venv/lib/python3.11/site-packages/pydantic/main.py"  # where it is in the image


def test_images_share_the_layer_of_a_distribution_they_both_use(built):
    root, _, _ = built
    cli, guestbook = image_outputs(root, *CLI)[0], image_outputs(root, *GUESTBOOK)[0]

    def docopt_layer(layout):
        (layer,) = [
            layer
            for layer in venv_layers(layout)
            if any(n.endswith("docopt.py") for n in layer_names(layout, layer["digest"]))
        ]
        return layer

    assert docopt_layer(cli) == docopt_layer(guestbook)  # one blob, stored, pushed and pulled once
    assert venv_layers(cli)[0] == venv_layers(guestbook)[0]  # the venv itself
    web = image_outputs(root, *WEB)[0]
    assert venv_layers(web)[0] == venv_layers(cli)[0]

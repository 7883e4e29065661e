"""Locks are read from real pip-tools and Pants/pex output; every malformed lock is an error
that names the file (and line) and the command that regenerates it."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from lamina.errors import ResolveError
from lamina.python.lockfile import CONSTRAINTS, PEX, PIP_TOOLS, load_lockfile

LOCKS = Path(__file__).resolve().parents[2] / "data" / "locks"
PIP_TOOLS_LOCK = LOCKS / "httpx-socks.lock"
PEX_LOCK = LOCKS / "pants-python-default.lock"
HASH = "a" * 64
OTHER_HASH = "b" * 64


def _pex_document() -> dict:
    text = PEX_LOCK.read_text()
    return json.loads("\n".join(line for line in text.splitlines() if not line.startswith("//")))


def _write(tmp_path: Path, text: str, name: str = "default.lock") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# -- pip-tools ---------------------------------------------------------------------------


def test_pip_tools_lock_pins_every_distribution_with_its_hashes():
    text = PIP_TOOLS_LOCK.read_text()
    lock = load_lockfile(PIP_TOOLS_LOCK)

    pins = dict(re.findall(r"^([a-z0-9-]+)==(\S+)", text, flags=re.MULTILINE))
    assert lock.format == PIP_TOOLS
    assert {name: str(dist.version) for name, dist in lock.dists.items()} == pins
    assert list(lock.dists) == sorted(lock.dists)
    assert sum(len(dist.artifacts) for dist in lock.dists.values()) == text.count("--hash=sha256:")
    for dist in lock.dists.values():
        assert dist.requires_dists is None
        assert all(artifact.url is None and artifact.filename is None for artifact in dist.artifacts)
        assert text.splitlines()[dist.line - 1].startswith(f"{dist.name}==")


def test_pip_tools_lock_keeps_the_hashes_and_marker_of_a_line():
    lock = load_lockfile(PIP_TOOLS_LOCK)
    httpx = lock.get("HTTPX")
    exceptiongroup = lock.get("exceptiongroup")

    assert httpx is not None and httpx.version == Version("0.27.0")
    assert {a.sha256 for a in httpx.artifacts} == {
        "71d5465162c13681bff01ad59b2cc68dd838ea1f10e51574bac27103f00c91a5",
        "a0cb88a46f32dc874e04ee956e4c2764aba2aa228f650b06788ba6bda2962ab5",
    }
    assert httpx.marker is None
    assert exceptiongroup is not None and str(exceptiongroup.marker) == 'python_version < "3.12"'
    assert lock.get("typing_extensions") is lock.get("Typing.Extensions") is not None
    assert lock.get("requests") is None


def test_pip_tools_options_comments_and_both_hash_spellings(tmp_path):
    path = _write(
        tmp_path,
        "--index-url https://example.invalid/simple\n"
        "--extra-index-url https://mirror.invalid/simple\n"
        "--find-links ./wheels\n"
        "\n"
        "Foo_Bar==1.0 \\\n"
        f"    --hash sha256:{HASH} \\\n"
        f"    --hash=sha256:{OTHER_HASH}\n"
        "    # via\n"
        "    #   -r requirements.in\n"
        f'baz==2.0.post1 ; sys_platform == "linux" --hash=sha256:{HASH}  # pinned by hand\n',
    )
    lock = load_lockfile(path)

    assert sorted(lock.dists) == ["baz", "foo-bar"]
    assert {a.sha256 for a in lock.dists["foo-bar"].artifacts} == {HASH, OTHER_HASH}
    assert lock.dists["foo-bar"].line == 5
    assert lock.dists["baz"].version == Version("2.0.post1")
    assert str(lock.dists["baz"].marker) == 'sys_platform == "linux"'


@pytest.mark.parametrize(
    ("lines", "bad_line", "complaint"),
    [
        ([f"attrs>=23 --hash=sha256:{HASH}"], 1, "not pinned"),
        ([f"attrs==23.* --hash=sha256:{HASH}"], 1, "not pinned"),
        ([f"attrs @ https://example.invalid/attrs-23.2.0.tar.gz --hash=sha256:{HASH}"], 1, "not pinned"),
        (
            ["# header", "attrs==23.2.0", "    # via -r requirements.in", f"six==1.16.0 --hash=sha256:{HASH}"],
            2,
            "has no --hash",
        ),  # one hash makes it a lock: every pin needs one
        ([f"attrs==23.2.0 --hash=md5:{'0' * 32}"], 1, "not a sha256"),
        ([f"attrs==23.2.0 --hash=sha256:{HASH}", f"ATTRS==23.2.0 --hash=sha256:{HASH}"], 2, "pinned twice"),
        (["-r other.txt"], 1, "unlocked requirements"),
        ([f"attrs==23.2.0 --config-settings=x=y --hash=sha256:{HASH}"], 1, "unsupported option"),
        (["attrs=23.2.0"], 1, "not a requirement"),
    ],
)
def test_malformed_pip_tools_lines_name_the_line_and_the_fix(tmp_path, lines, bad_line, complaint):
    path = _write(tmp_path, "\n".join(lines) + "\n")

    with pytest.raises(ResolveError) as raised:
        load_lockfile(path, resolve_name="python-default")

    message = str(raised.value)
    assert f"{path}:{bad_line}:" in message
    assert complaint in message
    assert "lamina generate-lockfiles --resolve=python-default" in message


# -- pex ------------------------------------------------------------------------------------


def test_pex_lock_records_versions_artifacts_and_dependencies():
    document = _pex_document()
    lock = load_lockfile(PEX_LOCK)

    (resolve,) = document["locked_resolves"]
    assert lock.format == PEX
    assert len(lock.dists) == len(resolve["locked_requirements"])
    for entry in resolve["locked_requirements"]:
        dist = lock.get(entry["project_name"])
        assert dist is not None and dist.version == Version(entry["version"])
        expected_artifacts = {(a["hash"], a["url"]) for a in entry["artifacts"]}
        assert {(a.sha256, a.url) for a in dist.artifacts} == expected_artifacts
        assert all(a.url.endswith("/" + a.filename) for a in dist.artifacts)
        assert [str(r) for r in dist.requires_dists] == [str(Requirement(r)) for r in entry["requires_dists"]]
        assert dist.line is None and dist.marker is None


def test_pex_resolves_for_several_platforms_merge_their_artifacts(tmp_path):
    document = _pex_document()
    (resolve,) = document["locked_resolves"]
    wheel_only, sdist_only = copy.deepcopy(resolve), copy.deepcopy(resolve)
    for entry in wheel_only["locked_requirements"]:
        entry["artifacts"] = [a for a in entry["artifacts"] if a["url"].endswith(".whl")]
    for entry in sdist_only["locked_requirements"]:
        entry["artifacts"] = [a for a in entry["artifacts"] if not a["url"].endswith(".whl")]
    wheel_only["platform_tag"] = ["cp39", "cp39", "manylinux_2_17_x86_64"]
    sdist_only["platform_tag"] = ["cp39", "cp39", "macosx_11_0_arm64"]
    split = {**document, "locked_resolves": [wheel_only, sdist_only]}
    path = _write(tmp_path, "// two platforms\n" + json.dumps(split, indent=2))

    merged, original = load_lockfile(path), load_lockfile(PEX_LOCK)

    assert merged.dists.keys() == original.dists.keys()
    for name, dist in merged.dists.items():
        assert set(dist.artifacts) == set(original.dists[name].artifacts)


def test_pex_resolves_with_different_versions_of_a_project_are_an_error(tmp_path):
    document = _pex_document()
    other = copy.deepcopy(document["locked_resolves"][0])
    attrs = next(e for e in other["locked_requirements"] if e["project_name"] == "attrs")
    attrs["version"] = "23.1.0"
    both = {**document, "locked_resolves": [document["locked_resolves"][0], other]}
    path = _write(tmp_path, json.dumps(both))

    with pytest.raises(ResolveError, match=r"attrs is locked at 23\.2\.0 for one platform and at 23\.1\.0"):
        load_lockfile(path, resolve_name="python-default")


def test_pex_json_errors_point_at_the_line_under_the_header(tmp_path):
    text = PEX_LOCK.read_text()
    broken_at = text.splitlines().index('  "allow_builds": true,') + 1
    path = _write(tmp_path, text.replace('  "allow_builds": true,', '  "allow_builds": true,,', 1))

    with pytest.raises(ResolveError, match=rf"{re.escape(str(path))}:{broken_at}: not a valid pex lock"):
        load_lockfile(path)


def test_pex_artifacts_must_be_sha256(tmp_path):
    document = _pex_document()
    document["locked_resolves"][0]["locked_requirements"][0]["artifacts"][0]["algorithm"] = "md5"
    path = _write(tmp_path, json.dumps(document))

    with pytest.raises(ResolveError, match=r"locked_requirements\[0\].*md5 hash"):
        load_lockfile(path, resolve_name="python-default")


def test_pex_entry_without_a_version_is_malformed(tmp_path):
    document = _pex_document()
    del document["locked_resolves"][0]["locked_requirements"][2]["version"]
    path = _write(tmp_path, json.dumps(document))

    with pytest.raises(ResolveError, match=r"locked_requirements\[2\]: malformed entry"):
        load_lockfile(path)


# -- loading --------------------------------------------------------------------------------


def test_loading_is_cached_until_the_file_changes(tmp_path):
    path = _write(tmp_path, f"attrs==23.2.0 --hash=sha256:{HASH}\n")
    first = load_lockfile(path)

    assert load_lockfile(path) is first
    path.write_text(f"attrs==23.2.0 --hash=sha256:{HASH}\nsix==1.16.0 --hash=sha256:{OTHER_HASH}\n")
    assert sorted(load_lockfile(path).dists) == ["attrs", "six"]


def test_locks_compare_and_hash_by_content(tmp_path):
    first = _write(tmp_path, f"attrs==23.2.0 --hash=sha256:{HASH}\n")
    again = load_lockfile(first)
    first.write_text(f"attrs==23.2.0 \\\n    --hash=sha256:{HASH}\n")  # same pins, new bytes

    reloaded = load_lockfile(first)
    assert reloaded is not again
    assert reloaded == again and hash(reloaded) == hash(again)
    assert {load_lockfile(PEX_LOCK): "pex"}[load_lockfile(PEX_LOCK)] == "pex"


def test_a_missing_lock_says_how_to_make_it(tmp_path):
    with pytest.raises(ResolveError, match=r"cannot read lock file .*--resolve=web"):
        load_lockfile(tmp_path / "web.lock", resolve_name="web")


# -- uv.lock and pylock.toml ------------------------------------------------------------

UV_WORKSPACE = Path(__file__).resolve().parents[2] / "data" / "uv-workspace"  # locked by real `uv lock`


def test_uv_lock_pins_registry_packages_with_urls_hashes_and_dependencies():
    lock = load_lockfile(UV_WORKSPACE / "uv.lock")
    assert lock.format == "uv"
    assert sorted(lock.dists) == ["attrs", "markupsafe", "tabulate"]  # workspace members are first-party
    attrs = lock.get("attrs")
    assert attrs.version == Version("26.1.0") and attrs.requires_dists == ()
    wheel = next(a for a in attrs.artifacts if a.filename.endswith(".whl"))
    assert wheel.url.startswith("https://files.pythonhosted.org/") and len(wheel.sha256) == 64
    assert {a.filename for a in lock.get("markupsafe").artifacts} >= {"markupsafe-3.0.4.tar.gz"}


def test_uv_lock_dependencies_keep_markers_and_extras(tmp_path):
    wheel = f'{{ url = "https://example.com/t-1.0-py3-none-any.whl", hash = "sha256:{HASH}", size = 1 }}'
    text = (
        'version = 1\nrevision = 3\nrequires-python = ">=3.11"\n\n[[package]]\nname = "t"\nversion = "1.0"\n'
        'source = { registry = "https://pypi.org/simple" }\n'
        'dependencies = [{ name = "attrs", marker = "sys_platform == \'linux\'" }]\n'
        f"wheels = [{wheel}]\n\n"
        '[package.optional-dependencies]\nwide-chars = [{ name = "markupsafe", extra = ["x"] }]\n'
    )
    lock = load_lockfile(_write(tmp_path, text, "uv.lock"))
    assert [str(r) for r in lock.get("t").requires_dists] == [
        'attrs; sys_platform == "linux"', 'markupsafe[x]; extra == "wide-chars"',
    ]  # fmt: skip


def test_pylock_pins_every_package_with_urls_and_hashes():
    lock = load_lockfile(UV_WORKSPACE / "pylock.toml")
    assert lock.format == "pylock"
    assert {name: str(d.version) for name, d in lock.dists.items()} == {
        name: str(d.version) for name, d in load_lockfile(UV_WORKSPACE / "uv.lock").dists.items()
    }
    assert all(a.url and len(a.sha256) == 64 for d in lock.dists.values() for a in d.artifacts)
    assert lock.get("attrs").requires_dists is None  # followed through the wheel's metadata


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('hash = "sha256:', 'hash = "md5:', 1), r"has no sha256 hash"),
        (lambda t: t.replace('source = { registry = "https://pypi.org/simple" }',
                             'source = { git = "https://example.com/x.git" }', 1), r"comes from git"),
        (lambda t: t + '\n[[package]]\nname = "attrs"\nversion = "1.0"\nsource = { registry = "https://pypi.org/simple" }\n',
         r"attrs is locked at 26.1.0 and at 1.0"),
    ],
)  # fmt: skip
def test_bad_uv_locks_are_clear_errors(tmp_path, edit, message):
    path = _write(tmp_path, edit((UV_WORKSPACE / "uv.lock").read_text()), "uv.lock")
    with pytest.raises(ResolveError, match=message):
        load_lockfile(path)


def test_an_empty_lock_is_valid(tmp_path):
    assert dict(load_lockfile(_write(tmp_path, "# nothing to lock\n")).dists) == {}
    assert dict(load_lockfile(_write(tmp_path, 'lock-version = "1.0"\ncreated-by = "uv"\n', "pylock.toml")).dists) == {}


def test_a_uv_lock_of_torch_with_its_cuda_libraries():
    lock = load_lockfile(Path(__file__).resolve().parents[2] / "data" / "torch-lock" / "uv.lock")
    assert str(lock.get("torch").version) == "2.5.1" and lock.get("nvidia-cudnn-cu12") is not None
    assert any(str(r).startswith("nvidia-cudnn-cu12") for r in lock.get("torch").requires_dists)


def test_a_constraints_file_pins_versions_without_hashes():
    lock = load_lockfile(LOCKS / "constraints.txt")  # `pip freeze`, as Pants' legacy requirement_constraints
    assert lock.format == CONSTRAINTS and str(lock.get("requests").version) == "2.32.3"
    assert all(not d.artifacts for d in lock.dists.values())

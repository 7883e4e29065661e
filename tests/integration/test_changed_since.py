"""``--changed-since``: in a git copy of the examples, an edit selects exactly the targets it
affects (a service's file, the shared library, one lock entry deep in the closure, a BUILD
file, a base's lock), with ``--changed-dependents`` adding what depends on them; ``list``
and ``package`` agree."""

from __future__ import annotations

import subprocess

import pytest
from oci_reading import copy_examples, lamina

pytestmark = pytest.mark.integration

IMAGES = {
    "src/python/services/web:web",
    "src/python/services/greet_cli:greet-cli",
    "src/python/services/guestbook:guestbook",
}
GIT = ["git", "-c", "user.name=lamina", "-c", "user.email=lamina@example.invalid", "-c", "commit.gpgsign=false"]


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    root = copy_examples(tmp_path_factory.mktemp("changed") / "examples")
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "examples"]):
        subprocess.run([*GIT, *command], cwd=root, check=True, capture_output=True, timeout=60)
    return root


def _changed(repo, tmp_path, *options: str) -> set[str]:
    listed = lamina("list", "--changed-since=HEAD", *options, "::", cwd=repo, cache=tmp_path / "cache")
    return set(listed.stdout.split())


def _edit(repo, path: str, old: str, new: str) -> str:
    original = (repo / path).read_text()
    assert old in original
    (repo / path).write_text(original.replace(old, new, 1))
    return original


def test_nothing_changed_selects_nothing(repo, tmp_path):
    assert _changed(repo, tmp_path, "--changed-dependents=transitive") == set()


def test_a_service_edit_selects_that_service_and_list_and_package_agree(repo, tmp_path):
    original = _edit(repo, "src/python/services/web/main.py", '"""', '"""An edit. ')
    try:
        assert _changed(repo, tmp_path) == {"src/python/services/web/main.py:lib"}
        assert _changed(repo, tmp_path, "--changed-dependents=transitive") & IMAGES == {"src/python/services/web:web"}
        packaged = lamina("package", "--changed-since=HEAD", "--changed-dependents=transitive", cwd=repo,
                          cache=tmp_path / "cache")  # fmt: skip
        built = {line.split()[0] for line in packaged.stdout.splitlines() if "  sha256:" in line}
        assert built == {"src/python/services/web:web"}
    finally:
        (repo / "src/python/services/web/main.py").write_text(original)


def test_a_shared_library_edit_reaches_every_image_only_with_transitive_dependents(repo, tmp_path):
    original = _edit(repo, "src/python/greeting/model.py", "Hello, ", "Hi, ")
    try:
        assert _changed(repo, tmp_path) == {"src/python/greeting/model.py"}
        direct = _changed(repo, tmp_path, "--changed-dependents=direct")
        assert "src/python/greeting/__init__.py" in direct and not direct & IMAGES
        assert _changed(repo, tmp_path, "--changed-dependents=transitive") & IMAGES == IMAGES
    finally:
        (repo / "src/python/greeting/model.py").write_text(original)


def test_one_lock_entry_deep_in_a_closure_selects_only_the_images_that_install_it(repo, tmp_path):
    lock = "3rdparty/python/default.lock"
    # typing-extensions reaches the web service through pydantic and fastapi, and nothing else
    original = _edit(
        repo,
        lock,
        "typing-extensions==4.16.0 \\\n",
        "typing-extensions==4.16.0 \\\n    --hash=sha256:" + "0" * 64 + " \\\n",
    )
    try:
        changed = _changed(repo, tmp_path)
        assert {"3rdparty/python:reqs#pydantic", "3rdparty/python:reqs#fastapi"} <= changed
        assert not changed & {
            "3rdparty/python:reqs#docopt",
            "3rdparty/python:reqs#tabulate",
            "3rdparty/python:reqs#psycopg2",
        }
        assert _changed(repo, tmp_path, "--changed-dependents=transitive") & IMAGES == {"src/python/services/web:web"}
    finally:
        (repo / lock).write_text(original)


def test_a_build_file_and_a_base_lock_select_their_targets_and_dependents(repo, tmp_path):
    build = "src/python/services/greet_cli/BUILD"
    original = _edit(repo, build, 'image_tags=["latest"]', 'image_tags=["latest", "v2"]')
    try:
        changed = _changed(repo, tmp_path)
        assert {"src/python/services/greet_cli:greet-cli", "src/python/services/greet_cli:lib"} <= changed
        assert changed & IMAGES == {"src/python/services/greet_cli:greet-cli"}
    finally:
        (repo / build).write_text(original)
    base_lock = "3rdparty/debian/python3.11-libpq.lock.json"
    original = _edit(repo, base_lock, '"generated_by": "lamina generate-lockfiles"', '"generated_by": "an edit"')
    try:
        assert _changed(repo, tmp_path) == {"3rdparty/debian:python3.11-libpq"}
        affected = _changed(repo, tmp_path, "--changed-dependents=transitive")
        assert affected & IMAGES == {"src/python/services/guestbook:guestbook"}
    finally:
        (repo / base_lock).write_text(original)


def test_an_unknown_ref_is_a_clear_error(repo, tmp_path):
    failed = lamina("list", "--changed-since=no-such-ref", "::", cwd=repo, cache=tmp_path / "cache", check=False)
    assert (
        failed.returncode == 1
        and "--changed-since: `git rev-parse" in failed.stderr
        and "Traceback" not in failed.stderr
    )

"""Every byte that leaves the cache is checked, outputs are repaired when damaged, cache
entries of the wrong shape are rebuilt, and an image's digest changes only when the
image does (stamping the revision into it is opt-in)."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from oci_reading import add_oci_options, copy_examples, image_outputs, lamina, manifest, venv_layers
from small_repo import tree_digest

pytestmark = pytest.mark.integration

CLI = ("src/python/services/greet_cli", "greet-cli")


def _digests(result) -> dict[str, str]:
    return dict(re.findall(r"^(\S+)  (sha256:[0-9a-f]{64})", result.stdout, flags=re.MULTILINE))


def _flip(path):
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x10
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The examples packaged once; a reference copy of their outputs."""
    root = copy_examples(tmp_path_factory.mktemp("verified") / "examples")
    cache = tmp_path_factory.mktemp("cache")
    first = lamina("package", CLI[0] + ":" + CLI[1], cwd=root, cache=cache)
    return root, cache, _digests(first), tree_digest(root / "dist")


def test_a_damaged_cache_blob_is_found_removed_and_rebuilt(built):
    root, cache, digests, reference = built
    layout, _ = image_outputs(root, *CLI)
    third_party = venv_layers(layout)[-1]["digest"]  # a third-party layer, just below the app
    cached = cache / "blobs" / "sha256" / third_party.split(":")[1]
    assert cached.stat().st_ino != (layout / "blobs" / "sha256" / cached.name).stat().st_ino  # never shared
    _flip(cached)
    for output in (root / "dist").iterdir():
        subprocess.run(["rm", "-rf", str(output)], check=True)
    result = lamina("package", ":".join(CLI), cwd=root, cache=cache)
    assert f"the blob {third_party} read from {cached} is damaged" in result.stderr
    assert "lamina removed it and builds src/python/services/greet_cli:greet-cli again" in result.stderr
    assert _digests(result) == digests and tree_digest(root / "dist") == reference


def test_damaged_outputs_are_rewritten_by_the_next_package(built):
    root, cache, digests, reference = built
    layout, archive = image_outputs(root, *CLI)
    blob = layout / "blobs" / "sha256" / manifest(layout)["layers"][-1]["digest"].split(":")[1]
    _flip(blob)
    with open(archive, "r+b") as handle:
        handle.truncate(archive.stat().st_size // 3)
    (layout / "index.json").write_text("{}")
    result = lamina("package", ":".join(CLI), cwd=root, cache=cache)
    assert _digests(result) == digests and tree_digest(root / "dist") == reference


def test_action_cache_entries_of_the_wrong_shape_are_misses(built):
    root, cache, digests, reference = built
    entries = list((cache / "actions").rglob("*.json"))
    assert len(entries) > 5
    for number, entry in enumerate(entries):
        entry.write_text(json.dumps([[], {"digest": 7}, "x", {"layers": "none"}, None][number % 5]))
    result = lamina("package", ":".join(CLI), cwd=root, cache=cache)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert _digests(result) == digests and tree_digest(root / "dist") == reference


def _git(root, *args):
    env = {"GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@example.com", "GIT_COMMITTER_NAME": "a",
           "GIT_COMMITTER_EMAIL": "a@example.com", "GIT_AUTHOR_DATE": "2024-05-01T12:00:00Z",
           "GIT_COMMITTER_DATE": "2024-05-01T12:00:00Z", "PATH": "/usr/bin:/bin"}  # fmt: skip
    return subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, text=True, check=True).stdout.strip()


def test_digests_depend_on_the_image_not_on_history_unless_stamped(built, tmp_path):
    _, cache, digests, _ = built
    spec = ":".join(CLI)
    first = copy_examples(tmp_path / "first")
    _git(first, "init", "-q")
    _git(first, "add", ".")
    _git(first, "commit", "-qm", "one history")
    assert _digests(lamina("package", spec, cwd=first, cache=cache)) == digests
    _git(first, "commit", "-q", "--allow-empty", "-m", "an empty commit")
    assert _digests(lamina("package", spec, cwd=first, cache=cache)) == digests
    second = copy_examples(tmp_path / "second")
    _git(second, "init", "-q")
    (second / "NOTES").write_text("another history\n")
    _git(second, "add", ".")
    _git(second, "commit", "-qm", "another history")
    _git(second, "remote", "add", "origin", "https://ci:token-3f9a@git.example.com/team/examples.git")
    assert _digests(lamina("package", spec, cwd=second, cache=cache)) == digests

    stamped = lamina("package", "--stamp", spec, cwd=second, cache=cache)
    assert _digests(stamped)[spec] != digests[spec]
    layout, _ = image_outputs(second, *CLI)
    annotations = manifest(layout)["annotations"]
    assert annotations["org.opencontainers.image.revision"] == _git(second, "rev-parse", "HEAD")
    assert annotations["org.opencontainers.image.created"] == "2024-05-01T12:00:00Z"
    assert annotations["org.opencontainers.image.source"] == "https://git.example.com/team/examples.git"
    add_oci_options(second, "stamp = true\n")
    assert _digests(lamina("package", spec, cwd=second, cache=cache)) == _digests(stamped)
    assert _digests(lamina("package", "--no-stamp", spec, cwd=second, cache=cache)) == digests

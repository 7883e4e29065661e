"""Trees in the cache are made once, checked against their manifest once per process, and
remade when damaged (a changed byte, mode or symlink, or a lost manifest)."""

from __future__ import annotations

import os

import pytest

from lamina.cache import Cache


def _fill(calls: list):
    def fill(tree):
        calls.append(tree)
        (tree / "usr/bin").mkdir(parents=True)
        (tree / "usr/bin/cc").write_text("a compiler\n")
        os.chmod(tree / "usr/bin/cc", 0o755)
        os.symlink("cc", tree / "usr/bin/gcc")

    return fill


@pytest.mark.parametrize(
    "damage",
    [
        lambda t: (t / "usr/bin/cc").write_text("something else\n"),
        lambda t: os.chmod(t / "usr/bin/cc", 0o777),
        lambda t: ((t / "usr/bin/gcc").unlink(), os.symlink("/bin/evil", t / "usr/bin/gcc")),
        lambda t: (t / "usr/bin/extra").write_text("planted\n"),
        lambda t: (t.parent / (t.name + ".manifest.json")).unlink(),
    ],
    ids=["content", "mode", "symlink", "added file", "lost manifest"],
)
def test_a_damaged_tree_is_remade_and_a_whole_one_reused(tmp_path, damage):
    calls: list = []
    tree = Cache(tmp_path).trees.get("sha256-abc", _fill(calls))
    assert Cache(tmp_path).trees.get("sha256-abc", _fill(calls)) == tree and len(calls) == 1  # whole: reused
    damage(tree)
    again = Cache(tmp_path).trees.get("sha256-abc", _fill(calls))  # a new process checks it
    assert again == tree and len(calls) == 2
    assert (tree / "usr/bin/cc").read_text() == "a compiler\n" and os.readlink(tree / "usr/bin/gcc") == "cc"
    assert not (tree / "usr/bin/extra").exists() and (tree.parent / "sha256-abc.manifest.json").is_file()
    assert [p for p in (tmp_path / "tmp").rglob("*") if not p.is_dir()] == []  # no scratch left behind

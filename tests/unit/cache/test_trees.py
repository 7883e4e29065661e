"""Trees in the cache are made once, checked against their manifest once per process, and
remade when damaged (a changed byte, mode or symlink, or a lost manifest); runs and workers
asking for the same tree at once make it once."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

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


def test_runs_and_workers_asking_for_a_tree_at_once_make_it_once(tmp_path):
    calls: list = []
    fill = _fill(calls)
    started = threading.Barrier(4)

    def slow_fill(tree):
        time.sleep(0.2)  # long enough for every other asker to arrive while it is being made
        fill(tree)

    def ask(cache):
        started.wait()
        return cache.trees.get("sha256-abc", slow_fill)

    shared = Cache(tmp_path)  # two workers of one run, and two other runs (their own Cache, lock file)
    with ThreadPoolExecutor(4) as pool:
        trees = list(pool.map(ask, [shared, shared, Cache(tmp_path), Cache(tmp_path)]))
    assert len(calls) == 1 and len(set(trees)) == 1
    assert (trees[0] / "usr/bin/cc").read_text() == "a compiler\n"

"""Two lamina processes on the same repository and cache, at the same time, never crash and
leave byte-identical outputs: cold and warm caches, with and without earlier outputs,
``package`` and ``publish`` (against a real registry). Real processes, run in pairs."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from oci_reading import lamina, lamina_command
from small_repo import lock_text, make_repo, tree_digest

pytestmark = pytest.mark.integration


def _pair(*args: str, cwd, cache) -> list[subprocess.CompletedProcess]:
    """Start two identical lamina processes at once and wait for both."""
    command = [*lamina_command(), "--cache-dir", str(cache), *args]
    processes = [subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]  # fmt: skip
    results = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=600)
        results.append(subprocess.CompletedProcess(command, process.returncode, stdout, stderr))
    return results


def _ok(results) -> None:
    for result in results:
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr


def test_twenty_concurrent_package_pairs_never_crash_and_agree(index, python_base, tmp_path):
    lock = lock_text(index.files)
    reference = make_repo(tmp_path / "reference", index_url=index.url, base=python_base, lock=lock)
    lamina("package", "::", cwd=reference, cache=tmp_path / "reference-cache")
    expected = tree_digest(reference / "dist")
    repo = make_repo(tmp_path / "repo", index_url=index.url, base=python_base, lock=lock)
    cache = tmp_path / "cache"
    rounds = [("cold", "no dist")] * 3 + [("cold", "dist")] * 3 + [("warm", "no dist")] * 7 + [("warm", "dist")] * 7
    for number, (cache_state, dist_state) in enumerate(rounds):
        if cache_state == "cold":
            shutil.rmtree(cache, ignore_errors=True)
        if dist_state == "no dist":
            shutil.rmtree(repo / "dist", ignore_errors=True)
        results = _pair("package", "::", cwd=repo, cache=cache)
        _ok(results)
        assert results[0].stdout.split("(")[0] == results[1].stdout.split("(")[0]
        assert tree_digest(repo / "dist") == expected, f"pair {number} ({cache_state}, {dist_state})"
    assert [p for p in repo.rglob("*") if ".lamina-" in p.name] == []
    assert list((cache / "tmp").iterdir()) == []  # every process removed its scratch directory on exit


def test_concurrent_publish_pairs_push_the_same_image(index, python_base, registry, tmp_path):
    repo = make_repo(
        tmp_path / "repo", index_url=index.url, base=python_base, lock=lock_text(index.files),
        extra_toml=f'default_repository = "{registry.address}/pairs"\n',
    )  # fmt: skip
    cache = tmp_path / "cache"
    digests = set()
    for _ in range(4):
        results = _pair("publish", "::", cwd=repo, cache=cache)
        _ok(results)
        digests |= {
            line.split("@")[1].split()[0] for r in results for line in r.stdout.splitlines() if "@sha256:" in line
        }
    assert len(digests) == 1
    skopeo = subprocess.run(
        ["skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}", f"docker://{registry.address}/pairs/cli:v1"],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    assert digests == {skopeo.stdout.strip()}

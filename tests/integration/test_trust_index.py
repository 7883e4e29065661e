"""lamina against a real PyPI-shaped index on loopback: credentials stay secret, what the
index says is never used as a path, a file that is not a wheel is a clear error, and a
build killed mid-download leaves nothing a later run does not clean up."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time

import pytest
from index_server import IndexServer
from oci_reading import lamina, lamina_command
from small_repo import download_wheelhouse, lock_text, make_repo, tree_digest

pytestmark = pytest.mark.integration

PASSWORD = "hunter2-index-9c1f"


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory):
    return download_wheelhouse(tmp_path_factory.mktemp("wheelhouse"))


@pytest.fixture
def index(wheelhouse):
    servers = []

    def start(**options) -> IndexServer:
        servers.append(IndexServer(wheelhouse, **options).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def _everything_written(*roots) -> str:
    """The text of every file under ``roots`` (binary files included, as latin-1)."""
    return "".join(p.read_bytes().decode("latin-1") for root in roots for p in root.rglob("*") if p.is_file())


def test_index_credentials_never_appear_in_output_logs_locks_or_images(index, python_base, tmp_path):
    server = index(login=("ci", PASSWORD))
    repo = make_repo(tmp_path / "repo", index_url=server.url_with_login(), base=python_base)
    cache = tmp_path / "cache"
    locked = lamina("-v", "generate-lockfiles", cwd=repo, cache=cache)
    lock = (repo / "3rdparty/python/default.lock").read_text()
    assert "tabulate==0.10.0" in lock and "docopt==0.6.2" in lock
    built = lamina("-v", "package", "::", cwd=repo, cache=cache)
    assert "src/app:cli  sha256:" in built.stdout
    server.served_instead["tabulate-0.10.0-py3-none-any.whl"] = b"<html>an error page</html>"  # the index lies
    failed = lamina("-v", "package", "::", cwd=repo, cache=tmp_path / "cold", check=False)
    assert failed.returncode == 1 and "does not match the lock's sha256" in failed.stderr
    assert f"from http://127.0.0.1:{server.server.server_address[1]}/files/tabulate" in failed.stderr
    said = locked.stdout + locked.stderr + built.stdout + built.stderr + failed.stdout + failed.stderr
    assert PASSWORD not in said + lock + _everything_written(repo / "dist", cache, tmp_path / "cold")
    files = [path for path, _ in server.requests if path.startswith("/files/")]
    assert files and all(auth and auth.startswith("Basic ") for _, auth in server.requests)


def test_what_an_index_says_is_never_used_as_a_path(index, wheelhouse, python_base, tmp_path):
    wheel = next(p for p in wheelhouse.iterdir() if p.name.startswith("tabulate"))
    sha256 = hashlib.sha256(wheel.read_bytes()).hexdigest()
    lie = {"url": f"../../files/{wheel.name}", "hashes": {"sha256": sha256}}
    server = index(extra_entries={
        "tabulate": [{**lie, "filename": "../../../../../tmp/lamina-escaped.whl"}, {**lie, "filename": "/abs.whl"}],
        "docopt": [{"filename": "../docopt-0.6.2.tar.gz", "url": "x", "hashes": {"sha256": "0" * 64}}],
    })  # fmt: skip
    repo = make_repo(tmp_path / "repo", index_url=server.url, base=python_base, lock=lock_text(wheelhouse))
    result = lamina("package", "::", cwd=repo, cache=tmp_path / "cache")
    assert "src/app:cli" in result.stdout
    assert not (tmp_path / "lamina-escaped.whl").exists() and not os.path.exists("/tmp/lamina-escaped.whl")
    assert not list(tmp_path.rglob("*escaped*")) and not list(tmp_path.rglob("abs.whl"))


def test_a_locked_file_that_is_not_a_wheel_is_a_clear_error(index, wheelhouse, python_base, tmp_path):
    bogus = b"PK\x03\x04 truncated, not a zip"
    server = index(published={"tabulate-0.10.0-py3-none-any.whl": bogus})
    lock = lock_with(lock_text(wheelhouse), "tabulate", hashlib.sha256(bogus).hexdigest())
    repo = make_repo(tmp_path / "repo", index_url=server.url, base=python_base, lock=lock)
    result = lamina("package", "::", cwd=repo, cache=tmp_path / "cache", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "tabulate-0.10.0-py3-none-any.whl is not a valid wheel" in result.stderr
    assert "check the lock's hash for it" in result.stderr and not (repo / "dist").exists()


def lock_with(lock: str, name: str, sha256: str) -> str:
    """``lock`` with ``name``'s hash replaced by ``sha256``."""
    out, current = [], None
    for line in lock.splitlines(keepends=True):
        if "==" in line:
            current = line.split("==")[0]
        if current == name and "--hash=sha256:" in line:
            line = line.split("--hash=sha256:")[0] + f"--hash=sha256:{sha256}\n"
        out.append(line)
    return "".join(out)


def _owned_leftovers(root):
    return [p for p in root.rglob("*") if ".lamina-" in p.name]


def test_a_build_killed_mid_download_is_cleaned_up_by_the_next(index, wheelhouse, python_base, tmp_path):
    server = index(slow="tabulate-0.10.0-py3-none-any.whl", slow_rate=4 << 10)
    repo = make_repo(tmp_path / "repo", index_url=server.url, base=python_base, lock=lock_text(wheelhouse))
    cache = tmp_path / "cache"
    process = subprocess.Popen(
        [*lamina_command(), "--cache-dir", str(cache), "package", "::"], cwd=repo,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120  # the slow wheel takes about 10 s: its blob is being written meanwhile
    while not list((cache / "tmp").glob("*/.blob.lamina-*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "lamina finished before it could be killed mid-download"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    leftovers = _owned_leftovers(cache)
    assert leftovers, "the killed build left nothing to clean up: it was not killed mid-download"
    server.slow = None
    lamina("package", "::", cwd=repo, cache=cache)
    assert _owned_leftovers(cache) == [] and _owned_leftovers(repo) == []
    reference = tmp_path / "reference"
    make_repo(reference, index_url=server.url, base=python_base, lock=lock_text(wheelhouse))
    lamina("package", "::", cwd=reference, cache=tmp_path / "reference-cache")
    assert tree_digest(repo / "dist") == tree_digest(reference / "dist")

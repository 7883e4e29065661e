"""Bad input gets a clear error and leaves what was already built untouched."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from oci_reading import copy_examples, image_outputs, lamina

pytestmark = pytest.mark.integration

CLI = ("src/python/services/greet_cli", "greet-cli")


@pytest.fixture(scope="module")
def packaged(tmp_path_factory):
    root = copy_examples(tmp_path_factory.mktemp("errors") / "examples")
    cache = tmp_path_factory.mktemp("cache")
    lamina("package", ":".join(CLI), cwd=root, cache=cache)  # the outputs the failing runs must leave alone
    return root, cache


def _outputs(root):
    layout, archive = image_outputs(root, *CLI)
    return (layout / "index.json").read_bytes(), archive.read_bytes()


def _fails(root, cache, *args):
    before = _outputs(root)
    result = lamina(*args, cwd=root, cache=cache, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert _outputs(root) == before
    return result.stderr


def _edit(path, old, new):
    original = path.read_text()
    path.write_text(original.replace(old, new) if old else original + new)
    return original


def test_build_syntax_error(packaged):
    root, cache = packaged
    build = root / CLI[0] / "BUILD"
    original = _edit(build, "", "\npython_image(\n")
    try:
        assert re.search(
            r"src/python/services/greet_cli/BUILD:\d+: invalid syntax", _fails(root, cache, "package", "::")
        )
    finally:
        build.write_text(original)


def test_unknown_field(packaged):
    root, cache = packaged
    build = root / CLI[0] / "BUILD"
    original = _edit(build, "entry_point=", "entrypoint=")
    try:
        assert "unknown field 'entrypoint' for target type 'python_image'; did you mean 'entry_point'" in _fails(
            root, cache, "package", "::"
        )
    finally:
        build.write_text(original)


def test_requirement_missing_from_lock(packaged):
    root, cache = packaged
    requirements = root / "3rdparty/python/requirements.txt"
    main = root / CLI[0] / "main.py"
    original_requirements = _edit(requirements, "", "six>=1.16\n")
    original_main = _edit(main, "", "\nimport six\n")
    try:
        message = _fails(root, cache, "package", "::")
        assert "six" in message and "lamina generate-lockfiles --resolve=python-default" in message
    finally:
        requirements.write_text(original_requirements)
        main.write_text(original_main)


def test_unknown_address(packaged):
    root, cache = packaged
    assert "did you mean src/python/services/greet_cli:greet-cli" in _fails(
        root, cache, "package", "src/python/services/greet_cli:greet_cli"
    )


class _LyingIndex(BaseHTTPRequestHandler):
    """A package index whose files do not match the hashes it (and the lock) advertise."""

    lock_hashes: dict[str, list[str]] = {}

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if parts[0] == "simple" and len(parts) == 2:
            files = [
                {
                    "filename": f"{parts[1]}-0-py3-none-any.whl",
                    "url": f"/files/{digest}.whl",
                    "hashes": {"sha256": digest},
                }
                for digest in self.lock_hashes.get(parts[1], [])
            ]
            body = json.dumps({"meta": {"api-version": "1.0"}, "name": parts[1], "files": files}).encode()
            content_type = "application/vnd.pypi.simple.v1+json"
        else:
            body, content_type = b"these are not the bytes you locked", "application/octet-stream"
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_hash_mismatch_is_refused_and_nothing_is_cached(packaged, tmp_path):
    root, _ = packaged
    from lamina.python.lockfile import load_lockfile

    lock = load_lockfile(root / "3rdparty/python/default.lock")
    _LyingIndex.lock_hashes = {name: [a.sha256 for a in d.artifacts] for name, d in lock.dists.items()}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LyingIndex)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    pants_toml = root / "pants.toml"
    original = _edit(pants_toml, "", f'\n[lamina]\nindex_urls = ["http://127.0.0.1:{server.server_port}/simple"]\n')
    cold = tmp_path / "cold-cache"
    try:
        message = _fails(root, cold, "package", "src/python/services/greet_cli:greet-cli")
    finally:
        pants_toml.write_text(original)
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert "does not match the lock's sha256" in message
    stored = {p.name for p in (cold / "blobs" / "sha256").iterdir()} if (cold / "blobs" / "sha256").exists() else set()
    assert not stored & {h for hashes in _LyingIndex.lock_hashes.values() for h in hashes}
    assert not [p for p in stored if p.startswith(".incoming")]

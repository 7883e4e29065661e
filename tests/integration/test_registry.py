"""Registries: publish (only missing blobs, idempotent), bases by digest and by pinned tag,
auth behind TLS, faults, and the registry as the shared cache of a fresh CI machine."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import threading
import uuid

import pytest
from oci_reading import BASE, add_oci_options, copy_examples, image_outputs, lamina, manifest, top_descriptor
from registry_server import RegistryServer, docker_config
from token_server import TokenServer

pytestmark = pytest.mark.integration

CLI = ("src/python/services/greet_cli", "greet-cli")
WEB = ("src/python/services/web", "web")
PUBLISHED = re.compile(
    r"^(\S+)@(sha256:[0-9a-f]{64})  \((\d+) blobs uploaded, ([\d,]+) bytes; (\d+) mounted; (\d+) already there\)$",
    re.MULTILINE,
)


def _repo(tmp_path, registry, extra: str = "", name: str = "examples"):
    root = copy_examples(tmp_path / name)
    add_oci_options(root, f'default_repository = "{registry.address}/ci"\n')
    with open(root / "pants.toml", "a") as config:
        config.write(extra)
    return root


def _published(result) -> dict[str, tuple[str, int, int, int, int]]:
    return {
        m[0]: (m[1], int(m[2]), int(m[3].replace(",", "")), int(m[4]), int(m[5]))
        for m in PUBLISHED.findall(result.stdout)
    }


def _skopeo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["skopeo", *args], capture_output=True, text=True, check=True, timeout=600)


def test_publish_uploads_only_missing_blobs_and_the_engine_runs_what_it_pushed(tmp_path, registry, run_container):
    root = _repo(tmp_path, registry)
    cache = tmp_path / "cache"
    dry = lamina("publish", "--dry-run", ":".join(CLI), cwd=root, cache=cache)
    assert "dry run" in dry.stdout and not (registry.root / "data" / "docker").exists()

    first = _published(lamina("publish", ":".join(CLI), ":".join(BASE), cwd=root, cache=cache))
    repository = f"{registry.address}/ci/lamina-examples/greet-cli"
    digest, uploaded, _, mounted, _ = first[repository]
    assert uploaded > 0 and mounted > 0  # the base's layers were mounted from the base's repository
    lamina("package", ":".join(CLI), cwd=root, cache=cache)
    assert top_descriptor(image_outputs(root, *CLI)[0])["digest"] == digest

    again = _published(lamina("publish", ":".join(CLI), cwd=root, cache=cache))
    assert again[repository][:3] == (digest, 0, 0)  # idempotent: nothing uploaded
    (described,) = map(
        json.loads, lamina("publish", "--json", ":".join(CLI), cwd=root, cache=cache).stdout.splitlines()
    )
    assert (described["repository"], described["digest"]) == (repository, digest)
    assert (described["blobs_uploaded"], described["bytes_uploaded"]) == (0, 0)
    assert described["outputs"] == [f"{repository}:latest"]

    index = json.loads(_skopeo("inspect", "--tls-verify=false", "--raw", f"docker://{repository}:latest").stdout)
    assert {m["platform"]["architecture"] for m in index["manifests"]} == {"amd64", "arm64"}
    local = f"lamina-tests/pulled:{uuid.uuid4().hex}"
    _skopeo("copy", "--quiet", "--src-tls-verify=false", f"docker://{repository}:latest", f"docker-daemon:{local}")
    try:
        shouted = run_container(local, ["hello", "Registry", "--shout"])
        assert (shouted.exit_code, shouted.stdout.strip()) == (0, "HELLO, REGISTRY!"), shouted.stderr
    finally:
        subprocess.run(["docker", "rmi", local], capture_output=True, check=False)


def test_bases_by_digest_and_by_pinned_tag(tmp_path, registry, load_image, run_container):
    root = _repo(tmp_path, registry)
    cache = tmp_path / "cache"
    base_digest = _published(lamina("publish", ":".join(BASE), cwd=root, cache=cache))[
        f"{registry.address}/ci/python3.11"
    ][0]
    built_base = manifest(image_outputs(root, *BASE)[0]) if image_outputs(root, *BASE)[0].exists() else None
    assert built_base is None  # publish writes nothing to dist

    by_digest = f"{registry.address}/ci/python3.11@{base_digest}"
    (root / "BUILD").write_text(f'__defaults__({{python_image: dict(base="{by_digest}")}})\n')
    fresh = tmp_path / "fresh-cache"
    lamina("package", ":".join(CLI), cwd=root, cache=fresh)
    image = load_image(image_outputs(root, *CLI)[1])
    assert run_container(image, ["hello", "Digest"]).stdout.strip() == "Hello, Digest!"
    pinned_layers = manifest(image_outputs(root, *CLI)[0])["layers"]

    by_tag = f"{registry.address}/ci/python3.11:latest"
    (root / "BUILD").write_text(f'__defaults__({{python_image: dict(base="{by_tag}")}})\n')
    unpinned = lamina("package", ":".join(CLI), cwd=root, cache=fresh)
    assert "is not pinned" in unpinned.stderr
    lamina("generate-lockfiles", "--resolve=registry-bases", cwd=root, cache=fresh)
    pins = json.loads((root / "3rdparty/oci/bases.lock.json").read_text())["bases"]
    assert pins == {by_tag: base_digest}

    # The tag moves (another image is pushed under it): builds stay on the pin and say so.
    _skopeo("copy", "--quiet", "--all", "--src-tls-verify=false", "--dest-tls-verify=false",
            f"docker://{registry.address}/ci/python3.11:latest", f"docker://{registry.address}/ci/other:latest")  # fmt: skip
    moved_to = _published(lamina("publish", ":".join(CLI), cwd=root, cache=fresh))  # any other image
    cli_digest = moved_to[f"{registry.address}/ci/lamina-examples/greet-cli"][0]
    _skopeo("copy", "--quiet", "--all", "--src-tls-verify=false", "--dest-tls-verify=false",
            f"docker://{registry.address}/ci/lamina-examples/greet-cli@{cli_digest}", f"docker://{by_tag}")  # fmt: skip
    moved = lamina("package", ":".join(CLI), cwd=root, cache=fresh)
    assert f"has moved to {cli_digest}; building on the pinned {base_digest}" in moved.stderr
    assert manifest(image_outputs(root, *CLI)[0])["layers"] == pinned_layers


def test_auth_behind_tls_with_docker_config_credentials(tmp_path, secure_registry):
    password = secure_registry.users["ci"]
    extra = f'[oci.registries."{secure_registry.address}"]\nca_bundle = "ca.pem"\n'
    root = _repo(tmp_path, secure_registry, extra)
    (root / "ca.pem").write_bytes(secure_registry.ca_bundle.read_bytes())
    cache = tmp_path / "cache"

    anonymous = lamina(
        "publish", ":".join(CLI), cwd=root, cache=cache, env={"DOCKER_CONFIG": str(tmp_path / "none")}, check=False
    )
    assert anonymous.returncode == 1 and "needs a login" in anonymous.stderr and "Traceback" not in anonymous.stderr

    wrong = docker_config(tmp_path / "wrong", secure_registry.address, "ci", "not-the-password")
    refused = lamina("publish", ":".join(CLI), cwd=root, cache=cache, env={"DOCKER_CONFIG": str(wrong)}, check=False)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "unauthorized" in refused.stderr and "not-the-password" not in refused.stdout + refused.stderr

    right = docker_config(tmp_path / "right", secure_registry.address, "ci", password)
    published = lamina("publish", ":".join(CLI), cwd=root, cache=cache, env={"DOCKER_CONFIG": str(right)})
    repository = f"{secure_registry.address}/ci/lamina-examples/greet-cli"
    assert repository in _published(published)
    # The same login through a credential helper program, as `credHelpers` names it.
    helper_dir = tmp_path / "bin"
    helper_dir.mkdir()
    helper = helper_dir / "docker-credential-lamina-test"
    helper.write_text(
        "#!/bin/sh\nread server\n"
        f'printf \'{{"ServerURL": "%s", "Username": "ci", "Secret": "{password}"}}\' "$server"\n'
    )
    helper.chmod(0o755)
    helpers = tmp_path / "helpers"
    helpers.mkdir()
    (helpers / "config.json").write_text(json.dumps({"credHelpers": {secure_registry.address: "lamina-test"}}))
    env = {"DOCKER_CONFIG": str(helpers), "PATH": f"{helper_dir}:{os.environ['PATH']}"}
    again = _published(lamina("publish", ":".join(CLI), cwd=root, cache=cache, env=env))
    assert again[repository][1] == 0  # authenticated, and nothing left to upload

    inspected = _skopeo("inspect", "--cert-dir", str(tmp_path / "no-certs"), "--tls-verify=false",
                        "--creds", f"ci:{password}", f"docker://{repository}:latest")  # fmt: skip
    assert '"Architecture"' in inspected.stdout
    lamina("package", ":".join(CLI), cwd=root, cache=cache, env={"DOCKER_CONFIG": str(right)})
    assert password not in published.stdout + published.stderr
    for path in (root / "dist").rglob("*"):
        if path.is_file():
            assert password.encode() not in path.read_bytes(), path


class _Tripwire:
    """A loopback TCP relay to the registry that kills the registry process once ``limit``
    bytes of requests have gone through: the registry stops in the middle of a push."""

    def __init__(self, registry, limit: int) -> None:
        self.registry, self.limit, self.sent = registry, limit, 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self.tripped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.registry.port), timeout=5)
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source, target, counts: bool) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
                if counts:
                    self.sent += len(data)
                    if self.sent > self.limit and not self.tripped.is_set():
                        self.tripped.set()
                        self.registry.stop()
        except OSError:
            pass
        finally:
            for end in (source, target):  # shutdown wakes the other direction's blocked recv
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                end.close()

    def close(self) -> None:
        self.listener.close()


def test_a_push_cut_by_a_registry_stop_completes_when_rerun(tmp_path, registry):
    tripwire = _Tripwire(registry, limit=5_000_000)
    try:
        root = _repo(tmp_path, registry, f'[oci.registries."{tripwire.address}"]\nplain_http = true\n')
        text = (root / "pants.toml").read_text().replace(f"{registry.address}/ci", f"{tripwire.address}/ci")
        (root / "pants.toml").write_text(text)
        cache = tmp_path / "cache"
        cut = lamina("publish", ":".join(BASE), cwd=root, cache=cache, check=False)
        assert tripwire.tripped.is_set()
        assert cut.returncode == 1 and "Traceback" not in cut.stderr, cut.stdout + cut.stderr
        registry.start()  # same storage
        rerun = _published(lamina("publish", ":".join(BASE), cwd=root, cache=cache))
    finally:
        tripwire.close()
    ((digest, *_),) = rerun.values()
    lamina("package", ":".join(BASE), cwd=root, cache=cache)
    assert digest == top_descriptor(image_outputs(root, *BASE)[0])["digest"]
    copied = tmp_path / "copied"
    _skopeo(
        "copy",
        "--quiet",
        "--all",
        "--src-tls-verify=false",
        f"docker://{registry.address}/ci/python3.11@{digest}",
        f"oci:{copied}:latest",
    )  # fmt: skip  -- skopeo checks every blob against its digest
    assert (copied / "index.json").exists()


def test_a_blob_that_does_not_match_its_digest_is_refused(tmp_path, registry):
    root = _repo(tmp_path, registry)
    digest = _published(lamina("publish", ":".join(BASE), cwd=root, cache=tmp_path / "cache"))[
        f"{registry.address}/ci/python3.11"
    ][0]
    lamina("package", ":".join(BASE), cwd=root, cache=tmp_path / "cache")
    config_digest = manifest(image_outputs(root, *BASE)[0])["config"]["digest"]
    stored = registry.blob_file(config_digest)
    damaged = bytearray(stored.read_bytes())
    damaged[10] ^= 1
    stored.write_bytes(bytes(damaged))

    (root / "BUILD").write_text(
        f'__defaults__({{python_image: dict(base="{registry.address}/ci/python3.11@{digest}")}})\n'
    )
    fresh = tmp_path / "fresh"
    result = lamina("package", ":".join(CLI), cwd=root, cache=fresh, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"blob {config_digest} does not match its digest; refused" in result.stderr
    blobs = fresh / "blobs" / "sha256"
    assert not (blobs / config_digest.split(":")[1]).exists()
    assert not [p for p in blobs.iterdir() if p.name.startswith(".incoming")]


def test_a_fresh_machine_takes_layers_from_the_remote_cache_and_uploads_only_the_app(tmp_path, registry, run_container):
    extra = f'\n[lamina]\nremote_cache = "{registry.address}/lamina-cache"\n'
    machine_a = _repo(tmp_path, registry, extra, name="machine-a")
    lamina("publish", ":".join(WEB), cwd=machine_a, cache=tmp_path / "cache-a")

    machine_b = _repo(tmp_path, registry, extra, name="machine-b")
    with open(machine_b / WEB[0] / "main.py", "a") as handle:
        handle.write("\n# an app-only edit\n")
    cache_b = tmp_path / "cache-b"
    result = lamina("-v", "publish", ":".join(WEB), cwd=machine_b, cache=cache_b)
    published = _published(result)
    # -v says where each reused layer came from: machine A's layers, in the remote cache
    assert "third-party layer pydantic-core" in result.stderr
    reused = [line for line in result.stderr.splitlines() if "layer" in line and " reused: " in line]
    assert reused and all(line.endswith("a cache hit in the remote cache") for line in reused)
    _, uploaded, uploaded_bytes, _, _ = published[f"{registry.address}/ci/lamina-examples/web"]
    assert uploaded == 3 and uploaded_bytes < 100_000  # the app layer and one config per architecture
    downloaded = sum(p.stat().st_size for p in (cache_b / "blobs").rglob("*") if p.is_file())
    assert downloaded < 1_000_000  # no base, wheel or third-party layer was downloaded


def test_bearer_tokens_from_a_token_service(tmp_path):
    tokens = TokenServer(tmp_path / "tokens", "ci", "t0ken-pass-7c1")
    server = RegistryServer(tmp_path / "token-registry", token_auth=tokens.registry_auth())
    server.start()
    try:
        root = _repo(tmp_path, server)
        wrong = docker_config(tmp_path / "wrong", server.address, "ci", "nope")
        refused = lamina(
            "publish", ":".join(CLI), cwd=root, cache=tmp_path / "cache", env={"DOCKER_CONFIG": str(wrong)}, check=False
        )
        assert refused.returncode == 1 and "refused the credentials" in refused.stderr, refused.stderr
        right = docker_config(tmp_path / "right", server.address, "ci", "t0ken-pass-7c1")
        published = _published(
            lamina("publish", ":".join(CLI), cwd=root, cache=tmp_path / "cache", env={"DOCKER_CONFIG": str(right)})
        )
        assert f"{server.address}/ci/lamina-examples/greet-cli" in published and tokens.requests >= 2
    finally:
        server.stop()
        tokens.close()

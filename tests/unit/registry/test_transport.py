"""The transport and the registry client against an in-process registry: the token flow
with the scope each operation needs, ``Retry-After``, resumed uploads, and refused
downgrades (TLS never falls back to plain HTTP, secrets never go out in the clear).

A name that is not loopback by address is needed to test the downgrade rules, so
``registry.test`` is resolved to 127.0.0.1 for these tests (the one thing faked: DNS).
"""

from __future__ import annotations

import hashlib
import io
import socket
import subprocess

import pytest
from fake_registry import FakeRegistry

from lamina.cache import BlobStore
from lamina.errors import RegistryError, TlsError, TransportError
from lamina.python.index import PackageIndex
from lamina.redact import Credentials
from lamina.registry.client import RegistryClient
from lamina.transport import HostOptions, Transport, is_loopback

NAME = "registry.test"


@pytest.fixture
def registry():
    servers = []

    def start(**options) -> FakeRegistry:
        servers.append(FakeRegistry(**options).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def named(monkeypatch):
    """``registry.test`` resolves to 127.0.0.1 (and nothing else changes)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        return real("127.0.0.1" if host == NAME else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for ``registry.test`` (and its key)."""
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", str(key),
         "-out", str(cert), "-subj", f"/CN={NAME}", "-addext", f"subjectAltName=DNS:{NAME},IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


class Sleeps(list):
    """A transport's ``sleep``: records the pauses instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _transport(**options) -> tuple[Transport, Sleeps]:
    sleeps = Sleeps()
    return Transport(sleep=sleeps, **options), sleeps


def test_loopback_by_address():
    assert all(map(is_loopback, ["127.0.0.1:5000", "127.9.9.9", "[::1]:443", "::1", "localhost:5000", "LOCALHOST"]))
    assert not any(map(is_loopback, ["registry.test:5000", "10.0.0.1", "[::2]:5000", "localhost.example.com", ""]))


def test_bearer_tokens_are_asked_for_the_scope_each_operation_needs(registry, tmp_path):
    fake = registry(auth="bearer", users={"ci": "pw"})
    transport, _ = _transport()
    client = RegistryClient(fake.address, transport, credentials=lambda: Credentials("ci", "pw"))
    data = b"layer bytes"
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    client.upload_blob("team/app", digest, len(data), lambda: io.BytesIO(data))
    assert client.has_blob("team/app", digest)
    assert client.fetch_blob("team/app", digest, BlobStore(tmp_path)).read_bytes() == data
    assert fake.token_scopes == [
        ["repository:team/app:pull,push"],  # the upload
        ["repository:team/app:pull"],  # HEAD and GET of a blob: pull only
    ]
    sent = [(s.method, "Authorization" in s.headers) for s in fake.seen if s.path.startswith("/v2/team")]
    assert sent == [  # each scope is challenged once, then its token is reused
        ("POST", False),
        ("POST", True),
        ("PATCH", True),
        ("PUT", True),
        ("HEAD", False),
        ("HEAD", True),
        ("GET", True),
    ]


def test_pull_only_credentials_can_read(registry, tmp_path):
    fake = registry(auth="bearer", users={"reader": "pw"}, pull_only={"reader"})
    data = b"cached layer"
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    fake.blobs[digest] = data
    transport, _ = _transport()
    client = RegistryClient(fake.address, transport, credentials=lambda: Credentials("reader", "pw"))
    assert client.has_blob("cache/repo", digest)
    assert client.fetch_blob("cache/repo", digest, BlobStore(tmp_path)).read_bytes() == data
    with pytest.raises(RegistryError, match="401"):
        client.upload_blob("cache/repo", digest, len(data), lambda: io.BytesIO(data))


def test_retry_after_is_honoured(registry, tmp_path):
    fake = registry(busy=2, busy_seconds=3)
    transport, sleeps = _transport()
    client = RegistryClient(fake.address, transport)
    assert client.has_blob("team/app", "sha256:" + "0" * 64) is False
    assert sleeps == [3, 3]
    assert [s.method for s in fake.seen].count("HEAD") == 3


def test_backoff_without_retry_after_and_a_clear_error_when_it_never_ends(registry):
    fake = registry(busy=100, busy_seconds=0)
    fake.busy_seconds = "soon"  # not a number: exponential backoff instead
    transport, sleeps = _transport(attempts=4, backoff=0.5)
    client = RegistryClient(fake.address, transport)
    with pytest.raises(RegistryError, match="HTTP 503"):
        client.has_blob("team/app", "sha256:" + "0" * 64)
    assert sleeps == [0.5, 1.0, 2.0]


def test_an_upload_cut_off_resumes_from_the_offset_the_registry_reports(registry):
    fake = registry(fail_patches={3})
    transport, sleeps = _transport()
    client = RegistryClient(fake.address, transport, chunk_size=1000)
    data = bytes(range(256)) * 20  # 5,120 bytes: six chunks
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    client.upload_blob("team/app", digest, len(data), lambda: io.BytesIO(data))
    assert fake.blobs[digest] == data
    patches = [s for s in fake.seen if s.method == "PATCH"]
    ranges = [p.headers["Content-Range"] for p in patches]
    assert ranges == ["0-999", "1000-1999", "2000-2999", "2000-2999", "3000-3999", "4000-4999", "5000-5119"]
    assert [s.method for s in fake.seen].count("GET") == 1 and len(sleeps) == 1  # asked where it stood, once


def test_a_non_loopback_registry_is_never_spoken_to_in_plain_http(registry, named):
    fake = registry()  # speaks plain HTTP only
    transport, _ = _transport()
    client = RegistryClient(f"{NAME}:{fake.port}", transport, credentials=lambda: Credentials("ci", "secret"))
    with pytest.raises(TlsError) as caught:
        client.has_blob("team/app", "sha256:" + "0" * 64)
    message = str(caught.value)
    assert f'[oci.registries."{NAME}:{fake.port}"] ca_bundle' in message and "plain HTTP" in message
    assert fake.seen == []  # no HTTP request ever reached it


def test_tls_failures_name_the_registry_and_the_fix(registry, named, certificate, tmp_path):
    fake = registry(tls=certificate)
    digest = "sha256:" + "0" * 64
    unknown_ca, _ = _transport()
    with pytest.raises(TlsError, match=r"registry.test:\d+: TLS verification failed \(self.signed certificate"):
        RegistryClient(f"{NAME}:{fake.port}", unknown_ca).has_blob("a/b", digest)
    loopback = f"127.0.0.1:{fake.port}"
    other_ca, _ = _transport(hosts={loopback: HostOptions(ca_bundle=_other_ca(tmp_path))})
    with pytest.raises(TlsError, match="ca_bundle"):  # a configured CA means TLS only, even on loopback
        RegistryClient(loopback, other_ca).has_blob("a/b", digest)
    trusted, _ = _transport(hosts={loopback: HostOptions(ca_bundle=certificate[0])})
    assert RegistryClient(loopback, trusted).has_blob("a/b", digest) is False
    assert [s.method for s in fake.seen] == ["HEAD"]


def _other_ca(directory):
    cert = directory / "other-cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout",
         str(directory / "other-key.pem"), "-out", str(cert), "-subj", "/CN=other"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert


def test_a_loopback_registry_without_tls_is_spoken_to_in_plain_http(registry):
    fake = registry()
    transport, _ = _transport()
    client = RegistryClient(fake.address, transport)
    assert client.base == f"http://{fake.address}"
    assert client.has_blob("team/app", "sha256:" + "0" * 64) is False


def test_credentials_never_go_to_a_non_loopback_host_in_plain_http(registry, named):
    fake = registry(auth="basic", users={"ci": "secret"})
    host = f"{NAME}:{fake.port}"
    transport, _ = _transport(hosts={host: HostOptions(plain_http=True)})
    client = RegistryClient(host, transport, credentials=lambda: Credentials("ci", "secret"))
    assert client.base == f"http://{host}"
    with pytest.raises(TransportError, match="refusing to send credentials to registry.test.* over plain HTTP"):
        client.has_blob("team/app", "sha256:" + "0" * 64)
    assert [s.headers.get("Authorization") for s in fake.seen] == [None]  # the challenge only


def test_a_redirect_from_https_to_plain_http_is_refused(registry, named, certificate, tmp_path):
    plain = registry()
    secure = registry(tls=certificate, redirect_blobs_to=f"http://{NAME}:{plain.port}")
    transport, _ = _transport(hosts={f"{NAME}:{secure.port}": HostOptions(ca_bundle=certificate[0])})
    client = RegistryClient(f"{NAME}:{secure.port}", transport)
    with pytest.raises(TransportError, match="redirected .* to plain HTTP .*refused"):
        client.fetch_blob("team/app", "sha256:" + "1" * 64, BlobStore(tmp_path))
    assert plain.seen == []


def test_index_credentials_travel_only_as_a_header_over_the_same_transport(registry, named):
    fake = registry(auth="basic", users={"ci": "index-pass"}, busy=1, busy_seconds=1)
    transport, sleeps = _transport(credentials={f"127.0.0.1:{fake.port}": Credentials("ci", "index-pass")})
    index = PackageIndex([f"http://127.0.0.1:{fake.port}/simple"], transport)
    assert index.files("demo") == []  # the fake has no such page: a 404 is "no files"
    assert sleeps == [1]
    assert [s.headers.get("Authorization", "").startswith("Basic ") for s in fake.seen] == [True, True]
    remote, _ = _transport(credentials={f"{NAME}:{fake.port}": Credentials("ci", "index-pass")})
    with pytest.raises(Exception, match="refusing to send credentials"):
        PackageIndex([f"http://{NAME}:{fake.port}/simple"], remote).files("demo")
    assert len(fake.seen) == 2

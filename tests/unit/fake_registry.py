"""An in-process OCI distribution registry on a loopback port, for unit tests of the transport
and the registry client: real sockets, real HTTP (and TLS), with faults a real registry
cannot be told to produce (a 503 with ``Retry-After``, a chunk refused mid-upload, a
redirect to plain HTTP). Every request is logged for the test to inspect.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import ssl
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


@dataclass
class Seen:
    """One request the registry answered."""

    method: str
    path: str
    headers: dict[str, str]


@dataclass
class FakeRegistry:
    """State and faults; ``start()`` serves it, ``url`` is where."""

    auth: str | None = None  # None, "basic" or "bearer"
    users: dict[str, str] = field(default_factory=dict)
    pull_only: set[str] = field(default_factory=set)  # users whose tokens may only pull
    busy: int = 0  # answer this many requests 503 with Retry-After: busy_seconds
    busy_seconds: int = 2
    fail_patches: set[int] = field(default_factory=set)  # 1-based PATCH numbers to refuse (nothing stored)
    redirect_blobs_to: str | None = None  # answer blob GETs with a redirect to this base URL
    lose_blobs: int = 0  # refuse this many manifest PUTs as MANIFEST_BLOB_UNKNOWN, forgetting a blob each
    tls: tuple[Path, Path] | None = None  # (certificate, key)
    blobs: dict[str, bytes] = field(default_factory=dict)
    manifests: dict[tuple[str, str], tuple[bytes, str]] = field(default_factory=dict)
    uploads: dict[str, bytearray] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    token_scopes: list[list[str]] = field(default_factory=list)
    patches: int = 0
    host: str = "127.0.0.1"
    server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        return self.server.server_address[1]  # type: ignore[union-attr]

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> FakeRegistry:
        registry = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def handle(self) -> None:
                # A plain-HTTP server that is sent a TLS handshake hangs up at once, as real ones do.
                if not registry.tls and self.connection.recv(1, socket.MSG_PEEK) == b"\x16":
                    return
                super().handle()

            def do_GET(self) -> None:
                registry._handle(self, "GET")

            def do_HEAD(self) -> None:
                registry._handle(self, "HEAD")

            def do_POST(self) -> None:
                registry._handle(self, "POST")

            def do_PATCH(self) -> None:
                registry._handle(self, "PATCH")

            def do_PUT(self) -> None:
                registry._handle(self, "PUT")

            def do_DELETE(self) -> None:
                registry._handle(self, "DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    # -- protocol -------------------------------------------------------------------------

    def _reply(self, handler, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        handler.send_response(status)
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)

    def _authorized(self, handler, method: str, repository: str | None) -> bool:
        header = handler.headers.get("Authorization", "")
        if self.auth is None:
            return True
        if self.auth == "basic":
            expected = {"Basic " + base64.b64encode(f"{u}:{p}".encode()).decode() for u, p in self.users.items()}
            if header in expected:
                return True
            self._reply(handler, 401, headers={"WWW-Authenticate": 'Basic realm="fake"'})
            return False
        need = "pull" if method in ("GET", "HEAD") else "push"
        if header.startswith("Bearer ") and repository is not None:
            grant = json.loads(base64.b64decode(header[7:]))
            if any(s.startswith(f"repository:{repository}:") and need in s.split(":")[-1] for s in grant):
                return True
        if header.startswith("Bearer ") and repository is None:
            return True
        scheme = "https" if self.tls else "http"
        realm = f"{scheme}://{self.address}/token"
        self._reply(handler, 401, headers={"WWW-Authenticate": f'Bearer realm="{realm}",service="fake"'})
        return False

    def _token(self, handler, query: dict) -> None:
        header = handler.headers.get("Authorization", "")
        user = None
        for name, password in self.users.items():
            if header == "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode():
                user = name
        if header and user is None:
            self._reply(handler, 401)
            return
        scopes = query.get("scope", [])
        self.token_scopes.append(scopes)
        if user in self.pull_only:
            scopes = [s.rsplit(":", 1)[0] + ":pull" for s in scopes]
        token = base64.b64encode(json.dumps(scopes).encode()).decode()
        self._reply(handler, 200, json.dumps({"token": token}).encode(), {"Content-Type": "application/json"})

    def _handle(self, handler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        self.seen.append(Seen(method, parts.path, dict(handler.headers)))
        query = parse_qs(parts.query)
        if parts.path == "/token":
            self._token(handler, query)
            return
        if self.busy > 0:
            self.busy -= 1
            self._reply(handler, 503, headers={"Retry-After": str(self.busy_seconds)})
            return
        if parts.path == "/v2/":
            if self._authorized(handler, method, None):
                self._reply(handler, 200, b"{}")
            return
        repository, kind, rest = self._split(parts.path)
        if not self._authorized(handler, method, repository):
            return
        if kind == "blobs" and rest.startswith("uploads"):
            self._upload(handler, method, repository, rest, query, body)
        elif kind == "blobs":
            self._blob(handler, method, rest)
        elif kind == "manifests":
            self._manifest(handler, method, repository, rest, body)
        else:
            self._reply(handler, 404)

    @staticmethod
    def _split(path: str) -> tuple[str, str, str]:
        for kind in ("/blobs/", "/manifests/"):
            if kind in path:
                head, rest = path.split(kind, 1)
                return head.removeprefix("/v2/"), kind.strip("/"), rest
        return "", "", ""

    def _blob(self, handler, method: str, digest: str) -> None:
        if method == "GET" and self.redirect_blobs_to:
            self._reply(handler, 307, headers={"Location": f"{self.redirect_blobs_to}/blob/{digest}"})
        elif digest in self.blobs:
            data = self.blobs[digest]
            if method == "HEAD":
                handler.send_response(200)
                handler.send_header("Content-Length", str(len(data)))
                handler.send_header("Docker-Content-Digest", digest)
                handler.end_headers()
            else:
                self._reply(handler, 200, data, {"Docker-Content-Digest": digest})
        else:
            self._reply(handler, 404)

    def _upload(self, handler, method: str, repository: str, rest: str, query: dict, body: bytes) -> None:
        session = rest.removeprefix("uploads").strip("/")
        location = f"/v2/{repository}/blobs/uploads/{session}"
        if method == "POST":
            session = uuid.uuid4().hex
            self.uploads[session] = bytearray()
            self._reply(handler, 202, headers={"Location": f"/v2/{repository}/blobs/uploads/{session}"})
        elif session not in self.uploads:
            self._reply(handler, 404)
        elif method == "PATCH":
            self.patches += 1
            if self.patches in self.fail_patches:
                self._reply(handler, 500)
                return
            start = int(handler.headers.get("Content-Range", "0-0").split("-")[0])
            if start != len(self.uploads[session]):
                self._reply(handler, 416)
                return
            self.uploads[session] += body
            received = len(self.uploads[session])
            self._reply(handler, 202, headers={"Location": location, "Range": f"0-{received - 1}"})
        elif method == "GET":
            received = len(self.uploads[session])
            self._reply(handler, 204, headers={"Location": location, "Range": f"0-{received - 1}"})
        elif method == "PUT":
            data = bytes(self.uploads.pop(session)) + body
            digest = query["digest"][0]
            if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
                self._reply(handler, 400, json.dumps({"errors": [{"message": "digest invalid"}]}).encode())
                return
            self.blobs[digest] = data
            self._reply(handler, 201, headers={"Docker-Content-Digest": digest})
        else:
            self.uploads.pop(session, None)
            self._reply(handler, 204)

    def _manifest(self, handler, method: str, repository: str, reference: str, body: bytes) -> None:
        if method == "PUT" and self.lose_blobs > 0:
            # As a distribution registry can while another push of the same blob lands: briefly unknown.
            self.lose_blobs -= 1
            lost = json.loads(body)["layers"][0]["digest"]
            self.blobs.pop(lost, None)
            error = {"errors": [{"code": "MANIFEST_BLOB_UNKNOWN", "message": "blob unknown to registry"}]}
            self._reply(handler, 400, json.dumps(error).encode(), {"Content-Type": "application/json"})
            return
        if method == "PUT":
            digest = "sha256:" + hashlib.sha256(body).hexdigest()
            media_type = handler.headers.get("Content-Type", "")
            self.manifests[(repository, reference)] = (body, media_type)
            self.manifests[(repository, digest)] = (body, media_type)
            self._reply(handler, 201, headers={"Docker-Content-Digest": digest})
            return
        found = self.manifests.get((repository, reference))
        if found is None:
            self._reply(handler, 404)
            return
        digest = "sha256:" + hashlib.sha256(found[0]).hexdigest()
        self._reply(handler, 200, found[0], {"Content-Type": found[1], "Docker-Content-Digest": digest})

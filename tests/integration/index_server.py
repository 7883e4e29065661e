"""A PyPI-shaped package index on a loopback port: PEP 691 JSON project pages and the files
themselves, served from a directory of real wheels and sdists (downloaded from PyPI once).

It can require a login (HTTP Basic), serve one file slowly (to be killed mid-download),
publish other bytes under a real file's name, and lie: list files under names that are
paths, or serve other bytes than those its page vouches for.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename


def project_of(filename: str) -> str:
    """The canonical project name of a wheel or sdist file name."""
    parsed = parse_wheel_filename(filename) if filename.endswith(".whl") else parse_sdist_filename(filename)
    return canonicalize_name(parsed[0])


@dataclass
class IndexServer:
    """Serves ``files`` (a directory) as a simple index under ``/simple/``."""

    files: Path
    login: tuple[str, str] | None = None
    slow: str | None = None  # a file name served at ``slow_rate`` bytes per second
    slow_rate: int = 64 << 10
    extra_entries: dict[str, list[dict]] = field(default_factory=dict)  # project -> more file entries, as given
    published: dict[str, bytes] = field(default_factory=dict)  # file name -> other bytes, listed and served
    served_instead: dict[str, bytes] = field(default_factory=dict)  # file name -> bytes served, not those listed
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Authorization)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/simple"  # type: ignore[union-attr]

    def url_with_login(self) -> str:
        user, password = self.login  # type: ignore[misc]
        return self.url.replace("http://", f"http://{user}:{password}@")

    def listed(self, filename: str) -> bytes:
        """The bytes the index's page vouches for."""
        return self.published.get(filename) or (self.files / filename).read_bytes()

    def served(self, filename: str) -> bytes:
        """The bytes the index sends."""
        return self.served_instead.get(filename) or self.listed(filename)

    def page(self, project: str) -> dict | None:
        entries = [
            {"filename": f.name, "url": f"../../files/{f.name}", "hashes": {"sha256": hashlib.sha256(self.listed(f.name)).hexdigest()}}
            for f in sorted(self.files.iterdir())
            if project_of(f.name) == project
        ]  # fmt: skip
        entries += self.extra_entries.get(project, [])
        if not entries:
            return None
        return {"meta": {"api-version": "1.0"}, "name": project, "files": entries}

    def start(self) -> IndexServer:
        index = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                auth = self.headers.get("Authorization")
                index.requests.append((self.path, auth))
                if index.login and auth != "Basic " + base64.b64encode(":".join(index.login).encode()).decode():
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="index"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                parts = self.path.split("?")[0].strip("/").split("/")
                if len(parts) == 2 and parts[0] == "simple" and (page := index.page(canonicalize_name(parts[1]))):
                    self._send(json.dumps(page).encode(), "application/vnd.pypi.simple.v1+json")
                elif len(parts) == 2 and parts[0] == "files" and (index.files / parts[1]).is_file():
                    self._send(index.served(parts[1]), "application/octet-stream", slow=parts[1] == index.slow)
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

            def _send(self, data: bytes, content_type: str, *, slow: bool = False) -> None:
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                step = max(1, index.slow_rate // 10) if slow else len(data)
                for start in range(0, len(data), step):
                    try:
                        self.wfile.write(data[start : start + step])
                    except (BrokenPipeError, ConnectionResetError):
                        return
                    if slow:
                        time.sleep(0.1)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

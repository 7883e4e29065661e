"""A real CNCF distribution registry (Debian's docker-registry) on a loopback port, for one
test: plain HTTP, or TLS with a self-signed certificate and htpasswd users; it can be
stopped and restarted on the same storage, and its stored blobs can be reached to damage."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RegistryServer:
    """One registry process; ``address`` is ``127.0.0.1:PORT``."""

    root: Path
    port: int = field(default_factory=free_port)
    users: dict[str, str] = field(default_factory=dict)  # with users: TLS and htpasswd
    token_auth: dict | None = None  # instead: the registry's `auth: token` section (Bearer tokens)
    process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def ca_bundle(self) -> Path:
        return self.root / "cert.pem"

    def _configure(self) -> Path:
        storage = self.root / "data"
        storage.mkdir(parents=True, exist_ok=True)
        config = {
            "version": 0.1,
            "log": {"level": "warn"},
            "storage": {"filesystem": {"rootdirectory": str(storage)}, "delete": {"enabled": True}},
            "http": {"addr": self.address},
        }
        if self.users:
            if not self.ca_bundle.exists():
                subprocess.run(
                    ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                     "-keyout", str(self.root / "key.pem"), "-out", str(self.ca_bundle),
                     "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                    check=True, capture_output=True, timeout=60,
                )  # fmt: skip
            htpasswd = self.root / "htpasswd"
            htpasswd.write_text(
                "".join(
                    subprocess.run(
                        ["htpasswd", "-Bbn", user, password], check=True, capture_output=True, text=True
                    ).stdout.strip()
                    + "\n"
                    for user, password in self.users.items()
                )
            )
            config["http"]["tls"] = {"certificate": str(self.ca_bundle), "key": str(self.root / "key.pem")}
            config["auth"] = {"htpasswd": {"realm": "lamina-tests", "path": str(htpasswd)}}
        if self.token_auth:
            config["auth"] = {"token": self.token_auth}
        path = self.root / "config.yml"
        path.write_text(json.dumps(config))  # YAML is a superset of JSON
        return path

    def start(self) -> None:
        config = self._configure()
        log = open(self.root / "registry.log", "ab")  # noqa: SIM115 - the process owns it until stop()
        self.process = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=log, stderr=log)
        log.close()
        scheme = "https" if self.users else "http"
        for _ in range(200):
            try:
                requests.get(
                    f"{scheme}://{self.address}/v2/", timeout=1, verify=str(self.ca_bundle) if self.users else True
                )
                return
            except requests.RequestException:
                if self.process.poll() is not None:
                    raise RuntimeError((self.root / "registry.log").read_text()) from None
                time.sleep(0.05)
        raise RuntimeError(f"docker-registry did not answer on {self.address}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None

    def blob_file(self, digest: str) -> Path:
        """Where the filesystem driver keeps a blob's bytes."""
        hexdigest = digest.split(":")[1]
        return self.root / "data" / "docker/registry/v2/blobs/sha256" / hexdigest[:2] / hexdigest / "data"


def docker_config(directory: Path, registry: str, user: str, password: str) -> Path:
    """A Docker config directory (for ``DOCKER_CONFIG``) holding a login for ``registry``."""
    import base64

    directory.mkdir(parents=True, exist_ok=True)
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    (directory / "config.json").write_text(json.dumps({"auths": {registry: {"auth": auth}}}))
    os.chmod(directory / "config.json", 0o600)
    return directory

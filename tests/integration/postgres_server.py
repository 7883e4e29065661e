"""A real PostgreSQL server (Debian's ``postgresql``) on a loopback port, for the tests of
the guestbook example: a throwaway cluster made by ``initdb`` with one password-protected
role, started by pid and stopped by pid. ``initdb`` refuses to run as root, so under root
the cluster belongs to the ``postgres`` user the Debian package creates."""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from registry_server import free_port

USER = "lamina"


def _bin_dir() -> Path:
    """The newest installed server's programs (``/usr/lib/postgresql/<major>/bin``)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run build_support/ci_setup.sh (apt-get install postgresql)")
    return found[-1].parent


@dataclass
class PostgresServer:
    """One ``postgres`` process on 127.0.0.1:``port``; ``environment`` is what libpq clients need."""

    port: int = field(default_factory=free_port)
    password: str = field(default_factory=lambda: secrets.token_hex(12))
    root: Path | None = None
    process: subprocess.Popen | None = None

    @property
    def environment(self) -> dict[str, str]:
        return {
            "PGHOST": "127.0.0.1", "PGPORT": str(self.port), "PGUSER": USER,
            "PGPASSWORD": self.password, "PGDATABASE": "postgres",
        }  # fmt: skip

    def _run_as(self) -> dict:
        """Popen arguments that drop root to the ``postgres`` user (nothing when not root)."""
        return {"user": "postgres", "group": "postgres", "extra_groups": []} if os.geteuid() == 0 else {}

    def start(self) -> PostgresServer:
        binaries = _bin_dir()
        # Not under pytest's tmp_path: its directories are private to the user running the tests.
        self.root = Path(tempfile.mkdtemp(prefix="lamina-postgres-"))
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        password_file = self.root / "password"
        password_file.write_text(self.password + "\n")
        if os.geteuid() == 0:
            os.chown(password_file, owner.pw_uid, owner.pw_gid)
        subprocess.run(
            [str(binaries / "initdb"), "-D", str(self.root / "data"), "-U", USER, "--auth=scram-sha-256",
             f"--pwfile={password_file}", "--encoding=UTF8", "--no-sync"],
            check=True, capture_output=True, timeout=120, **self._run_as(),
        )  # fmt: skip
        with open(self.root / "server.log", "wb") as log:
            self.process = subprocess.Popen(
                [str(binaries / "postgres"), "-D", str(self.root / "data"), "-p", str(self.port),
                 "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.root}", "-c", "fsync=off"],
                stdout=subprocess.DEVNULL, stderr=log, **self._run_as(),
            )  # fmt: skip
        self._wait_until_listening(timeout=60)
        return self

    def _wait_until_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited: {(self.root / 'server.log').read_text()}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"postgres did not listen on 127.0.0.1:{self.port} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)

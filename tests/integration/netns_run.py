"""Run scenarios inside a network namespace of their own, where a registry listens on an
address that is not loopback (``192.0.2.10``, a documentation address no real host has).

Started by a test as ``unshare --net python netns_run.py SPEC.json``: it brings up ``lo``,
gives it the address, and for each scenario starts a real ``docker-registry`` with the
scenario's config, runs the scenario's command, stops the registry (by pid) and reports
the command's output and the registry's log as JSON on stdout.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ADDRESS = "192.0.2.10"


def _wait_for(port: int, process: subprocess.Popen) -> None:
    for _ in range(200):
        if process.poll() is not None:
            return
        try:
            with socket.create_connection((ADDRESS, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)


def main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", f"{ADDRESS}/32", "dev", "lo"], check=True)
    reports = []
    for scenario in spec["scenarios"]:
        config = Path(scenario["config"])
        log = config.with_suffix(".log")
        with open(log, "wb") as handle:
            registry = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=handle, stderr=handle)
        try:
            _wait_for(scenario["port"], registry)
            result = subprocess.run(
                scenario["command"], cwd=scenario["cwd"], capture_output=True, text=True, timeout=600,
                env={**os.environ, **scenario.get("env", {})},
            )  # fmt: skip
        finally:
            registry.send_signal(signal.SIGKILL)
            registry.wait(timeout=30)
        reports.append({
            "name": scenario["name"], "returncode": result.returncode, "stdout": result.stdout,
            "stderr": result.stderr, "registry_log": log.read_text(errors="replace"),
        })  # fmt: skip
    json.dump(reports, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])

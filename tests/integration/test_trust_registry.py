"""A real registry on an address that is not loopback (in a network namespace of the test's
own): every TLS failure is an error that names the registry and the fix, nothing is ever
retried over plain HTTP, and credentials never go out in the clear, even where plain
HTTP was allowed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from index_server import IndexServer
from oci_reading import lamina, lamina_command
from registry_server import docker_config
from small_repo import download_wheelhouse, lock_text, make_repo

pytestmark = pytest.mark.integration

HOST = "192.0.2.10:5000"
PASSWORD = "registry-secret-7d2e"
HERE = Path(__file__).parent


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> Path:
    """A CA, and certificates for the registry: signed by it (right, for another name, for the
    wrong purpose) and one self-signed."""
    d = tmp_path_factory.mktemp("pki")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", "ca.key", "-out", "ca.pem",
             "-subj", "/CN=lamina test CA", cwd=d)  # fmt: skip
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", "self.key", "-out", "self.pem",
             "-subj", "/CN=192.0.2.10", "-addext", "subjectAltName=IP:192.0.2.10", cwd=d)  # fmt: skip
    for name, extensions in {
        "good": "subjectAltName=IP:192.0.2.10\nextendedKeyUsage=serverAuth\n",
        "other-name": "subjectAltName=DNS:registry.other\nextendedKeyUsage=serverAuth\n",
        "client-only": "subjectAltName=IP:192.0.2.10\nextendedKeyUsage=clientAuth\n",
    }.items():
        (d / f"{name}.ext").write_text(extensions)
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/CN={name}", cwd=d)  # fmt: skip
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "1",
                 "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.pem", cwd=d)  # fmt: skip
    return d


def _registry_config(directory: Path, name: str, *, tls: str | None, htpasswd: Path) -> Path:
    config = {
        "version": 0.1,
        "log": {"level": "info"},
        "storage": {"filesystem": {"rootdirectory": str(directory / f"data-{name}")}},
        "http": {"addr": HOST, "secret": "lamina-tests"},
        "auth": {"htpasswd": {"realm": "lamina-tests", "path": str(htpasswd)}},
    }
    if tls:
        config["http"]["tls"] = {"certificate": str(directory / f"{tls}.pem"), "key": str(directory / f"{tls}.key")}
    path = directory / f"{name}.json"
    path.write_text(json.dumps(config))
    return path


SCENARIOS = {  # name: (the registry's certificate, or None for plain HTTP; pants.toml's registry options)
    "unknown-ca": ("self", ""),
    "other-name": ("other-name", 'ca_bundle = "ca.pem"'),
    "client-only": ("client-only", 'ca_bundle = "ca.pem"'),
    "plain-server": (None, ""),
    "plain-allowed": (None, "plain_http = true"),
    "trusted": ("good", 'ca_bundle = "ca.pem"'),
}


@pytest.fixture(scope="module")
def outcomes(certificates, python_base, tmp_path_factory) -> dict[str, dict]:
    """Each scenario published once, inside the namespace, from a cache warmed outside it."""
    work = tmp_path_factory.mktemp("netns")
    index = IndexServer(download_wheelhouse(work / "wheelhouse")).start()
    cache = work / "cache"
    htpasswd = work / "htpasswd"
    htpasswd.write_text(subprocess.run(["htpasswd", "-Bbn", "ci", PASSWORD], capture_output=True, text=True,
                                       check=True).stdout)  # fmt: skip
    config_dir = docker_config(work / "docker", HOST, "ci", PASSWORD)
    scenarios = []
    try:
        for name, (certificate, options) in SCENARIOS.items():
            repo = make_repo(
                work / name, index_url=index.url, base=python_base, lock=lock_text(index.files),
                extra_toml=f'default_repository = "{HOST}/team"\n[oci.registries."{HOST}"]\n{options}\n',
            )  # fmt: skip
            shutil.copyfile(certificates / "ca.pem", repo / "ca.pem")
            lamina("package", "::", cwd=repo, cache=cache)  # everything publish needs is now cached
            scenarios.append({
                "name": name, "port": 5000, "cwd": str(repo), "env": {"DOCKER_CONFIG": str(config_dir)},
                "config": str(_registry_config(certificates, name, tls=certificate, htpasswd=htpasswd)),
                "command": [*lamina_command(), "--cache-dir", str(cache), "-v", "publish", "::"],
            })  # fmt: skip
    finally:
        index.stop()
    spec = work / "spec.json"
    spec.write_text(json.dumps({"scenarios": scenarios}))
    result = subprocess.run(
        ["unshare", "--net", sys.executable, str(HERE / "netns_run.py"), str(spec)],
        capture_output=True, text=True, timeout=900, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return {report["name"]: report for report in json.loads(result.stdout)}


def _requests(log: str) -> list[str]:
    """The HTTP requests the registry's access log recorded."""
    return [line for line in log.splitlines() if '"GET ' in line or '"HEAD ' in line or '"POST ' in line]


@pytest.mark.parametrize(
    ("scenario", "reason"),
    [("unknown-ca", "self-signed certificate"), ("other-name", "IP address mismatch"),
     ("client-only", "unsuitable certificate purpose"), ("plain-server", "WRONG_VERSION_NUMBER|wrong version number")],
)  # fmt: skip
def test_a_tls_failure_is_an_error_never_a_retry_over_plain_http(outcomes, scenario, reason):
    report = outcomes[scenario]
    assert report["returncode"] == 1 and "Traceback" not in report["stderr"]
    assert f"error: {HOST}: TLS verification failed (" in report["stderr"]
    assert re.search(reason, report["stderr"], re.IGNORECASE), report["stderr"]
    assert f'[oci.registries."{HOST}"] ca_bundle' in report["stderr"] and "plain HTTP" in report["stderr"]
    assert _requests(report["registry_log"]) == []  # not one HTTP request reached the registry
    assert "client sent an HTTP request to an HTTPS server" not in report["registry_log"]


def test_credentials_never_go_in_the_clear_even_where_plain_http_is_allowed(outcomes):
    report = outcomes["plain-allowed"]
    assert report["returncode"] == 1
    assert f"refusing to send credentials to {HOST} over plain HTTP; serve it over HTTPS" in report["stderr"]
    requests = _requests(report["registry_log"])
    assert requests and all('" 401 ' in line for line in requests)  # challenged, never answered
    assert "authorized request" not in report["registry_log"]


def test_a_trusted_registry_is_published_to_and_no_secret_is_printed(outcomes):
    report = outcomes["trusted"]
    assert report["returncode"] == 0, report["stderr"]
    assert f"{HOST}/team/cli@sha256:" in report["stdout"]
    for each in outcomes.values():
        assert PASSWORD not in each["stdout"] + each["stderr"]

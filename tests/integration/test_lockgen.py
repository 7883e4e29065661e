"""``generate_lockfile`` runs the real pip-tools against the real PyPI: the lock it writes
pins with PyPI's sha256 hashes and loads back; a failed resolve leaves the previous lock
as it was; pip configuration of the developer's machine does not leak into the lock."""

from __future__ import annotations

import base64
import hashlib
import sys
import zipfile
from pathlib import Path

import pytest
import requests
from packaging.version import Version

from lamina.errors import ResolveError
from lamina.python.lockfile import load_lockfile
from lamina.python.lockgen import generate_lockfile

pytestmark = pytest.mark.integration

PYPI = "https://pypi.org/simple"
RESOLVE = "python-default"
RUNNING_PYTHON = "{}.{}".format(*sys.version_info[:2])


def pypi_sha256s(project: str, version: str) -> set[str]:
    """sha256 of every file of ``project==version``, from PyPI's JSON simple API (the referee)."""
    response = requests.get(f"{PYPI}/{project}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}, timeout=60)
    response.raise_for_status()
    return {
        entry["hashes"]["sha256"]
        for entry in response.json()["files"]
        if not entry.get("yanked") and _version_of(entry["filename"], project) == version
    }


def _version_of(filename: str, project: str) -> str | None:
    stem = filename.removesuffix(".tar.gz").removesuffix(".zip").removesuffix(".whl")
    prefix = project.replace("-", "_") + "-"
    return stem[len(prefix) :].split("-")[0] if stem.lower().startswith(prefix.lower()) else None


def fake_wheel(directory: Path, name: str, version: str) -> Path:
    """A valid pure-Python wheel ``name==version`` that no index has."""
    dist_info = f"{name}-{version}.dist-info"
    files = {
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{path},sha256={_record_hash(data)},{len(data)}\n" for path, data in files.items())
    record += f"{dist_info}/RECORD,,\n"
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in {**files, f"{dist_info}/RECORD": record.encode()}.items():
            archive.writestr(path, data)
    return wheel


def _record_hash(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def test_lock_pins_attrs_with_pypis_hashes_and_loads(tmp_path):
    output = tmp_path / "3rdparty" / "default.lock"

    generate_lockfile(["attrs==23.2.0"], output, resolve_name=RESOLVE, python_version=RUNNING_PYTHON, index_urls=[PYPI])

    text = output.read_text()
    lock = load_lockfile(output, resolve_name=RESOLVE)
    attrs = lock.get("attrs")
    assert lock.format == "pip-tools"
    assert list(lock.dists) == ["attrs"]
    assert attrs is not None and attrs.version == Version("23.2.0")
    assert {artifact.sha256 for artifact in attrs.artifacts} == pypi_sha256s("attrs", "23.2.0")
    assert f"lamina generate-lockfiles --resolve={RESOLVE}" in text
    assert str(tmp_path) not in text and "--index-url" not in text
    assert output.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in output.parent.iterdir()) == ["default.lock"]


def test_failed_resolve_leaves_the_previous_lock_untouched(tmp_path):
    output = tmp_path / "default.lock"
    output.write_text("previous lock\n")
    missing = "lamina-test-no-such-distribution==1.0"

    with pytest.raises(ResolveError) as raised:
        generate_lockfile([missing], output, resolve_name=RESOLVE, python_version=None, index_urls=[PYPI])

    message = str(raised.value)
    assert f"resolve {RESOLVE!r}" in message and "is unchanged" in message
    assert f"No matching distribution found for {missing}" in message.split("is unchanged:", 1)[1]
    assert "Traceback" not in message
    assert output.read_text() == "previous lock\n"
    assert [p.name for p in tmp_path.iterdir()] == ["default.lock"]


def test_pip_configuration_of_the_machine_does_not_leak(tmp_path, monkeypatch):
    links = tmp_path / "wheels"
    links.mkdir()
    leaked = fake_wheel(links, "attrs", "99.0.0")
    config = tmp_path / "pip.conf"
    config.write_text(f"[global]\nfind-links = {links}\n")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
    output = tmp_path / "default.lock"

    generate_lockfile(["attrs<100"], output, resolve_name=RESOLVE, python_version=None, index_urls=[PYPI])

    attrs = load_lockfile(output).get("attrs")
    assert attrs is not None and attrs.version < Version("99")
    assert hashlib.sha256(leaked.read_bytes()).hexdigest() not in {a.sha256 for a in attrs.artifacts}


def test_a_resolve_for_another_python_is_refused_before_anything_runs(tmp_path):
    output = tmp_path / "default.lock"
    other = f"3.{sys.version_info.minor + 1}"

    expected = rf"resolve 'python-default' is for Python {other}, but lamina runs on Python {RUNNING_PYTHON}"
    with pytest.raises(ResolveError, match=expected):
        generate_lockfile(["attrs"], output, resolve_name=RESOLVE, python_version=other, index_urls=[PYPI])
    assert not output.exists()

"""Debian locks round-trip and say how to remake themselves when unreadable."""

from __future__ import annotations

import json

import pytest

from lamina.debian.lock import DebianLock, LockedDeb, read_lock
from lamina.errors import ResolveError

DEB = LockedDeb("libc6", "2.36-9", "amd64", "https://deb.debian.org/debian/pool/main/g/glibc/libc6.deb", 10, "a" * 64)


def test_round_trip_and_atomic_write(tmp_path):
    path = tmp_path / "base.lock.json"
    lock = DebianLock({"packages": ["libc6"]}, {"amd64": (DEB,), "arm64": ()})
    lock.write(path)
    assert read_lock(path, display="base.lock.json", regenerate="x") == lock
    assert [p.name for p in tmp_path.iterdir()] == ["base.lock.json"]
    assert json.loads(path.read_text())["architectures"]["amd64"][0]["sha256"] == "a" * 64


@pytest.mark.parametrize("content", ["{", '{"version": 99}', '{"version": 1, "request": {}}'])
def test_unreadable_locks_say_how_to_remake_them(tmp_path, content):
    path = tmp_path / "base.lock.json"
    path.write_text(content)
    with pytest.raises(ResolveError, match="base.lock.json is not a lamina Debian lock .* run `lamina generate"):
        read_lock(path, display="base.lock.json", regenerate="lamina generate-lockfiles --resolve=//:base")


def test_a_missing_lock_names_the_command(tmp_path):
    with pytest.raises(ResolveError, match="does not exist; run `lamina generate-lockfiles --resolve=//:base`"):
        read_lock(tmp_path / "nope.json", display="nope.json", regenerate="lamina generate-lockfiles --resolve=//:base")

"""Artifact selection ranks wheels by the target's tags and falls back to the sdist."""

from __future__ import annotations

import pytest
from packaging.version import Version

from lamina.errors import ResolveError
from lamina.python.index import IndexFile
from lamina.python.lockfile import LockedArtifact, LockedDist
from lamina.python.platform import TargetPlatform
from lamina.python.select import select_artifact

X86 = TargetPlatform("3.11.2", "/usr/bin/python3.11", "x86_64", "glibc", (2, 36), "/usr/lib/python3.11")
ARM = TargetPlatform("3.11.2", "/usr/bin/python3.11", "aarch64", "glibc", (2, 36), "/usr/lib/python3.11")
FILES = [
    IndexFile("pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "u1", "a" * 64),
    IndexFile("pkg-1.0-cp311-cp311-manylinux_2_17_aarch64.whl", "u2", "b" * 64),
    IndexFile("pkg-1.0-py3-none-any.whl", "u3", "c" * 64),
    IndexFile("pkg-1.0.tar.gz", "u4", "d" * 64),
    IndexFile("pkg-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", "u5", "e" * 64),
]


def _dist(*hashes):
    return LockedDist("pkg", Version("1.0"), tuple(LockedArtifact(h) for h in hashes))


def test_most_specific_compatible_wheel_wins():
    every = _dist(*(f.sha256 for f in FILES))
    assert select_artifact(every, FILES, X86).url == "u1"
    assert select_artifact(every, FILES, ARM).url == "u2"


def test_only_locked_hashes_are_candidates():
    assert select_artifact(_dist("c" * 64, "d" * 64), FILES, X86).url == "u3"
    assert select_artifact(_dist("d" * 64), FILES, X86).url == "u4"


def test_no_compatible_artifact_names_what_was_tried():
    with pytest.raises(ResolveError, match=r"pkg==1.0.*cp311-cp311-manylinux_2_36_x86_64.*pkg-1.0-cp312"):
        select_artifact(_dist("e" * 64), FILES, X86)

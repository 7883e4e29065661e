"""lamina's model of a target platform agrees with pex's own "complete platform" of the same
interpreter (``pex3 interpreter inspect --markers --tags``), both ways."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lamina.errors import ImageError
from lamina.python.interpreters import host_platform
from lamina.python.platform import complete_platform, from_complete_platform


@pytest.fixture(scope="module")
def pex_says() -> dict:
    inspect = [sys.executable, "-m", "pex.cli", "interpreter", "inspect", "--markers", "--tags"]
    return json.loads(subprocess.run(inspect, capture_output=True, text=True, check=True, timeout=120).stdout)


def test_lamina_and_pex_agree_on_this_interpreter(pex_says):
    ours = complete_platform(host_platform())
    assert ours["compatible_tags"][0] == pex_says["compatible_tags"][0]  # the most specific tag
    assert set(ours["compatible_tags"]) <= set(pex_says["compatible_tags"])
    theirs = pex_says["marker_environment"]
    for marker in ("python_full_version", "python_version", "platform_machine", "sys_platform", "implementation_name"):
        assert ours["marker_environment"][marker] == theirs[marker], marker


def test_a_complete_platform_file_is_read_back(pex_says):
    platform = from_complete_platform(pex_says, "platform.json")
    host = host_platform()
    assert (platform.python_version, platform.machine, platform.libc) == (host.python_version, host.machine, "glibc")
    assert platform.libc_version == host.libc_version  # the newest manylinux tag it accepts


def test_what_is_not_a_complete_platform_says_so():
    with pytest.raises(ImageError, match="x.json: not a pex complete platform"):
        from_complete_platform({"compatible_tags": []}, "x.json")

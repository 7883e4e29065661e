"""Fixtures unit and integration tests share."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ENSURE_PYTHON = Path(__file__).resolve().parents[1] / "build_support" / "ensure_python.sh"


@pytest.fixture(scope="session")
def python312() -> Path:
    """A CPython 3.12 of this machine besides the one running the tests (pantsbuild/example-python
    asks for ==3.12.*), found where Pants looks; CI's setup makes sure there is one."""
    found = subprocess.run([ENSURE_PYTHON, "3.12"], capture_output=True, text=True, timeout=600, check=False)
    assert found.returncode == 0, f"no CPython 3.12 on this machine: {found.stderr}"
    return Path(found.stdout.strip())

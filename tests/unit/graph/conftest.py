"""Build small repositories on disk for graph tests."""

from __future__ import annotations

import textwrap

import pytest

from lamina.project import load_project


@pytest.fixture
def repo(tmp_path):
    """``repo({"path": "text", ...})`` writes files (dedented) and returns a loader of the project."""

    def make(files: dict[str, str]):
        files = {"pants.toml": '[source]\nroot_patterns = ["src"]\n', **files}
        for name, text in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        return lambda: load_project(tmp_path, tmp_path / ".cache")

    return make


def addresses(targets) -> list[str]:
    """Addresses as strings."""
    return [str(t.address) for t in targets]

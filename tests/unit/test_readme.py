"""Every configuration and BUILD snippet in the README is valid: TOML parses and lamina loads it,
and BUILD snippets evaluate with lamina's vocabulary."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lamina.backends import default_registry
from lamina.config import load_config
from lamina.graph.build_file import evaluate

README = Path(__file__).resolve().parents[2] / "README.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README.read_text(), flags=re.MULTILINE | re.DOTALL)


def test_the_readme_has_snippets_to_check():
    assert len(_blocks("toml")) >= 2 and len(_blocks("python")) >= 1


@pytest.mark.parametrize("snippet", _blocks("toml"))
def test_toml_snippets_are_valid_configuration(snippet, tmp_path, monkeypatch):
    monkeypatch.setenv("PYPI_TOKEN", "example")  # what the snippets interpolate
    (tmp_path / "pants.toml").write_text(snippet)
    load_config(tmp_path)


@pytest.mark.parametrize("snippet", _blocks("python"))
def test_build_snippets_evaluate(snippet):
    assert evaluate(snippet, "README.md", default_registry().target_types).declarations

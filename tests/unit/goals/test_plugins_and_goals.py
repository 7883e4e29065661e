"""Goals through the real CLI entry point, and a plugin loaded from backend_packages + pythonpath."""

from __future__ import annotations

import json
import textwrap

from lamina.cli import main

PLUGIN = '''
"""A plugin registering a target type and its packager through lamina's backend API."""
from dataclasses import dataclass
from lamina.graph.target import Field, TargetType


@dataclass
class Written:
    address: str
    text: str
    summary: str = "text file"

    def write(self, dist_dir):
        dist_dir.mkdir(parents=True, exist_ok=True)
        (dist_dir / "greeting.txt").write_text(self.text)
        return ["greeting.txt"]


def target_types():
    return [TargetType("text_file", "A file with fixed content.", (Field("content", "The text.", required=True),))]


def rules():
    return {"text_file": lambda target, project: Written(str(target.address), target.get("content"))}
'''


def _repo(tmp_path):
    files = {
        "pants.toml": '[GLOBAL]\nbackend_packages.add = ["pants.backend.python", "greeter"]\npythonpath = ["%(buildroot)s/build_support"]\n',
        "build_support/greeter/__init__.py": "",
        "build_support/greeter/register.py": PLUGIN,
        "BUILD": 'text_file(name="hello", content="hi there")\nresources(name="data", sources=["*.json"])\n',
        "data.json": "{}",
    }
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return tmp_path


def test_plugin_target_type_is_listed_and_packaged(tmp_path, capsys):
    root = _repo(tmp_path)
    assert main(["--build-root", str(root), "--cache-dir", str(tmp_path / "c"), "list", "::"]) == 0
    assert capsys.readouterr().out.split() == ["//:data", "//:hello", "//data.json:data"]
    assert main(["--build-root", str(root), "--cache-dir", str(tmp_path / "c"), "package", "::"]) == 0
    assert (root / "dist" / "greeting.txt").read_text() == "hi there"
    assert "//:hello  text file" in capsys.readouterr().out


def test_peek_prints_fields_as_json(tmp_path, capsys):
    root = _repo(tmp_path)
    assert main(["--build-root", str(root), "--cache-dir", str(tmp_path / "c"), "peek", "//:data"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["target_type"] == "resources" and entry["sources"] == ["data.json"]


def test_user_errors_exit_1_without_traceback(tmp_path, capsys):
    root = _repo(tmp_path)
    (root / "BUILD").write_text('text_fil(name="x")\n')
    assert main(["--build-root", str(root), "--cache-dir", str(tmp_path / "c"), "list", "::"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: BUILD:1: unknown name 'text_fil'") and "did you mean 'text_file'" in err


def test_global_options_may_follow_the_goal(tmp_path, capsys):
    root = _repo(tmp_path)
    assert main(["list", "--build-root", str(root), "--cache-dir", str(tmp_path / "c"), "//:data"]) == 0
    assert capsys.readouterr().out.split() == ["//:data"]

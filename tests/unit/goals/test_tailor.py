"""``lamina tailor`` adds what Pants' tailor adds, once, and ``--check`` reports it."""

from __future__ import annotations

from pathlib import Path

from lamina.cli import main


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_tailor_adds_missing_targets_once(tmp_path, capsys):
    _write(tmp_path, {
        "pants.toml": '[source]\nroot_patterns = ["src"]\n',
        "src/app/BUILD": 'python_sources(name="lib", sources=["lib.py"])\n',
        "src/app/lib.py": "", "src/app/main.py": "", "src/app/main_test.py": "", "src/app/conftest.py": "",
        "src/app/__main__.py": "print('hi')\n",
        "src/empty/__init__.py": "",
        "3rdparty/requirements.txt": "attrs\n",
        "3rdparty/poetry/pyproject.toml": '[tool.poetry.dependencies]\npython = "^3.11"\nrich = "^13"\n',
    })  # fmt: skip
    argv = ["--build-root", str(tmp_path), "--cache-dir", str(tmp_path / ".cache"), "tailor"]
    assert main([*argv, "--check"]) == 1
    assert "Would update src/app/BUILD:\n  - Add python_sources target app" in capsys.readouterr().out
    assert main(argv) == 0
    assert (tmp_path / "src/app/BUILD").read_text() == (
        'python_sources(name="lib", sources=["lib.py"])\n\npython_sources()\n\npython_tests(name="tests")\n\n'
        'python_test_utils(name="test_utils")\n\npython_image(name="app-image", entry_point="__main__.py")\n'
    )
    assert (tmp_path / "3rdparty/BUILD").read_text() == 'python_requirements(name="reqs")\n'
    assert (tmp_path / "3rdparty/poetry/BUILD").read_text() == "poetry_requirements()\n"  # named after its directory
    assert not (tmp_path / "src/empty/BUILD").exists()  # a solitary empty __init__.py gets nothing
    capsys.readouterr()
    assert main([*argv, "--check"]) == 0 and capsys.readouterr().out == ""

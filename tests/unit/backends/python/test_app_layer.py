"""The app layer: launcher semantics, caching by content, and config assembly."""

from __future__ import annotations

import subprocess
import sys
import tarfile

from lamina.backends.python.app import AppFile, app_layer, launcher
from lamina.backends.python.image_config import configure, image_env
from lamina.cache import Cache
from lamina.oci import Image
from lamina.oci.mutate import UNSTAMPED_CREATED


def _run_launcher(tmp_path, entry_point, *args):
    app = tmp_path / "app"
    (app / "pkg").mkdir(parents=True)
    (app / "pkg" / "__init__.py").write_text("")
    (app / "pkg" / "cli.py").write_text(
        "import sys\n"
        "def main():\n    print('args', sys.argv[1:]); return 3\n"
        "if __name__ == '__main__':\n    print('module', sys.argv[1:])\n"
    )
    (app / "__main__.py").write_bytes(launcher(entry_point))
    return subprocess.run([sys.executable, str(app), *args], capture_output=True, text=True)


def test_launcher_calls_function_with_argv_and_exit_code(tmp_path):
    result = _run_launcher(tmp_path, "pkg.cli:main", "hello", "--shout")
    assert result.stdout == "args ['hello', '--shout']\n"
    assert result.returncode == 3


def test_launcher_runs_module_as_main(tmp_path):
    result = _run_launcher(tmp_path, "pkg.cli", "x")
    assert result.stdout == "module ['x']\n"
    assert result.returncode == 0


def test_app_layer_is_cached_by_content(tmp_path):
    cache = Cache(tmp_path / "cache")
    source = tmp_path / "mod.py"
    source.write_text("A = 1\n")
    files = [AppFile("/app/pkg/mod.py", source)]
    first = app_layer(files, app_dir="/app", entry_point="pkg.mod", cache=cache).layer
    again = app_layer(files, app_dir="/app", entry_point="pkg.mod", cache=cache).layer
    assert first == again
    source.write_text("A = 2\n")
    edited = app_layer(files, app_dir="/app", entry_point="pkg.mod", cache=cache).layer
    assert edited.digest != first.digest
    with tarfile.open(edited.path) as archive:
        assert archive.extractfile("app/pkg/mod.py").read() == b"A = 2\n"
        assert "app/__main__.py" in archive.getnames()


def test_configure_sets_runtime_fields_and_keeps_base_env(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # the environment does not leak in: not stamped
    base = Image({"architecture": "amd64", "os": "linux", "config": {"Env": ["PATH=/usr/bin:/bin", "LANG=C.UTF-8"]}})
    image = configure(
        base,
        venv_dir="/opt/venv",
        app_dir="/app",
        env=image_env(base, "/opt/venv", {"PORT": "8000"}),
        created=UNSTAMPED_CREATED,
        ports=[8000, "53/udp"],
        user="65532",
        workdir=None,
        labels={"team": "web"},
        annotations={"org.opencontainers.image.revision": "abc"},
    )
    config = image.config["config"]
    assert config["Entrypoint"] == ["/opt/venv/bin/python", "/app"]
    assert "PATH=/opt/venv/bin:/usr/bin:/bin" in config["Env"] and "LANG=C.UTF-8" in config["Env"]
    assert "PORT=8000" in config["Env"]
    assert config["ExposedPorts"] == {"8000/tcp": {}, "53/udp": {}}
    assert config["User"] == "65532" and config["WorkingDir"] == "/app"
    assert config["Labels"] == {"team": "web", "org.opencontainers.image.revision": "abc"}
    assert image.config["created"] == "1970-01-01T00:00:00Z"
    assert image.annotations == {"org.opencontainers.image.revision": "abc"}

"""What lamina infers for Pants' own target types, as Pants' Docker backend does (its own test case)."""

from __future__ import annotations

from lamina.backends.pants.inference import copied_paths
from lamina.project import load_project


def test_copied_paths_skip_flags_destinations_and_other_stages():
    dockerfile = (
        "FROM python:3.11 AS build\n"
        "COPY --chown=1000:1000 src.python.app/main.pex ./src.python.lib/tool.pex /bin/\n"
        "copy --from=build /opt/venv /opt/venv\n"
        'ADD ["docs/readme.txt", "/doc/"]\n'
    )
    assert copied_paths(dockerfile) == ["src.python.app/main.pex", "src.python.lib/tool.pex", "docs/readme.txt"]


def test_docker_images_depend_on_copied_packages_and_from_arguments(tmp_path):
    files = {
        "pants.toml": "",
        "project/image/BUILD": (
            'docker_image(name="base")\n'
            'docker_image(name="image", instructions=["ARG BASE_IMAGE=:base", "FROM $BASE_IMAGE", '
            '"COPY project.py/main_binary.pex /e", "COPY project.py/cmd1_py.pex /e", "COPY project.go/go_bin /e"])\n'
        ),
        "project/py/BUILD": 'pex_binary(name="main_binary")\npex_binaries(name="cmds", entry_points=["cmd1.py"])\n',
        "project/go/BUILD": 'go_binary(name="go_bin")\n',
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = load_project(tmp_path, tmp_path / ".cache").graph
    found = [str(t.address) for t in graph.dependencies(graph.address_of("project/image:image"))]
    assert found == ["project/go:go_bin", "project/image:base", "project/py:cmds#cmd1.py", "project/py:main_binary"]

"""What lamina infers for Pants' own target types: a docker_image's copied packages."""

from __future__ import annotations

from lamina.backends.pants.inference import copied_paths


def test_copied_paths_skip_flags_destinations_and_other_stages():
    dockerfile = (
        "FROM python:3.11 AS build\n"
        "COPY --chown=1000:1000 src.python.app/main.pex ./src.python.lib/tool.pex /bin/\n"
        "copy --from=build /opt/venv /opt/venv\n"
        'ADD ["docs/readme.txt", "/doc/"]\n'
    )
    assert copied_paths(dockerfile) == ["src.python.app/main.pex", "src.python.lib/tool.pex", "docs/readme.txt"]

"""A docker_image is named as Pants names it: repository and tag templates, registries by
alias (the default ones when none is named), skip_push."""

from __future__ import annotations

import pytest

from lamina.backends.docker.rules import image_names, package_docker_image
from lamina.errors import BuildFileError
from lamina.project import load_project

CONFIG = """
[docker]
default_repository = "{parent_directory}/{directory}/{name}"
build_args = ["VERSION=1.2"]

[docker.registries.company]
address = "registry.example.com/team"
default = true

[docker.registries.mirror]
address = "mirror.example.com"
extra_image_tags = ["ci"]
skip_push = true
"""


def _project(tmp_path, build: str):
    (tmp_path / "pants.toml").write_text(CONFIG)
    (tmp_path / "src/docker/web").mkdir(parents=True)
    (tmp_path / "src/docker/web/BUILD").write_text(build)
    return load_project(tmp_path, tmp_path / ".cache")


def test_templates_and_default_registries(tmp_path):
    project = _project(
        tmp_path,
        'docker_image(name="img", instructions=["FROM scratch"], image_tags=["{build_args.VERSION}", "latest"])\n',
    )
    target = project.graph.targets["src/docker/web:img"]
    assert image_names(target, project.context) == (
        "registry.example.com/team/docker/web/img:1.2",
        "registry.example.com/team/docker/web/img:latest",
    )


def test_registries_by_alias_extra_tags_and_skip_push(tmp_path):
    project = _project(
        tmp_path, 'docker_image(name="img", repository="web", registries=["@mirror"], instructions=["FROM scratch"])\n'
    )
    target = project.graph.targets["src/docker/web:img"]
    assert image_names(target, project.context) == ("mirror.example.com/web:latest", "mirror.example.com/web:ci")
    built = package_docker_image(target, project.context)
    assert built.skip_push  # the registry says so
    assert built.image.digest.startswith("sha256:") and len(built.image.layers) == 0


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ('registries=["@nowhere"]', "registries names @nowhere, which \\[docker.registries\\] does not define"),
        ('image_tags=["{build_args.MISSING}"]', "uses \\{build_args.MISSING\\}, which is not set"),
    ],
)
def test_unknown_alias_or_template_value_is_an_error(tmp_path, field, message):
    project = _project(tmp_path, f'docker_image(name="img", instructions=["FROM scratch"], {field})\n')
    with pytest.raises(BuildFileError, match=message):
        image_names(project.graph.targets["src/docker/web:img"], project.context)

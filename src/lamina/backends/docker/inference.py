"""What a ``docker_image`` depends on without saying so, as Pants infers it: the packages
its ``COPY``/``ADD`` lines name by output path, and targets that ``ARG`` defaults name
by address (``ARG BASE=:base`` then ``FROM ${BASE}``)."""

from __future__ import annotations

import posixpath

from lamina.backends.docker.source import dockerfile_of
from lamina.errors import AddressError, LaminaError
from lamina.graph.target import Target


def _packages_by_output(graph) -> dict[str, Target]:
    def index() -> dict[str, Target]:
        found = {}
        for target in graph.targets.values():
            path_of = graph.registry.output_paths.get(target.alias)
            if path_of is not None:
                found[posixpath.normpath(path_of(target))] = target
        return found

    if "docker-package-outputs" not in graph.memo:
        graph.memo["docker-package-outputs"] = index()
    return graph.memo["docker-package-outputs"]


def infer_docker_image(target: Target, graph) -> list[Target]:
    """The packages copied and the targets named as build-arg defaults."""
    try:
        dockerfile = dockerfile_of(target, graph.build_root)
    except LaminaError:
        return []  # building it says what is wrong
    outputs = _packages_by_output(graph)
    found: dict[str, Target] = {}
    instructions = [i for stage in dockerfile.stages for i in stage.instructions]
    for instruction in instructions:
        if instruction.keyword in ("COPY", "ADD") and not instruction.flag("from"):
            for source in instruction.args[:-1]:
                package = outputs.get(posixpath.normpath(source.lstrip("/")))
                if package is not None:
                    found[str(package.address)] = package
    defaults = [d for _, d in dockerfile.global_args if d] + [
        a.partition("=")[2] for i in instructions if i.keyword == "ARG" for a in i.args if "=" in a
    ]
    for default in defaults:
        if default.startswith((":", "//")):
            try:
                named = graph.address_of(default, relative_to=target.address.spec_path, context=target)
            except AddressError:
                continue
            found[str(named.address)] = named
    return list(found.values())

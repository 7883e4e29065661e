"""Registers the Docker backend. Its modules (the Dockerfile parser, the assembler) are
imported only when a run meets a ``docker_image``: listing a repository needs none of them."""

from lamina.backends import lazy
from lamina.backends.docker.target_types import TARGET_TYPES

_RULES = "lamina.backends.docker.rules"


def target_types():
    """Docker target types."""
    return TARGET_TYPES


def rules():
    """A ``docker_image`` is packaged into an OCI image."""
    return {"docker_image": lazy(_RULES, "package_docker_image")}


def base_builders():
    """A ``docker_image`` can be another image's base (``FROM`` an address, or ``base=``)."""
    return {"docker_image": lazy(_RULES, "docker_image_images")}


def runtime_bases():
    """A ``docker_image`` runs what it holds on the image its target stage starts ``FROM``."""
    return {"docker_image": lazy(_RULES, "root_bases")}


def registry_bases():
    """The registry images a ``docker_image``'s Dockerfile names (``FROM``, ``COPY --from``)."""
    return {"docker_image": lazy(_RULES, "registry_references")}


def owned_files():
    """A ``docker_image`` owns its Dockerfile (for ``--changed-since``)."""
    return {"docker_image": lazy("lamina.backends.docker.source", "owned_files")}


def inferrers():
    """A ``docker_image`` depends on the packages its Dockerfile copies, by their output paths."""
    return {"docker_image": lazy("lamina.backends.docker.inference", "infer_docker_image")}

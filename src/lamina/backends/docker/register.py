"""Registers the Docker backend."""

from lamina.backends.docker.target_types import TARGET_TYPES


def target_types():
    """Docker target types."""
    return TARGET_TYPES


def rules():
    """A ``docker_image`` is packaged into an OCI image."""
    from lamina.backends.docker.rules import package_docker_image

    return {"docker_image": package_docker_image}


def base_builders():
    """A ``docker_image`` can be another image's base (``FROM`` an address, or ``base=``)."""
    from lamina.backends.docker.rules import docker_image_images

    return {"docker_image": docker_image_images}


def runtime_bases():
    """A ``docker_image`` runs what it holds on the image its target stage starts ``FROM``."""
    from lamina.backends.docker.rules import root_base

    return {"docker_image": lambda target, context: (root_base(target, context),)}


def registry_bases():
    """The registry images a ``docker_image``'s Dockerfile names (``FROM``, ``COPY --from``)."""
    from lamina.backends.docker.rules import registry_references

    return {"docker_image": registry_references}


def owned_files():
    """A ``docker_image`` owns its Dockerfile (for ``--changed-since``)."""
    from lamina.backends.docker.source import dockerfile_path

    return {"docker_image": lambda target: [p for p in (dockerfile_path(target),) if p]}


def inferrers():
    """A ``docker_image`` depends on the packages its Dockerfile copies, by their output paths."""
    from lamina.backends.docker.inference import infer_docker_image

    return {"docker_image": infer_docker_image}

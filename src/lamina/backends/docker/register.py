"""Registers the Docker backend. Its modules (the Dockerfile parser, the assembler) are
imported only when a run meets a ``docker_image``: listing a repository needs none of them."""

from lamina.backends.docker.target_types import TARGET_TYPES


def target_types():
    """Docker target types."""
    return TARGET_TYPES


def rules():
    """A ``docker_image`` is packaged into an OCI image."""

    def package_docker_image(target, context):
        from lamina.backends.docker.rules import package_docker_image as package

        return package(target, context)

    return {"docker_image": package_docker_image}


def base_builders():
    """A ``docker_image`` can be another image's base (``FROM`` an address, or ``base=``)."""

    def docker_image_images(target, context):
        from lamina.backends.docker.rules import docker_image_images as images

        return images(target, context)

    return {"docker_image": docker_image_images}


def runtime_bases():
    """A ``docker_image`` runs what it holds on the image its target stage starts ``FROM``."""

    def root_base(target, context):
        from lamina.backends.docker.rules import root_base as base

        return (base(target, context),)

    return {"docker_image": root_base}


def registry_bases():
    """The registry images a ``docker_image``'s Dockerfile names (``FROM``, ``COPY --from``)."""

    def registry_references(target, context):
        from lamina.backends.docker.rules import registry_references as references

        return references(target, context)

    return {"docker_image": registry_references}


def owned_files():
    """A ``docker_image`` owns its Dockerfile (for ``--changed-since``)."""

    def dockerfile(target):
        from lamina.backends.docker.source import dockerfile_path

        return [p for p in (dockerfile_path(target),) if p]

    return {"docker_image": dockerfile}


def inferrers():
    """A ``docker_image`` depends on the packages its Dockerfile copies, by their output paths."""

    def infer_docker_image(target, graph):
        from lamina.backends.docker.inference import infer_docker_image as infer

        return infer(target, graph)

    return {"docker_image": infer_docker_image}

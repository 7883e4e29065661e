"""The Docker backend: Pants' ``docker_image``, built from its Dockerfile without a daemon."""

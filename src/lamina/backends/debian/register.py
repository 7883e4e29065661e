"""Registers the Debian backend."""

from lamina.backends.debian.target_types import TARGET_TYPES


def target_types():
    """Debian target types."""
    return TARGET_TYPES


def rules():
    """A ``debian_base`` is packaged on its own as a base image (or index)."""
    from lamina.backends.debian.rules import package_debian_base

    return {"debian_base": package_debian_base}


def base_builders():
    """A ``debian_base`` can be an image's ``base=``."""
    from lamina.backends.debian.rules import debian_base_images

    return {"debian_base": debian_base_images}


def library_packages():
    """A ``debian_base`` says which of its archive's packages ship a missing library."""
    from lamina.backends.debian.rules import library_advice

    return {"debian_base": library_advice}


def owned_files():
    """A ``debian_base`` owns its lock (for ``--changed-since``)."""
    from lamina.backends.debian.rules import lock_file

    return {"debian_base": lambda target: [lock_file(target)]}

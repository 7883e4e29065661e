"""Registers the Python backend."""

from lamina.backends import lazy
from lamina.backends.python.target_types import TARGET_TYPES


def target_types():
    """Python target types."""
    return TARGET_TYPES


def rules():
    """``python_image`` is packaged into an OCI image, ``pex_binary`` into a ``.pex`` (pex's
    modules imported only by a run that builds one)."""
    from lamina.backends.python.rules import package_python_image

    return {
        "python_image": package_python_image,
        "pex_binary": lazy("lamina.backends.python.pex_binary", "package_pex_binary"),
    }


def output_paths():
    """A ``pex_binary`` is written to its ``output_path``."""
    from lamina.backends.python.target_types import output_path

    return {"pex_binary": output_path}


def runtime_bases():
    """A ``python_image`` with ``binary=`` runs its pex on its base."""
    from lamina.backends.bases import base_images

    return {"python_image": base_images}


def registry_bases():
    """A ``python_image``'s base, when it is a registry reference."""
    from lamina.backends.bases import registry_spec

    return {"python_image": lambda target, context: [s for s in (registry_spec(target, context),) if s]}


def generators():
    """How the requirement generators make their targets."""
    from lamina.backends.python.requirement_targets import GENERATORS

    return GENERATORS


def inferrers():
    """Dependencies from imports and entry points."""
    from lamina.backends.python.inference import INFERRERS

    return INFERRERS


def synthetic_targets(config):
    """Pants' synthetic target per resolve's lockfile."""
    from lamina.backends.python.lockfile_targets import lockfile_targets

    return lockfile_targets(config)


def prefetch(targets, context, stop):
    """The wheels of the locked sdists the run's images need, built before the first asks."""
    from lamina.backends.python.prefetch import prefetch_sdist_wheels

    prefetch_sdist_wheels(targets, context, stop)

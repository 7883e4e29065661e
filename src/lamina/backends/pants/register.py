"""Registers the Pants-compatibility backend."""

from lamina.backends.pants.target_types import TARGET_TYPES


def target_types():
    """Pants target types lamina tolerates."""
    return TARGET_TYPES


def rules():
    """Nothing to build."""
    return {}


def inferrers():
    """What Pants infers for its Docker images."""
    from lamina.backends.pants.inference import INFERRERS

    return INFERRERS


def generators():
    """How ``pex_binaries`` makes its targets."""
    from lamina.backends.pants.generators import GENERATORS

    return GENERATORS

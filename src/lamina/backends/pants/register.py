"""Registers the Pants-compatibility backend."""

from lamina.backends.pants.target_types import TARGET_TYPES


def target_types():
    """Pants target types lamina tolerates."""
    return TARGET_TYPES


def rules():
    """Nothing to build."""
    return {}

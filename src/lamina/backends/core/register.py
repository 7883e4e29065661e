"""Registers the core backend."""

from lamina.backends.core.target_types import TARGET_TYPES


def target_types():
    """The core target types."""
    return TARGET_TYPES


def rules():
    """No packagers: resources and files go into images through their dependents."""
    return {}

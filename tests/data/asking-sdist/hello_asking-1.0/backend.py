"""An in-tree build backend that asks for more than its ``[build-system] requires``, as
setuptools' ``setup_requires``, scikit-build-core (cmake) or maturin do: tabulate (pure
Python) and markupsafe (a compiled wheel), which the build imports, so it fails unless what
get_requires_for_build_wheel asked for was installed for the builder's platform."""

from setuptools import build_meta as _setuptools


def get_requires_for_build_wheel(config_settings=None):
    return ["tabulate>=0.9", "markupsafe>=2"]


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    import markupsafe._speedups  # noqa: F401  the compiled module, not its pure fallback
    import tabulate  # noqa: F401

    return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)

"""lamina: Pants-style build rules that turn Python monorepos into minimal, reproducible OCI images."""

__version__ = "0.1.0"

"""Deterministic tar layers: the same entries always give the same bytes and digests."""

from lamina.tar.entries import TarEntry
from lamina.tar.writer import LayerBlob, write_layer

__all__ = ["LayerBlob", "TarEntry", "write_layer"]

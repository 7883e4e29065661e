"""Pants' own target types that lamina reads and lists but does not build, so Pants repos work unchanged."""

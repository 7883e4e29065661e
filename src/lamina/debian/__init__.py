"""Debian's archive, read the way apt reads it, to make distroless-style base images.

``archive`` fetches and verifies Release files and Packages indexes, ``resolve`` picks
the closure of the requested packages, ``lock`` pins it, ``unpack`` turns .debs into
layer entries without running anything, and ``rootfs`` adds what maintainer scripts
would have made. ``base`` puts them together into one image per architecture.
"""

"""Image references as Docker spells them: ``[REGISTRY/]REPO[:TAG][@sha256:DIGEST]``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lamina.errors import RegistryError

DOCKER_HUB = "index.docker.io"
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_LOOPBACK = ("localhost", "127.0.0.1", "[::1]")


@dataclass(frozen=True)
class Reference:
    """A repository on a registry, and optionally a tag and/or a digest in it."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def identifier(self) -> str:
        """What to ask the registry for: the digest if known, else the tag."""
        return self.digest or self.tag or "latest"

    @property
    def is_loopback(self) -> bool:
        """Whether the registry is on this machine (plain HTTP is allowed there)."""
        return self.registry.rsplit(":", 1)[0] in _LOOPBACK or self.registry in _LOOPBACK

    def with_digest(self, digest: str) -> Reference:
        """The same repository and tag, pinned to ``digest``."""
        return Reference(self.registry, self.repository, self.tag, digest)

    def with_tag(self, tag: str) -> Reference:
        """The same repository under ``tag`` (no digest)."""
        return Reference(self.registry, self.repository, tag)

    @property
    def name(self) -> str:
        """``REGISTRY/REPO``."""
        return f"{self.registry}/{self.repository}"

    def __str__(self) -> str:
        text = self.name + (f":{self.tag}" if self.tag else "")
        return text + (f"@{self.digest}" if self.digest else "")


_DOCKER_HUB_NAMES = ("docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com")


def registry_host(host: str) -> str:
    """A registry's host as lamina keys it: Docker Hub's names are all ``index.docker.io``."""
    return DOCKER_HUB if host in _DOCKER_HUB_NAMES else host


def _has_registry(first: str) -> bool:
    return "." in first or ":" in first or first == "localhost"


def parse_reference(text: str) -> Reference:
    """Parse ``text``; a name without a registry is on Docker Hub (``library/`` for one component)."""
    rest, _, digest = text.partition("@")
    if digest and not _DIGEST.fullmatch(digest):
        raise RegistryError(f"{text!r}: {digest!r} is not a sha256 digest (sha256: and 64 hex digits)")
    name, tag = rest, None
    last = rest.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = rest.rsplit(":", 1)
        if not _TAG.fullmatch(tag):
            raise RegistryError(f"{text!r}: {tag!r} is not a valid tag")
    first, _, path = name.partition("/")
    if path and _has_registry(first):
        registry, repository = registry_host(first), path
        if registry == DOCKER_HUB and "/" not in repository:
            repository = f"library/{repository}"
    else:
        registry, repository = DOCKER_HUB, name if "/" in name else f"library/{name}"
    if not repository or not all(_COMPONENT.fullmatch(part) for part in repository.split("/")):
        raise RegistryError(f"{text!r} is not an image reference ([REGISTRY/]REPO[:TAG][@sha256:DIGEST], lower case)")
    return Reference(registry, repository, tag, digest or None)

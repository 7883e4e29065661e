"""lamina's one root error and its families.

Every error a user can cause is a ``LaminaError``: the CLI prints its message and
exits non-zero without a traceback. A message says what was wrong, where (file:line,
target address, requirement) and what to do about it. Anything else escaping is a
bug in lamina and keeps its traceback.
"""

from __future__ import annotations


class LaminaError(Exception):
    """Root of every user-facing error; ``str(err)`` is the whole message."""

    exit_code = 1


class ConfigError(LaminaError):
    """``pants.toml`` or a command-line option is wrong."""


class BuildFileError(LaminaError):
    """A BUILD file cannot be evaluated: syntax, unknown names or fields, bad values."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        where = f"{path}:{line}: " if path and line else (f"{path}: " if path else "")
        super().__init__(f"{where}{message}")
        self.path = path
        self.line = line


class AddressError(LaminaError):
    """An address or spec names no target, or is malformed."""


class DependencyCycleError(LaminaError):
    """Targets depend on each other in a loop."""


class ResolveError(LaminaError):
    """A requirement cannot be satisfied from the lock: missing, no compatible artifact."""


class FetchError(LaminaError):
    """An artifact could not be downloaded or failed verification against the lock."""


class SignatureError(FetchError):
    """A package archive's Release file is unsigned, or not signed by a trusted key."""


class BuildError(LaminaError):
    """An sdist could not be built into a wheel."""


class ImageError(LaminaError):
    """A base image cannot be read, or an image cannot be assembled or written."""


class RegistryError(LaminaError):
    """A registry refused, failed or could not be reached; or a reference is malformed.
    ``codes`` are the distribution API's error codes the registry answered with."""

    def __init__(self, message: str, codes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.codes = codes


class EngineError(LaminaError):
    """The container engine did not answer or refused an image."""


class TransportError(LaminaError):
    """An HTTP exchange was refused by lamina's policy (a TLS failure, a downgrade to plain
    HTTP, credentials over plain HTTP) or kept failing after retries."""


class DamagedBlobError(LaminaError):
    """A stored blob's bytes no longer match its digest."""

    def __init__(self, message: str, *, digest: str, path: str) -> None:
        super().__init__(message)
        self.digest = digest
        self.path = path


class TlsError(TransportError):
    """A host's TLS certificate could not be verified (unknown CA, bad certificate, wrong name)."""

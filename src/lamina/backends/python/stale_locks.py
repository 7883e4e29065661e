"""A warning, once per lock, when Pants' metadata in it says it no longer fits its resolve."""

from __future__ import annotations

import logging

from lamina.backends.context import BuildContext
from lamina.backends.python.inference import PythonInference
from lamina.python.lock_metadata import staleness

log = logging.getLogger(__name__)


def warn_if_stale(lock, resolve: str, context: BuildContext) -> None:
    """Warn, once per lock, when Pants' metadata says the lock no longer fits its resolve."""
    if lock.metadata is not None:
        context.once(("stale-lock warned", str(lock.path), resolve), lambda: _warn_if_stale(lock, resolve, context))


def _warn_if_stale(lock, resolve: str, context: BuildContext) -> None:
    requirements = PythonInference.of(context.graph).requirements_of(resolve)
    reason = staleness(lock.metadata, requirements, context.config.resolve_interpreter_constraints(resolve))
    if reason:
        log.warning(
            "%s: the lock of resolve %r is stale: %s; regenerate it with `lamina generate-lockfiles --resolve=%s`",
            lock.path, resolve, reason, resolve,
        )  # fmt: skip

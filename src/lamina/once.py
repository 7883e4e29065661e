"""Values computed once per run and shared by every worker thread.

The first caller of a key computes its value while later callers of the same key wait
and then share it; callers of other keys are not held up. A computation that raises is
not remembered: the next caller tries again (after a damaged cache blob is removed, a
retry must not see the failure).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class Once:
    """A thread-safe memo: ``once(key, compute)`` is ``compute()``, run at most once per key."""

    def __init__(self) -> None:
        self._values: dict[Hashable, Any] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def __call__(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._guard:
            if key in self._values:
                return self._values[key]
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                if key in self._values:
                    return self._values[key]
            value = compute()
            with self._guard:
                self._values[key] = value
            return value

    def clear(self) -> None:
        """Forget every value (the run starts over, e.g. after a damaged blob was removed)."""
        with self._guard:
            self._values.clear()

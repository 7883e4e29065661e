"""``Once``: a value per key computed by the first caller while the others wait, failures
not remembered, other keys never held up."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from lamina.once import Once


def test_concurrent_callers_of_one_key_share_one_computation():
    once, calls = Once(), []

    def compute():
        calls.append(1)
        time.sleep(0.2)  # long enough for every other caller to arrive and wait
        return object()

    with ThreadPoolExecutor(8) as pool:
        values = list(pool.map(lambda _: once("base", compute), range(8)))
    assert len(calls) == 1 and all(v is values[0] for v in values)


def test_a_failure_is_not_remembered():
    once, attempts = Once(), []

    def flaky():
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("a damaged blob")
        return "built"

    with pytest.raises(OSError):
        once("base", flaky)
    assert once("base", flaky) == "built" and len(attempts) == 2


def test_a_slow_key_does_not_hold_up_another():
    once, release = Once(), threading.Event()
    slow = threading.Thread(target=lambda: once("slow", lambda: release.wait(10)))
    slow.start()
    try:
        assert once("fast", lambda: "done") == "done"  # answered while "slow" is still computing
        assert slow.is_alive()
    finally:
        release.set()
        slow.join(10)


def test_clear_forgets_values():
    once = Once()
    assert once("k", lambda: 1) == 1
    once.clear()
    assert once("k", lambda: 2) == 2

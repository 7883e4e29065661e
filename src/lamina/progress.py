"""Progress of long steps (downloads, unpacking, installs, compression, uploads) on stderr.

In a terminal, ``rich`` draws one transient bar per running step; the bars vanish when the
step ends, so what stays on screen is lamina's line-oriented output. When stderr is not a
terminal, under ``--quiet`` or with ``-v`` (whose log lines would tear the bars), nothing
is drawn and nothing is written: logs and CI output stay plain lines.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_state: dict = {"enabled": False, "progress": None}


def configure(*, enabled: bool) -> None:
    """Turn the bars on (the CLI does, for a terminal without ``--quiet`` or ``-v``) or off."""
    finish()
    _state["enabled"] = enabled


def _progress():
    with _lock:
        if _state["progress"] is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            _state["progress"] = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
                redirect_stdout=False,  # stdout is lamina's output, maybe piped: never drawn into
                redirect_stderr=False,
            )
            _state["progress"].start()
        return _state["progress"]


@contextmanager
def step(description: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A long step of ``total`` items (None: unknown); yields ``advance(n)``. Free when off."""
    if not _state["enabled"]:
        yield lambda n=1: None
        return
    progress = _progress()
    task = progress.add_task(description, total=total)
    progress.refresh()
    try:
        yield lambda n=1: progress.advance(task, n)
    finally:
        progress.remove_task(task)


def count(number: int, noun: str) -> str:
    """``"1 wheel"``, ``"3 wheels"``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def finish() -> None:
    """Stop drawing (at exit, or before plain output that must not be torn)."""
    with _lock:
        if _state["progress"] is not None:
            _state["progress"].stop()
            _state["progress"] = None

"""Stopping and pausing a run from any thread (the window's buttons, a signal in `netbuilder train`): the
engine looks at it between steps."""

from __future__ import annotations

import threading
import time


class Control:
    """Stop and pause, from any thread. Stop takes effect before the next step; pause waits between steps."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self) -> float:
        """Block while paused; the seconds spent waiting (kept out of the speed and time left)."""
        if self._running.is_set():
            return 0.0
        started = time.perf_counter()
        self._running.wait()
        return time.perf_counter() - started

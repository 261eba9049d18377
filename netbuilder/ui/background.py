"""The one way the window runs work off its own thread: a plain callable on a QThread of its own, whose result
or exception comes back to the window's thread as a signal (after napari's `create_worker`).

Loading torch, a dataset preview, a run's predictions, tracing an imported model, writing export formats and
training all go through `BackgroundTask`, so each is started, cancelled and joined the same way: while a task
runs, Python's garbage collection is held on the main thread (see main_thread_gc), and `join_all()` (called
when the window closes) leaves no thread running. The callable must not touch widgets; it returns plain values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from netbuilder.ui.main_thread_gc import main_thread_collector


class _Outcome:
    """The work, and what it returned or raised. A plain object, not a QObject: frames of the work can outlive
    it (a module that keeps an exception it caught while importing keeps every frame above it), and a QObject
    held by them would be destroyed by the garbage collector, at whatever moment it runs."""

    def __init__(self, work: Callable[[], Any]) -> None:
        self.work = work
        self.result: Any = None
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            self.result = self.work()
        except Exception as err:  # whatever it is, the window hears of it rather than the thread dying mute
            self.error = err
        self.work = None  # nor the work's own objects


class _Thread(QThread):
    """Runs an _Outcome once, holding no reference to itself while the work runs."""

    def __init__(self, outcome: _Outcome, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self.outcome = outcome

    def run(self) -> None:
        outcome = self.outcome
        del self  # the frame that calls the work must not hold this QThread (see _Outcome)
        outcome.run()


class BackgroundTask(QObject):
    """`work` (a callable taking no arguments) run once on a thread named `name`.

    `start()` runs it; when it returns, the thread is joined and `succeeded` carries its result, or `failed`
    the exception it raised, on the window's thread. `cancel()` stops waiting: the work cannot be interrupted,
    so it runs to its end and is joined then, and nothing is emitted. `join()` waits for it now and drops
    what it would have said (read `result` and `error` afterwards if they are wanted). A running task is kept
    alive by the module until it is joined, so its owner may let it go at any time."""

    succeeded = Signal(object)  # what the work returned
    failed = Signal(object)  # the Exception the work raised

    def __init__(self, work: Callable[[], Any], name: str) -> None:
        super().__init__()
        self.name = name
        self._work: Callable[[], Any] | None = work
        self._thread: _Thread | None = None
        self._awaited = False
        self.result: Any = None  # what the work returned, once joined
        self.error: Exception | None = None  # what the work raised, once joined

    @property
    def running(self) -> bool:
        """Started and not yet joined (a cancelled task runs on until its work returns)."""
        return self._thread is not None

    @property
    def awaited(self) -> bool:
        """Running, and its result will be delivered (not cancelled, not joined)."""
        return self._awaited

    def start(self) -> BackgroundTask:
        """Run the work on its thread (once; a task is not restarted)."""
        if self._work is None:
            raise RuntimeError(f"the task {self.name!r} has already run")
        thread = _Thread(_Outcome(self._work), self.name)
        self._work = None
        thread.finished.connect(self._on_finished)  # queued: the thread object lives on the window's thread
        self._thread = thread
        self._awaited = True
        _running.add(self)
        main_thread_collector().hold()  # no garbage collection on the task's thread
        thread.start()
        return self

    def cancel(self) -> None:
        """Stop waiting: the work goes on to its end, unheard, and is joined then."""
        self._awaited = False

    def join(self) -> None:
        """Wait for the work to end, without delivering its outcome."""
        self._awaited = False
        self._join()

    def _on_finished(self) -> None:
        if self._thread is None:
            return  # joined already
        awaited = self._awaited
        self._awaited = False
        self._join()
        if not awaited:
            return
        if self.error is not None:
            self.failed.emit(self.error)
        else:
            self.succeeded.emit(self.result)

    def _join(self) -> None:
        thread = self._thread
        if thread is None:
            return
        thread.wait()
        self._thread = None
        self.result, self.error = thread.outcome.result, thread.outcome.error
        _running.discard(self)
        main_thread_collector().release()


_running: set[BackgroundTask] = set()


def running_tasks() -> list[BackgroundTask]:
    """The tasks started and not yet joined, cancelled ones included."""
    return list(_running)


def join_all() -> None:
    """Join every task still running, delivering nothing (the window calls it when it closes)."""
    for task in list(_running):
        task.join()

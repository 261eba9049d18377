"""The one background-task class: outcomes come back on the window's thread, cancelled work is heard of no
more, and joining leaves no thread running and garbage collection back on every thread."""

from __future__ import annotations

import sys
import threading

import pytest
from PySide6.QtCore import QObject, QThread

from netbuilder.ui.background import BackgroundTask, join_all, running_tasks
from netbuilder.ui.main_thread_gc import main_thread_collector
from tests.ui.conftest import running

pytestmark = pytest.mark.usefixtures("no_thread_left_running")


def test_the_result_is_delivered_on_the_window_thread(qtbot):
    seen: list[tuple[object, bool]] = []
    task = BackgroundTask(lambda: threading.current_thread() is not threading.main_thread(), "test result")
    task.succeeded.connect(lambda value: seen.append((value, QThread.currentThread().isMainThread())))
    with qtbot.waitSignal(task.succeeded, timeout=5000):
        task.start()
    assert seen == [(True, True)]  # the work ran off the main thread; the signal came on it
    assert not task.running and running_tasks() == []
    assert main_thread_collector().holds == 0


def test_an_exception_is_delivered_not_swallowed(qtbot):
    def work():
        raise ValueError("no such dataset folder")

    task = BackgroundTask(work, "test failure")
    task.succeeded.connect(lambda value: pytest.fail("a failed task reported success"))
    with qtbot.waitSignal(task.failed, timeout=5000) as blocker:
        task.start()
    error = blocker.args[0]
    assert isinstance(error, ValueError) and str(error) == "no such dataset folder"
    assert task.error is error and not task.running


def test_join_waits_for_the_work_and_delivers_nothing(qtbot, no_thread_left_running):
    release = threading.Event()
    task = BackgroundTask(lambda: release.wait(5) and "done", "test join")
    heard: list[object] = []
    task.succeeded.connect(heard.append)
    task.start()
    assert task.running and task.awaited and running(no_thread_left_running)
    assert main_thread_collector().holds == 1  # collection is confined to the main thread meanwhile
    release.set()
    task.join()
    assert running(no_thread_left_running) == [] and not task.running
    assert task.result == "done"
    qtbot.wait(50)  # the thread's queued "finished" arrives after the join: still nothing is said
    assert heard == []
    assert main_thread_collector().holds == 0


def test_a_cancelled_task_runs_on_unheard_and_is_joined_when_it_ends(qtbot):
    release = threading.Event()
    task = BackgroundTask(lambda: release.wait(5), "test cancel")
    heard: list[object] = []
    task.succeeded.connect(heard.append)
    task.failed.connect(heard.append)
    task.start()
    task.cancel()
    assert task.running and not task.awaited
    release.set()
    qtbot.waitUntil(lambda: not task.running, timeout=5000)
    assert heard == [] and running_tasks() == []


def test_join_all_leaves_no_thread_running(no_thread_left_running):
    release = threading.Event()
    tasks = [BackgroundTask(lambda: release.wait(5), f"test join_all {i}").start() for i in range(3)]
    tasks[0].cancel()
    del tasks  # the tasks are kept alive while they run, even when nobody holds them
    assert len(running_tasks()) == 3
    release.set()
    join_all()
    assert running_tasks() == [] and running(no_thread_left_running) == []
    assert main_thread_collector().holds == 0


def test_a_task_runs_once(qtbot):
    task = BackgroundTask(lambda: 1, "test once")
    with qtbot.waitSignal(task.succeeded, timeout=5000):
        task.start()
    with pytest.raises(RuntimeError):
        task.start()


def test_frames_the_work_leaves_behind_hold_no_qt_object(qtbot):
    """A module that keeps an exception it caught while importing (torch's imports do) keeps every frame
    above it alive; a QObject held there would be destroyed later by the garbage collector, wherever it
    runs (a deadlock in QObject's destructor, seen when the window closed)."""
    kept = []

    def work():
        kept.append(sys._getframe())
        return 1

    task = BackgroundTask(work, "test frames")
    with qtbot.waitSignal(task.succeeded, timeout=5000):
        task.start()
    held, frame = [], kept[0]
    while frame is not None:
        held += frame.f_locals.values()
        frame = frame.f_back
    assert not [o for o in held if isinstance(o, QObject)]

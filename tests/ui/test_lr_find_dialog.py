"""The learning-rate range test in the window: one click opens it and it runs; the suggestion is used as the
optimizer's lr in one undoable edit; Close mid-run stops it and leaves no thread; not offered while a run
trains or when the project cannot train."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from netbuilder.ui.training import lr_find_dialog
from netbuilder.ui.training.lr_find_dialog import LrFindDialog
from tests.ui.conftest import running

pytestmark = pytest.mark.usefixtures("no_thread_left_running")

TIMEOUT_MS = 120_000  # the first test of a session loads torch
LEFT = Qt.MouseButton.LeftButton


def optimizer_lr(win) -> float:
    project = win.document.project
    node = project.graph.nodes[win.document.analysis.training_task.optimizer_node]
    return node.params["lr"]


def open_test(qtbot, win, monkeypatch, *, steps: int = 60) -> LrFindDialog:
    """Click Find LR…, whose test starts at once: from 1e-5 in `steps` steps (fewer than a person's 200)."""
    monkeypatch.setattr(lr_find_dialog, "START", 1e-5)
    monkeypatch.setattr(lr_find_dialog, "STEPS", steps)
    panel = win.training
    assert panel.find_rate_button.isEnabled()
    qtbot.mouseClick(panel.find_rate_button, LEFT)
    dialog = panel.lr_dialog
    assert dialog is not None and dialog.isVisible() and dialog.running
    assert dialog.start_field.text() == "1e-5" and dialog.steps_field.value() == steps
    return dialog


def test_the_suggestion_becomes_the_optimizers_lr_in_one_undoable_edit(qtbot, window, monkeypatch):
    before = optimizer_lr(window)
    dialog = open_test(qtbot, window, monkeypatch)
    qtbot.waitUntil(lambda: not dialog.running, timeout=TIMEOUT_MS)
    suggestion = dialog.suggestion
    assert suggestion is not None and 1e-5 < suggestion < 10
    assert dialog.plot.suggestion_shown == pytest.approx(suggestion)
    assert "Suggested:" in dialog.words.text() and "falls fastest" in dialog.words.text()
    assert dialog.use_button.isEnabled() and dialog.use_button.text().startswith("Use ")
    stack = window.controller.undo_stack
    index = stack.index()
    qtbot.mouseClick(dialog.use_button, LEFT)
    assert not dialog.isVisible()
    assert optimizer_lr(window) == suggestion != before
    assert stack.index() == index + 1  # one edit
    window.undo_action.trigger()
    assert optimizer_lr(window) == before


def test_stop_shows_what_the_test_measured_so_far(qtbot, window, monkeypatch):
    dialog = open_test(qtbot, window, monkeypatch, steps=2000)
    qtbot.waitUntil(lambda: dialog.progress.value() > 1, timeout=TIMEOUT_MS)
    assert " left" in dialog.progress.format()  # time left, once two reports have come
    qtbot.mouseClick(dialog.stop_button, LEFT)
    assert not dialog.stop_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.running, timeout=10_000)
    taken = len(dialog.result.rates)
    assert 0 < taken < 2000 and not dialog.result.stopped_early
    assert dialog.progress.format() == f"{taken} steps · stopped"
    assert len(dialog.plot.raw.x) == taken  # every step measured is drawn
    assert dialog.run_button.isEnabled() and dialog.isVisible()


def test_close_mid_run_stops_the_test_and_leaves_no_thread(qtbot, window, monkeypatch, no_thread_left_running):
    dialog = open_test(qtbot, window, monkeypatch, steps=2000)
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=TIMEOUT_MS)
    before = optimizer_lr(window)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible() and not dialog.running
    qtbot.waitUntil(lambda: not running(no_thread_left_running), timeout=10_000)  # within a step or so
    assert optimizer_lr(window) == before
    assert not window.controller.modified


def test_closing_the_window_mid_test_stops_it_and_joins_its_thread(qtbot, window, monkeypatch, no_thread_left_running):
    dialog = open_test(qtbot, window, monkeypatch, steps=2000)
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=TIMEOUT_MS)
    task = dialog.task
    window.close()
    assert not running(no_thread_left_running)  # joined before the window went
    assert len(task.result.losses) < 2000 and not task.result.stopped_early  # stopped, not run to its end


def test_not_offered_while_a_run_trains(qtbot, window):
    panel = window.training
    assert window.training.find_rate_action in window.training_menu.actions()
    qtbot.mouseClick(panel.train_button, LEFT)
    assert not panel.find_rate_button.isEnabled() and not panel.find_rate_action.isEnabled()
    assert "training" in panel.find_rate_button.toolTip()
    assert panel.find_learning_rate() is None
    panel.stop()
    qtbot.waitUntil(lambda: not panel.is_running, timeout=TIMEOUT_MS)
    assert panel.find_rate_button.isEnabled()


def test_not_offered_when_the_project_cannot_train(qtbot, window):
    panel = window.training
    optimizer = window.document.analysis.training_task.optimizer_node
    window.controller.delete([optimizer])
    qtbot.waitUntil(lambda: not panel.find_rate_button.isEnabled())
    assert not panel.find_rate_action.isEnabled()
    assert panel.find_rate_button.toolTip() == panel.train_button.toolTip()  # why it cannot train
    window.undo_action.trigger()
    qtbot.waitUntil(panel.find_rate_button.isEnabled)

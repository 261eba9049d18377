"""Find batch size in the window: one click searches in the background (on the CPU: by the estimate), the size
found becomes the batch size in one undoable edit and the line under the controls says how it was found; not
offered while a run trains; Stop and closing the window end it. A run that runs out of GPU memory (the real
torch.cuda.OutOfMemoryError, raised by the real step) ends as failed with what to lower, and the window goes on."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import Qt

from netbuilder.blocks import catalogue
from netbuilder.training import batch_size_search
from netbuilder.training.batch_size_progress import SearchClock
from netbuilder.training.batch_size_search import BISECT_TO
from netbuilder.training.engine import Trainer
from tests.ui.conftest import running

pytestmark = pytest.mark.usefixtures("no_thread_left_running")

TIMEOUT_MS = 120_000  # the first test of a session loads torch
LEFT = Qt.MouseButton.LeftButton


def test_the_size_found_becomes_the_batch_size_in_one_undoable_edit(qtbot, window, monkeypatch):
    panel = window.training
    finder = panel.batch_finder
    analysis = window.document.analysis
    state = catalogue.get(analysis.training_task.optimizer).state_per_parameter
    # on the CPU the project's batch stays where it fits: here half the free memory holds 40 samples' estimate
    free = 2 * analysis.size.training_bytes(40, state)
    monkeypatch.setattr(batch_size_search, "available_ram_bytes", lambda: free)
    button = panel.controls.find_batch_button
    assert button.isEnabled() and "largest batch" in button.toolTip()
    before = window.document.project.training.batch_size
    stack = window.controller.undo_stack
    index = stack.index()
    messages: list[str] = []
    panel.message.connect(messages.append)
    qtbot.mouseClick(button, LEFT)
    assert finder.busy and not button.isEnabled() and not panel.train_button.isEnabled()
    assert "Finding the batch size" in panel.train_button.toolTip()
    qtbot.waitUntil(lambda: not finder.busy, timeout=TIMEOUT_MS)
    found = finder.found
    assert found is not None and found.device == "cpu"
    assert window.document.project.training.batch_size == found.batch_size != before
    assert 40 * (1 - 1 / BISECT_TO) <= found.batch_size <= 40 < before
    assert stack.index() == index + 1  # one edit
    assert panel.fields["batch_size"].value() == found.batch_size
    assert finder.words.text().startswith(f"Batch size {found.batch_size:,} fits on the CPU by estimate (about ")
    assert finder.words.text().endswith("Set as the batch size (Undo puts it back).")
    assert messages[-1] == f"Set the batch size to {found.batch_size:,} (Undo puts it back)"
    assert button.isEnabled() and panel.train_button.isEnabled() and not finder.stop_button.isVisible()
    window.undo_action.trigger()
    assert window.document.project.training.batch_size == before


def test_each_size_tried_is_said_with_the_time_so_far_and_about_how_long_is_left(qtbot, window):
    """The line under the controls says what batch_size_progress says (its arithmetic is tested there), here
    with a clock that ticks as told: loading took 2 s, each try 1 s."""
    finder = window.training.batch_finder
    ticks = iter([0.0, 2.0, 3.0, 4.0])
    clock = SearchClock(clock=lambda: next(ticks))
    qtbot.mouseClick(window.training.controls.find_batch_button, LEFT)
    said = []
    for tries, size in enumerate((8, 16, 32), start=1):
        finder.search.trying.emit(clock.trying(size, tries, 19))
        said.append(finder.words.text())
    assert said == [
        "Trying batch size 8 (try 1 of at most 19, 0:02 so far)…",  # no try has ended
        "Trying batch size 16 (try 2 of at most 19, 0:03 so far)…",  # one try cannot say how time grows
        "Trying batch size 32 (try 3 of at most 19, 0:04 so far, about 0:17 left)…",  # 17 tries of 1 s at most
    ]
    qtbot.waitUntil(lambda: not finder.busy, timeout=TIMEOUT_MS)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
@pytest.mark.parametrize("project_path", ["residual_cnn"], indirect=True)
def test_on_a_gpu_the_search_says_about_how_long_is_left_from_its_third_try(qtbot, window):
    finder = window.training.batch_finder
    assert window.controller.set_setting("device", "cuda")
    qtbot.mouseClick(window.training.controls.find_batch_button, LEFT)
    said: list[str] = []
    finder.search.trying.connect(lambda progress: said.append(finder.words.text()))  # after the finder's own
    qtbot.waitUntil(lambda: not finder.busy, timeout=TIMEOUT_MS)
    assert finder.found is not None and finder.found.device.startswith("cuda (")
    tries = len(finder.found.search.tried)
    assert len(said) == tries >= 3 and all(text.startswith("Trying batch size ") for text in said)
    assert ["left)…" in text for text in said] == [False, False] + [True] * (tries - 2)


def test_not_offered_while_a_run_trains(qtbot, window):
    panel = window.training
    button = panel.controls.find_batch_button
    assert panel.batch_finder.action in window.training_menu.actions() and panel.batch_finder.action.isEnabled()
    qtbot.mouseClick(panel.train_button, LEFT)
    assert not button.isEnabled() and "training" in button.toolTip() and "batch size" in button.toolTip()
    assert not panel.batch_finder.action.isEnabled()
    assert not panel.batch_finder.start()
    panel.stop()
    qtbot.waitUntil(lambda: not panel.is_running, timeout=TIMEOUT_MS)
    assert button.isEnabled()


def test_closing_the_window_mid_search_joins_its_thread(qtbot, window, no_thread_left_running):
    finder = window.training.batch_finder
    qtbot.mouseClick(window.training.controls.find_batch_button, LEFT)
    assert finder.busy
    window.close()
    assert not running(no_thread_left_running) and not finder.busy


def test_a_run_out_of_gpu_memory_fails_with_what_to_lower_and_the_window_goes_on(qtbot, window, monkeypatch):
    def out_of_memory(self, batch_x, batch_y):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(Trainer, "_train_step", out_of_memory)
    panel = window.training
    qtbot.mouseClick(panel.train_button, LEFT)
    qtbot.waitUntil(lambda: not panel.is_running, timeout=TIMEOUT_MS)
    said = panel.outcome_text()
    assert panel.banner.isVisible() and "ran out of memory" in said
    assert "lower the batch size (such as 32)" in said and "Find batch size" in said
    assert window.training.history.records[-1].status == "failed"
    monkeypatch.undo()  # and the window trains again
    qtbot.mouseClick(panel.train_button, LEFT)
    assert panel.is_running
    panel.stop()
    qtbot.waitUntil(lambda: not panel.is_running, timeout=TIMEOUT_MS)
    assert window.isVisible()

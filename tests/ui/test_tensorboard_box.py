"""The Training dock's "TensorBoard logs" box: checked, a run writes its event files into
PROJECT.runs/tensorboard/RUN/; the choice is the user's, remembered for the next window; unchecked, nothing is
written."""

from __future__ import annotations

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from netbuilder.ui.app.main_window import MainWindow
from tests.ui.conftest import forget_changes
from tests.ui.test_training_dock import set_up, wait_until_done

pytestmark = pytest.mark.usefixtures("no_thread_left_running")


@pytest.mark.slow
def test_the_box_makes_a_run_write_tensorboard_logs_and_is_remembered(window, qtbot, project_path, settings, recovery):
    panel = window.training
    logs = project_path.with_name("digits_mlp.runs") / "tensorboard"
    assert not panel.tensorboard_box.isChecked()  # off until asked for
    assert f"tensorboard --logdir {logs}" in panel.tensorboard_box.toolTip()

    set_up(window, epochs=1)
    panel.train_button.click()
    wait_until_done(qtbot, window)
    assert not logs.exists()  # unchecked: no logs

    panel.tensorboard_box.click()
    panel.train_button.click()
    wait_until_done(qtbot, window)
    record = panel.history.records[-1]
    assert [path.name for path in logs.iterdir()] == [record.run_id]
    events = EventAccumulator(str(logs / record.run_id), size_guidance={"scalars": 0})
    events.Reload()
    assert len(events.Scalars("loss/train_step")) == record.global_step
    assert [event.value for event in events.Scalars("loss/val")] == pytest.approx([record.history[0]["val_loss"]])
    assert events.Tags()["graph"]

    later = MainWindow(settings, recovery)  # the next window, same user
    qtbot.addWidget(later, before_close_func=forget_changes)
    assert later.open_path(project_path)
    assert later.training.tensorboard_box.isChecked()


def test_an_unsaved_project_says_to_save_first(qtbot, settings, recovery):
    window = MainWindow(settings, recovery)
    qtbot.addWidget(window, before_close_func=forget_changes)
    window.new_project()
    box = window.training.tensorboard_box
    assert not box.isEnabled() and box.toolTip().startswith("Save the project first")

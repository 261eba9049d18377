"""The window's Processes setting: a run of 2 processes (gloo, on the CPU) reports its steps and epochs live
from rank 0, ends as one process's run does and keeps its weights."""

from __future__ import annotations

import pytest

from netbuilder.project.run_history import runs_folder
from tests.ui.test_training_dock import set_up, train, wait_until_done

pytestmark = [pytest.mark.usefixtures("no_thread_left_running"), pytest.mark.slow]


def test_a_run_of_two_processes_reports_live_and_keeps_its_weights(window, qtbot, project_path):
    set_up(window, epochs=2, processes=2)
    panel = window.training
    heard = train(qtbot, window)
    wait_until_done(qtbot, window, heard)
    assert heard.started[0].device == "cpu, 2 processes (gloo)"
    assert heard.steps == 2 * heard.started[0].steps_per_epoch and [e.epoch for e in heard.epochs] == [1, 2]
    assert heard.finished[0].status == "completed"
    assert panel.plots.point_counts()["raw"] == heard.steps
    record = panel.history.records[-1]
    assert (runs_folder(project_path) / record.run_id / "model.pt").is_file()

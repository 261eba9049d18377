"""The run record the window keeps is made from the engine's events, not from the plots: a run with no panel
and no plots ever created makes the same record as a run in the Training panel with its curves."""

from __future__ import annotations

import dataclasses

import pytest

from netbuilder.project import load_project
from netbuilder.ui.training.worker import TrainingWorker
from tests.ui.test_training_dock import set_up, train, wait_until_done

pytestmark = pytest.mark.usefixtures("no_thread_left_running")

# what differs between two runs of the same settings: when, for how long, which id, where its files are
_OF_THE_OCCASION = ("run_id", "started", "seconds", "weights", "checkpoint")


def _run_facts(record) -> dict:
    return {k: v for k, v in dataclasses.asdict(record).items() if k not in _OF_THE_OCCASION}


def test_the_saved_record_does_not_depend_on_the_plots(window, qtbot, project_path):
    set_up(window, epochs=2)
    heard = train(qtbot, window)
    wait_until_done(qtbot, window, heard)
    panel = window.training
    assert panel.plots is not None and panel.plots.point_counts()["smooth"] > 0  # the curves were drawn
    saved = panel.history.records[-1]

    # The same run again, by a worker alone: no panel, no plots, nothing listening to its signals.
    project = load_project(project_path)
    project.training = panel.document.project.training
    worker = TrainingWorker(project, run_id="alone")
    end = worker.run()
    assert end.status == "completed"
    alone = worker.recorder.record()

    assert alone.steps and len(alone.history) == 2 and alone.device == "cpu"
    assert _run_facts(alone) == _run_facts(saved)  # the CPU run is deterministic: the very same numbers
    assert alone.steps[-1][0] == saved.global_step

"""Memory in the window's runs, as `netbuilder train` says it: a network whose parameters exceed this machine's
memory does not start (the run ends at once with the size and what to do, before anything is allocated), and
a run whose estimate exceeds it starts under a banner that says so."""

from __future__ import annotations

import pytest

from netbuilder.blocks import catalogue
from netbuilder.project import load_project
from netbuilder.runtime import machine_memory
from netbuilder.ui.training.worker import TrainingWorker
from tests.ui.test_training_dock import set_up, train, wait_until_done

pytestmark = pytest.mark.usefixtures("no_thread_left_running")


def test_the_window_says_why_a_network_too_large_for_this_machine_does_not_train(qapp, project_path, monkeypatch):
    monkeypatch.setattr(machine_memory, "ram_bytes", lambda: 1000)  # a machine of 1 kB
    end = TrainingWorker(load_project(project_path)).run()
    assert end.status == "failed"
    assert end.message.startswith("the network's parameters take ") and "this machine's memory, 1 kB" in end.message


def test_train_in_the_window_warns_when_the_run_may_not_fit_and_still_runs(window, qtbot, monkeypatch):
    set_up(window, epochs=1)
    panel = window.training
    size = panel.document.analysis.size
    adam_training = size.training_bytes(64, catalogue.get("Adam").state_per_parameter)
    between = (size.weight_bytes + adam_training) // 2  # the weights fit, training may not
    monkeypatch.setattr(machine_memory, "ram_bytes", lambda: between)
    heard = train(qtbot, window)  # Train pressed
    assert panel.banner.isVisible()
    assert panel.banner_text.text().startswith("training needs about ")
    assert "more than this machine's memory" in panel.banner_text.text()
    wait_until_done(qtbot, window, heard)
    assert panel.history.records[-1].status == "completed"

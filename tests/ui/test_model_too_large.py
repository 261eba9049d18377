"""A network whose parameters exceed this machine's memory does not start training in the window: the run
ends at once with the size and what to do, as `netbuilder train` says it, before anything is allocated."""

from __future__ import annotations

from netbuilder.project import load_project
from netbuilder.runtime import machine_memory
from netbuilder.ui.training.worker import TrainingWorker


def test_the_window_says_why_a_network_too_large_for_this_machine_does_not_train(qapp, project_path, monkeypatch):
    monkeypatch.setattr(machine_memory, "ram_bytes", lambda: 1000)  # a machine of 1 kB
    end = TrainingWorker(load_project(project_path)).run()
    assert end.status == "failed"
    assert end.message.startswith("the network's parameters take ") and "this machine's memory, 1 kB" in end.message

"""A run of `netbuilder train` is a run of the project like one started in the window: the window lists it in
the project's run history when the project opens, draws its curves behind the next run, finds its weights,
and goes on from its checkpoint when it was stopped with Ctrl+C."""

from __future__ import annotations

import os
import signal

import pytest

from netbuilder.cli import main
from netbuilder.project.run_events import EpochEnd
from netbuilder.project.run_history import RunHistory
from netbuilder.training import console
from netbuilder.ui.app.main_window import MainWindow
from tests.ui.conftest import forget_changes
from tests.ui.test_training_dock import set_up, wait_until_done

pytestmark = pytest.mark.usefixtures("no_thread_left_running")


def _open(qtbot, settings, recovery, project_path) -> MainWindow:
    window = MainWindow(settings, recovery)
    qtbot.addWidget(window, before_close_func=forget_changes)
    window.show()
    assert window.open_path(project_path)
    window.training_dock.raise_()
    qtbot.waitExposed(window.training)
    return window


def test_a_terminal_run_shows_in_the_windows_history(qtbot, settings, recovery, project_path):
    assert main(["train", str(project_path), "--epochs", "1", "--device", "cpu"]) == 0
    (terminal,) = RunHistory(project_path).records

    panel = _open(qtbot, settings, recovery, project_path).training
    assert [r.run_id for r in panel.history.records] == [terminal.run_id]
    assert "Last run" in panel.outcome_text()
    qtbot.waitUntil(lambda: panel.plots is not None)  # made when the tab first shows
    assert len(panel.plots.past_items["step"][0].xData) > 1  # its loss curve drawn faintly behind the next run
    assert panel.history.file_path(terminal, terminal.weights).name == "model.pt"  # what Predict loads


def test_a_terminal_run_stopped_with_ctrl_c_goes_on_in_the_window(
    qtbot, settings, recovery, project_path, monkeypatch, capsys
):
    plain = console._plain_listener

    def pressing_ctrl_c_after_the_first_epoch(*args):
        listener = plain(*args)

        def on_event(event):
            listener(event)
            if isinstance(event, EpochEnd) and event.epoch == 1:
                os.kill(os.getpid(), signal.SIGINT)  # what Ctrl+C sends: the run stops after this step

        return on_event

    monkeypatch.setattr(console, "_plain_listener", pressing_ctrl_c_after_the_first_epoch)
    assert main(["train", str(project_path), "--epochs", "3", "--device", "cpu"]) == 130  # as Ctrl+C ends a command
    (terminal,) = RunHistory(project_path).records
    assert terminal.status == "stopped" and terminal.epochs_done == 1
    assert f"--resume {project_path.with_name('digits_mlp.runs') / terminal.run_id / 'last.pt'}" in (
        capsys.readouterr().err
    )

    window = _open(qtbot, settings, recovery, project_path)
    set_up(window, epochs=2)
    panel = window.training
    assert panel.continue_last()  # from the terminal run's last.pt
    wait_until_done(qtbot, window)
    continued = panel.history.records[-1]
    assert continued.run_id != terminal.run_id and continued.status == "completed"
    assert [e["epoch"] for e in continued.history] == [1, 2]
    assert continued.history[0] == terminal.history[0]

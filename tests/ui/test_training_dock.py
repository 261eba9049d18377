"""The Training dock as a person uses it: set up a run, train, watch the plots fill, pause, stop, go on from
the checkpoint, close the window mid-run, read a failure; runs kept beside the project; the graph locked
while training; and the window opening without torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QThread

from netbuilder.project.run_history import MAX_RUNS, RunHistory, RunRecord, runs_folder
from netbuilder.ui.app.main_window import MainWindow
from tests.ui.conftest import SAMPLES, forget_changes, running

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("no_thread_left_running")

TIMEOUT_MS = 120_000  # the first run of a session loads torch
LEFT = Qt.MouseButton.LeftButton


def test_the_thread_check_sees_a_thread_left_running(no_thread_left_running):
    thread = QThread()
    thread.start()
    try:
        assert running(no_thread_left_running) == [thread]
    finally:
        thread.quit()
        thread.wait()
    assert running(no_thread_left_running) == []


def set_up(win: MainWindow, **values) -> None:
    """Enter settings in the form, as a person would (cpu unless told otherwise)."""
    panel = win.training
    values.setdefault("device", "cpu")
    for name, value in values.items():
        field = panel.fields[name]
        if name == "device":
            field.setCurrentIndex(field.findData(value))
        elif name == "val_fraction":
            field.setValue(value * 100)
        else:
            field.setValue(value)
    assert panel.document.project.training == replace(panel.document.project.training, **values)


class Heard:
    """What the run's worker said, in order, and how its task ended (`finished`: the RunEnd)."""

    def __init__(self, panel) -> None:
        self.worker = worker = panel.run.worker  # kept alive until the task's outcome has reached us too
        self.task = panel.run.task
        self.progress, self.epochs, self.finished, self.started = [], [], [], []
        worker.started.connect(self.started.append)
        worker.progress.connect(self.progress.append)
        worker.epoch_ended.connect(self.epochs.append)
        self.task.succeeded.connect(self.finished.append)

    @property
    def steps(self) -> int:
        return sum(len(p.losses) for p in self.progress)


def train(qtbot, win: MainWindow) -> Heard:
    panel = win.training
    assert panel.train_button.isEnabled()
    qtbot.mouseClick(panel.train_button, LEFT)
    assert panel.is_running
    return Heard(panel)


def wait_until_done(qtbot, win: MainWindow, heard: Heard | None = None) -> None:
    """Until the run has ended and its thread is joined (and `heard` has heard the end too)."""
    qtbot.waitUntil(lambda: not win.training.is_running and (heard is None or bool(heard.finished)), timeout=TIMEOUT_MS)


# ---- a run ---------------------------------------------------------------------------------------------------


def test_a_run_reports_progress_and_epochs_fills_the_plots_and_keeps_its_weights(window, qtbot, project_path):
    set_up(window, epochs=2)
    panel = window.training
    heard = train(qtbot, window)
    wait_until_done(qtbot, window, heard)

    assert len(heard.started) == 1 and heard.started[0].device == "cpu"
    steps_per_epoch = heard.started[0].steps_per_epoch
    assert heard.progress and heard.steps == 2 * steps_per_epoch
    assert [e.epoch for e in heard.epochs] == [1, 2]
    assert len(heard.finished) == 1 and heard.finished[0].status == "completed"

    counts = panel.plots.point_counts()
    assert counts["raw"] == counts["smooth"] == 2 * steps_per_epoch
    assert counts["train_loss"] == counts["val_loss"] == counts["val_metric"] == counts["lr"] == 2
    assert panel.plots.classes_page.currentWidget() is panel.plots.classes_page.content  # on the Classes tab
    assert panel.plots.confusion_matrix.sum() == sum(map(sum, heard.finished[0].confusion))
    assert panel.progress.text().startswith("done · 2 epochs")
    assert panel.outcome_text().startswith("Done: validation accuracy")
    assert not panel.banner.isVisible()
    assert panel.train_button.isEnabled() and not panel.stop_button.isEnabled()

    record = panel.history.records[-1]
    folder = runs_folder(project_path)
    assert json.loads((folder / f"{record.run_id}.json").read_text())["status"] == "completed"
    assert (folder / record.run_id / "model.pt").is_file() and (folder / record.run_id / "last.pt").is_file()


def test_the_graph_is_locked_while_training_and_unlocked_after(window, qtbot):
    set_up(window, epochs=1)
    window.scene.select_nodes([window.document.graph.by_label("fc1").id])
    assert window.view.isInteractive() and window.delete_action.isEnabled() and window.undo_action.isEnabled()
    train(qtbot, window)
    assert not window.view.isInteractive()
    assert not window.palette.isEnabled() and not window.inspector.isEnabled() and not window.problems.isEnabled()
    assert not window.delete_action.isEnabled() and not window.undo_action.isEnabled()
    assert not window.paste_action.isEnabled() and not window.auto_layout_action.isEnabled()
    assert not window.training.form.isEnabled()
    nodes = len(window.document.graph.nodes)
    window.delete_action.trigger()  # what the Delete key does
    window.undo_action.trigger()
    wait_until_done(qtbot, window)
    assert len(window.document.graph.nodes) == nodes
    assert window.view.isInteractive()
    assert window.palette.isEnabled() and window.inspector.isEnabled() and window.problems.isEnabled()
    assert window.delete_action.isEnabled() and window.undo_action.isEnabled()
    assert window.training.form.isEnabled()


def test_stop_mid_run_ends_stopped_joins_the_thread_and_continue_goes_on(
    window, qtbot, no_thread_left_running, project_path
):
    set_up(window, epochs=200)
    panel = window.training
    heard = train(qtbot, window)
    qtbot.waitUntil(lambda: bool(heard.progress), timeout=TIMEOUT_MS)
    qtbot.mouseClick(panel.stop_button, LEFT)
    wait_until_done(qtbot, window, heard)

    assert heard.finished[0].status == "stopped"
    assert running(no_thread_left_running) == []
    stopped = panel.history.records[-1]
    assert stopped.status == "stopped" and stopped.epochs_done < 200
    assert panel.outcome_text().startswith("Stopped.") and "Continue" in panel.outcome_text()
    assert panel.continue_button.isVisible() and panel.continue_button.isEnabled()
    assert (runs_folder(project_path) / stopped.checkpoint).is_file()

    # go on from the checkpoint, now for as many epochs as the stopped run had begun
    set_up(window, epochs=stopped.epochs_done + 1)
    qtbot.mouseClick(panel.continue_button, LEFT)
    assert panel.is_running
    heard = Heard(panel)
    wait_until_done(qtbot, window, heard)
    assert heard.finished[0].status == "completed"
    assert heard.started[0].global_step == stopped.global_step  # it went on, it did not start again
    steps_per_epoch = heard.started[0].steps_per_epoch
    assert heard.finished[0].global_step == (stopped.epochs_done + 1) * steps_per_epoch
    assert heard.steps == heard.finished[0].global_step - stopped.global_step
    assert not panel.continue_button.isVisible()


def test_pause_holds_the_run_and_resume_continues_it(window, qtbot):
    set_up(window, epochs=20)  # long enough that a loaded machine cannot finish it before the click lands
    panel = window.training
    heard = train(qtbot, window)
    qtbot.waitUntil(lambda: bool(heard.progress), timeout=TIMEOUT_MS)
    qtbot.mouseClick(panel.pause_button, LEFT)
    assert panel.resume_button.isVisible() and not panel.pause_button.isVisible()
    assert panel.progress.text().startswith("paused")
    qtbot.wait(300)  # a step under way may still report
    held = heard.steps
    qtbot.wait(400)
    assert heard.steps == held and not heard.finished and panel.is_running
    qtbot.mouseClick(panel.resume_button, LEFT)
    assert panel.pause_button.isVisible() and not panel.resume_button.isVisible()
    wait_until_done(qtbot, window, heard)
    assert heard.finished[0].status == "completed"
    assert [e.epoch for e in heard.epochs] == list(range(1, 21))
    assert heard.steps == 20 * heard.started[0].steps_per_epoch


def test_closing_the_window_mid_run_stops_and_joins_the_thread(
    qtbot, settings, recovery, project_path, no_thread_left_running, qtlog
):
    win = MainWindow(settings, recovery)
    win.show()
    win.open_path(project_path)
    win.training_dock.raise_()
    set_up(win, epochs=200)
    heard = train(qtbot, win)
    qtbot.waitUntil(lambda: bool(heard.progress), timeout=TIMEOUT_MS)
    forget_changes(win)
    assert win.close()
    assert running(no_thread_left_running) == []
    assert not any("Destroyed while thread" in record.message for record in qtlog.records)
    kept = RunHistory(project_path).records
    assert [r.status for r in kept] == ["stopped"]
    assert (runs_folder(project_path) / kept[0].checkpoint).is_file()


# ---- failures ----------------------------------------------------------------------------------------------


def test_a_nan_loss_ends_the_run_with_a_calm_message(window, qtbot, monkeypatch):
    from netbuilder.training import engine

    real = engine.load_program

    def poisoned_program(project):
        program = real(project)
        compute_loss = program.script.compute_loss
        calls = []

        def poisoned(criterion, output, batch_x, batch_y):
            calls.append(1)
            loss = compute_loss(criterion, output, batch_x, batch_y)
            return loss * float("nan") if len(calls) == 7 else loss

        program.script.compute_loss = poisoned
        return program

    monkeypatch.setattr(engine, "load_program", poisoned_program)
    set_up(window, epochs=1)
    panel = window.training
    heard = train(qtbot, window)
    wait_until_done(qtbot, window, heard)
    assert heard.finished[0].status == "failed"
    assert panel.banner.isVisible()
    text = panel.outcome_text()
    assert text.startswith("The loss became nan at step 7") and "lower the learning rate" in text
    assert panel.progress.text() == "did not finish"
    assert panel.history.records[-1].status == "failed"
    assert window.view.isInteractive() and panel.train_button.isEnabled()


def test_an_exception_in_forward_names_the_node_and_says_what_to_do(window, qtbot, monkeypatch):
    from netbuilder.training.program import Program

    new_model = Program.new_model

    def broken_model(self):
        model = new_model(self)

        def broken(x):
            raise RuntimeError("something inside went wrong")

        model.fc2.forward = broken
        return model

    monkeypatch.setattr(Program, "new_model", broken_model)
    set_up(window, epochs=1)
    train(qtbot, window)
    wait_until_done(qtbot, window)
    text = window.training.outcome_text()
    assert text.startswith("Fc2 (Linear) failed: RuntimeError: something inside went wrong")
    assert "Check that block's settings in the inspector" in text


def test_a_graph_with_problems_cannot_start_and_says_why(window, qtbot):
    fc2 = window.document.graph.by_label("fc2").id
    window.controller.set_param(fc2, "out_features", 3)  # 10 digit classes into 3 outputs
    qtbot.waitUntil(lambda: not window.training.train_button.isEnabled())
    assert "Fix the problems first" in window.training.train_button.toolTip()
    assert window.training.start() is False and not window.training.is_running


# ---- settings ------------------------------------------------------------------------------------------------


def test_a_settings_edit_is_an_undoable_step_that_marks_the_project_modified(window, qtbot):
    panel = window.training
    assert not window.isWindowModified()
    panel.fields["epochs"].setValue(5)
    assert window.document.project.training.epochs == 5
    assert window.isWindowModified()
    assert window.undo_action.text() == "&Undo Set epochs to 5"
    window.bottom_tabs.setCurrentWidget(window.code)
    window.code.set_current_file("train.py")
    assert '"--epochs", type=int, default=5,' in window.code.code_text()
    window.undo_action.trigger()
    assert window.document.project.training.epochs == 20 and panel.fields["epochs"].value() == 20
    assert not window.isWindowModified()


def test_the_device_list_says_auto_cpu_and_cuda_only_where_there_is_a_gpu(window, qtbot):
    import torch

    panel = window.training
    qtbot.waitUntil(lambda: panel.cuda_names is not None, timeout=TIMEOUT_MS)
    combo = panel.fields["device"]
    items = [combo.itemText(i) for i in range(combo.count())]
    expected = ["auto", "cpu"]
    if torch.cuda.is_available():
        expected.append(f"cuda: {torch.cuda.get_device_name(0)}")
    assert items == expected


# ---- starting weights ----------------------------------------------------------------------------------------


def open_with_starting_weights(win: MainWindow, qtbot, project_path: Path) -> Path:
    """The digits MLP with starting weights beside it, as an import with --weights leaves them: fc1's fit, fc2's
    have another shape (a head for other classes)."""
    import torch
    from safetensors.torch import save_file

    from netbuilder.project import load_project, save_project

    project = load_project(project_path)
    fc1, fc2 = project.graph.by_label("fc1").id, project.graph.by_label("fc2").id
    weights = project_path.with_name("digits_mlp.weights.safetensors")
    tensors = {
        f"{fc1}.weight": torch.ones(64, 64),
        f"{fc1}.bias": torch.ones(64),
        f"{fc2}.weight": torch.ones(5, 64),
        f"{fc2}.bias": torch.ones(5),
    }
    save_file(tensors, weights)
    project.weights = weights
    save_project(project)
    assert win.open_path(project_path)
    win.training_dock.raise_()
    qtbot.waitExposed(win.training)
    return weights


def test_a_run_says_which_starting_weights_it_loaded_and_a_continued_run_goes_on_from_its_checkpoint(
    window, qtbot, project_path
):
    open_with_starting_weights(window, qtbot, project_path)
    panel = window.training
    assert panel.starting_row.isVisible()
    assert panel.starting_label.text() == "Starts from digits_mlp.weights.safetensors"
    set_up(window, epochs=200)
    heard = train(qtbot, window)
    qtbot.waitUntil(lambda: panel.run is not None and panel.run.start is not None, timeout=TIMEOUT_MS)
    note = "starts from digits_mlp.weights.safetensors: 2 tensors in 1 layers; from the seed: fc2 (new shape)"
    assert heard.started[0].starting == note
    assert panel.starting_label.text() == "S" + note[1:]
    assert not panel.forget_button.isEnabled()  # the run's weights are settled
    qtbot.mouseClick(panel.stop_button, LEFT)
    wait_until_done(qtbot, window, heard)
    assert panel.starting_label.text() == "Starts from digits_mlp.weights.safetensors"
    assert panel.forget_button.isEnabled()

    set_up(window, epochs=panel.history.records[-1].epochs_done + 1)
    qtbot.mouseClick(panel.continue_button, LEFT)
    heard = Heard(panel)
    wait_until_done(qtbot, window, heard)
    assert heard.started[0].starting == ""  # it went on from the checkpoint, not from the starting weights


def test_forget_trains_from_the_seed_again_undoably(window, qtbot, project_path):
    weights = open_with_starting_weights(window, qtbot, project_path)
    panel = window.training
    window.bottom_tabs.setCurrentWidget(window.code)
    window.code.set_current_file("train.py")
    assert "load_file(STARTING_WEIGHTS)" in window.code.code_text()
    assert not window.isWindowModified()

    qtbot.mouseClick(panel.forget_button, LEFT)
    assert window.document.project.weights is None
    assert not panel.starting_row.isVisibleTo(panel)
    assert window.isWindowModified() and window.undo_action.text() == "&Undo Forget the starting weights"
    qtbot.waitUntil(lambda: "STARTING_WEIGHTS" not in window.code.code_text())

    window.undo_action.trigger()
    assert window.document.project.weights == weights and panel.starting_row.isVisibleTo(panel)
    assert not window.isWindowModified()
    qtbot.waitUntil(lambda: "load_file(STARTING_WEIGHTS)" in window.code.code_text())

    window.redo_action.trigger()
    window.save_action.trigger()
    assert "weights" not in json.loads(project_path.read_text())
    assert weights.is_file()  # the file stays: Undo can bring it back


# ---- run history -------------------------------------------------------------------------------------------


def test_runs_are_kept_beside_the_project_and_read_back_when_it_opens(window, qtbot, project_path):
    set_up(window, epochs=1)
    train(qtbot, window)
    wait_until_done(qtbot, window)
    first = window.training.history.records[-1]
    forget_changes(window)
    assert window.open_path(project_path)  # opened again: a new panel reads the runs folder
    window.training_dock.raise_()
    panel = window.training
    qtbot.waitUntil(lambda: panel.plots is not None)  # made when the tab first shows
    assert [r.run_id for r in panel.history.records] == [first.run_id]
    again = panel.history.records[0]
    assert again.status == "completed" and again.history[0]["epoch"] == 1
    assert again.final["val_accuracy"] == pytest.approx(first.final["val_accuracy"])
    assert len(panel.plots.past_items["val_loss"][0].xData) == 1  # drawn faintly behind the next run
    assert len(panel.plots.past_items["step"][0].xData) > 1
    assert "Last run" in panel.outcome_text()


def record(run_id: str, **changes) -> RunRecord:
    return RunRecord(run_id, "completed", history=[{"epoch": 1, "train_loss": 0.5, "val_loss": None}], **changes)


def test_a_project_never_saved_keeps_its_runs_in_memory_until_it_is(tmp_path):
    history = RunHistory(None)
    history.add(record("2025-01-01_10-00-00"))
    assert history.folder is None and not list(tmp_path.iterdir())
    history.set_project_path(tmp_path / "net.nbproj")
    assert [r.run_id for r in RunHistory(tmp_path / "net.nbproj").records] == ["2025-01-01_10-00-00"]
    read = RunHistory(tmp_path / "net.nbproj").records[0]
    assert read.history[0]["val_loss"] is None  # no validation: null in JSON, None again


def test_only_the_last_runs_are_kept(tmp_path):
    history = RunHistory(tmp_path / "net.nbproj")
    for i in range(MAX_RUNS + 2):
        run_id = f"2025-01-01_10-{i // 60:02}-{i % 60:02}"
        (runs_folder(tmp_path / "net.nbproj") / run_id).mkdir(parents=True)
        history.add(record(run_id, weights=f"{run_id}/model.pt"))
    folder = runs_folder(tmp_path / "net.nbproj")
    assert len(RunHistory(tmp_path / "net.nbproj").records) == MAX_RUNS
    assert not (folder / "2025-01-01_10-00-00.json").exists() and not (folder / "2025-01-01_10-00-00").exists()
    assert (folder / "2025-01-01_10-00-02.json").is_file()


def test_a_damaged_run_file_is_skipped_and_paths_cannot_leave_the_folder(tmp_path):
    folder = runs_folder(tmp_path / "net.nbproj")
    folder.mkdir()
    (folder / "2025-01-01_10-00-00.json").write_text("{not json")
    good = record("2025-01-01_10-00-01", weights="../../etc/passwd").to_dict()
    (folder / "2025-01-01_10-00-01.json").write_text(json.dumps(good))
    records = RunHistory(tmp_path / "net.nbproj").records
    assert [r.run_id for r in records] == ["2025-01-01_10-00-01"] and records[0].weights is None


# ---- startup -----------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_opening_the_window_with_a_project_does_not_load_torch(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from PySide6.QtCore import QSettings
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from netbuilder.ui.app.main_window import MainWindow
        from netbuilder.project.recovery import Recovery
        settings = QSettings({str(tmp_path / "settings.ini")!r}, QSettings.Format.IniFormat)
        window = MainWindow(settings, Recovery(Path({str(tmp_path / "recovery")!r})))
        window.show()
        assert window.open_path(Path({str(SAMPLES / "digits_mlp.nbproj")!r}))
        for _ in range(50):
            app.processEvents()
        print(sorted(m for m in ("torch", "netbuilder.training.engine", "pyqtgraph") if m in sys.modules))
        window.close()
        """
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"

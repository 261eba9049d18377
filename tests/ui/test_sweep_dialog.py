"""The sweep dialog as a person uses it: Training > Sweep…, rows of what to sweep (written as `netbuilder sweep
--set` takes them, and making the plan the sweep API makes), the live line and its errors, Start with a short
sweep that adds its runs to the Training dock's history, Stop, Train off while a sweep runs and the sweep off
while a run goes, and the rows remembered per project."""

from __future__ import annotations

import pytest

from netbuilder.project.sweep_plan import Axis, SweepPlan
from netbuilder.ui.app.main_window import MainWindow
from netbuilder.ui.training.sweep_dialog import SweepDialog
from tests.ui.conftest import forget_changes

pytestmark = pytest.mark.usefixtures("no_thread_left_running")

TIMEOUT_MS = 120_000  # the first run of a session loads torch


def open_sweep(window: MainWindow) -> SweepDialog:
    window.sweep_action.trigger()
    dialog = window.sweep_dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def fill(dialog: SweepDialog, *rows: tuple[str, str, str]) -> None:
    """Rows as a person fills them: (target, kind as the row names it, values or "low:high:count")."""
    while len(dialog.rows) < len(rows):
        dialog.add_button.click()
    for row, (target, kind, values) in zip(dialog.rows, rows, strict=True):
        row.target_box.setCurrentIndex(row.target_box.findData(target))
        row.kind_box.setCurrentIndex(row.kind_box.findText(kind))
        if kind == "list":
            row.values_field.setText(values)
        else:
            low, high, count = values.split(":")
            row.low_field.setText(low)
            row.high_field.setText(high)
            row.count_field.setValue(int(count))


def test_the_rows_write_the_command_lines_axes_and_make_the_apis_plan(window) -> None:
    dialog = open_sweep(window)
    assert [row.target() for row in dialog.rows] == ["optimizer.lr"]  # a learning rate to start from
    fill(dialog, ("optimizer.lr", "log range", "1e-4:1e-1:4"), ("fc1.out_features", "list", "64, 128"))
    assert [row.text() for row in dialog.rows] == ["optimizer.lr=1e-4:1e-1:log:4", "fc1.out_features=64,128"]
    dialog.epochs_field.setValue(2)
    assert dialog.plan() == SweepPlan(
        (Axis.parse("optimizer.lr=1e-4:1e-1:log:4"), Axis.parse("fc1.out_features=64,128")),
        epochs=2,
        metric="val_accuracy",
    )
    assert dialog.plan_line.text() == "8 runs of 2 epochs, one after another."
    assert dialog.command_line.text() == (
        "netbuilder sweep digits_mlp.nbproj --set optimizer.lr=1e-4:1e-1:log:4 --set fc1.out_features=64,128 "
        "--epochs 2 --metric val_accuracy"
    )
    assert dialog.start_button.isEnabled()
    dialog.halving_box.setChecked(True)
    assert dialog.plan_line.text() == ("8 runs, halving: all 8 for 1 epoch, the better 4 on to 2 (by val accuracy).")
    assert dialog.command_line.text().endswith("--epochs 2 --halving --metric val_accuracy")
    forget_changes(window)


def test_runs_at_once_are_offered_where_the_project_trains_on_a_gpu_that_is_here(window) -> None:
    dialog = open_sweep(window)
    fill(dialog, ("optimizer.lr", "list", "0.1, 0.01, 0.001"))
    dialog.epochs_field.setValue(2)
    dialog.at_once_field.setValue(3)
    panel = dialog.panel
    if not panel.cuda_names:  # no GPU here: one at a time, and the field says why
        assert not dialog.at_once_field.isEnabled()
        assert dialog.at_once_field.toolTip().startswith("Several runs at once need a CUDA GPU")
        assert dialog.plan_line.text() == "3 runs of 2 epochs, one after another."
        assert "--parallel" not in dialog.command_line.text()
        panel.cuda_names = ["the GPU the probe would have found"]  # the form's side of a GPU being here
    assert window.controller.set_setting("device", "cuda")
    dialog.refresh()
    fill(dialog, ("optimizer.lr", "list", "0.1, 0.01, 0.001"))
    dialog.at_once_field.setValue(3)
    assert dialog.at_once_field.isEnabled() and dialog.runs_at_once() == 3
    assert dialog.plan_line.text() == "3 runs of 2 epochs, 3 at once."
    assert dialog.command_line.text().endswith("--epochs 2 --metric val_accuracy --parallel 3")
    forget_changes(window)


def test_a_wrong_row_says_what_to_write_and_start_waits(window) -> None:
    dialog = open_sweep(window)
    fill(dialog, ("optimizer.lr", "log range", "0:1:4"))
    assert dialog.plan_line.text().startswith("optimizer.lr: a log range needs a low end above 0")  # as typed
    assert not dialog.start_button.isEnabled()
    dialog.rows[0].target_box.setEditText("fc1.out_featres")
    dialog.rows[0].kind_box.setCurrentIndex(0)
    dialog.rows[0].values_field.setText("64")
    assert "did you mean fc1.out_features" in dialog.plan_line.text()
    fill(dialog, ("fc1.out_features", "list", "64"))
    dialog.search_box.setCurrentText("random")
    assert "A random search needs a budget" in dialog.plan_line.text()
    dialog.budget_field.setValue(3)
    assert dialog.plan_line.text() == "1 run of 20 epochs, one after another."  # a list of one value
    assert dialog.start_button.isEnabled()


def test_a_choice_parameter_takes_a_list_of_words_only(window) -> None:
    dialog = open_sweep(window)
    row = dialog.rows[0]
    row.target_box.setCurrentIndex(row.target_box.findData("fc1.bias"))
    assert row.text() == "fc1.bias=true,false"
    model = row.kind_box.model()
    assert [model.item(i).isEnabled() for i in range(row.kind_box.count())] == [True, False, False, False, False]


def test_an_unsaved_project_is_asked_to_be_saved_first(qtbot, settings, recovery) -> None:
    win = MainWindow(settings, recovery)
    qtbot.addWidget(win, before_close_func=forget_changes)
    win.show()
    win.new_action.trigger()
    dialog = open_sweep(win)
    assert not dialog.start_button.isEnabled()
    assert dialog.status_line.text().startswith("Save the project first")


def test_a_short_sweep_adds_its_runs_to_the_history_marks_the_best_and_draws_them(window, qtbot) -> None:
    panel = window.training
    before = len(panel.history.records)
    dialog = open_sweep(window)
    fill(dialog, ("optimizer.lr", "list", "0.001,0.01"))
    dialog.epochs_field.setValue(1)
    heard = []  # on each runs_changed: the runs in the history and whether the sweep was still going on
    panel.runs_changed.connect(lambda: heard.append((len(panel.history.records), dialog.is_running)))
    dialog.start_button.click()
    assert dialog.is_running and not panel.train_button.isEnabled()
    assert panel.train_button.toolTip().startswith("A sweep is training")
    window.controller.undo_stack.indexChanged.emit(0)  # the dock shows its settings again (an undo, say)
    assert panel.metrics_label.text().startswith("A sweep is training")  # not "Press Train to …"
    assert not dialog.start_button.isEnabled() and dialog.stop_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.is_running, timeout=TIMEOUT_MS)
    records = panel.history.records[before:]
    assert [r.sweep["values"] for r in records] == [{"optimizer.lr": 0.001}, {"optimizer.lr": 0.01}]
    assert all(r.status == "completed" and r.epochs_done == 1 for r in records)
    # each run shown as it ended, while the sweep went on (the history is written on the sweep's thread, so the
    # second run may have joined it before the first one's signal is handled), then once more at the end
    while_running = [n for n, running in heard if running]
    assert len(while_running) == 2 and while_running[0] >= before + 1 and while_running[-1] == before + 2
    assert heard[-1] == (before + 2, False)
    assert dialog.results.topLevelItemCount() == 2
    best = [r for r in records if r.sweep.get("best")]
    assert len(best) == 1 and dialog.plot.best.run_id == best[0].run_id
    starred = [dialog.results.topLevelItem(i).text(0) for i in range(2)]
    assert starred[0].startswith("★") and not starred[1].startswith("★")  # the best first once it has ended
    assert dialog.status_line.text().startswith("Done: 2 runs")
    assert panel.train_button.isEnabled() and panel.metrics_label.text().startswith("Last run")
    dialog.close()
    window.sweep_action.trigger()  # opened again: the last sweep's runs, from the history
    assert dialog.isVisible() and dialog.results.topLevelItemCount() == 2 and len(dialog.plot.drawn) == 2
    forget_changes(window)


def test_stop_ends_the_sweep_after_the_current_step_and_starts_no_more(window, qtbot) -> None:
    panel = window.training
    before = len(panel.history.records)
    dialog = open_sweep(window)
    fill(dialog, ("optimizer.lr", "list", "0.001,0.01,0.1"))
    dialog.epochs_field.setValue(50)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=TIMEOUT_MS)
    dialog.stop_button.click()
    qtbot.waitUntil(lambda: not dialog.is_running, timeout=TIMEOUT_MS)
    records = panel.history.records[before:]
    assert len(records) == 1 and records[0].status == "stopped"
    assert dialog.status_line.text().startswith("Stopped: 1 run")
    assert panel.train_button.isEnabled()
    forget_changes(window)


def test_a_sweep_waits_while_a_run_trains(window, qtbot) -> None:
    dialog = open_sweep(window)
    window.training.fields["epochs"].setValue(50)
    window.training.train_button.click()
    assert window.training.is_running
    assert not dialog.start_button.isEnabled()
    assert dialog.status_line.text().startswith("A run is training")
    window.training.stop()
    qtbot.waitUntil(lambda: not window.training.is_running, timeout=TIMEOUT_MS)
    assert dialog.start_button.isEnabled()
    forget_changes(window)


def test_closing_the_window_mid_sweep_stops_and_joins_it(window, qtbot) -> None:
    dialog = open_sweep(window)
    fill(dialog, ("optimizer.lr", "list", "0.001,0.01"))
    dialog.epochs_field.setValue(50)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=TIMEOUT_MS)
    forget_changes(window)
    window.close()
    assert window.sweep_dialog is None  # shut down, its thread joined (the fixture checks no thread is left)


def test_the_last_sweeps_rows_come_back_when_the_dialog_opens_again(window, settings) -> None:
    dialog = open_sweep(window)
    fill(dialog, ("optimizer.lr", "log random", "1e-4:1e-2:5"), ("batch_size", "list", "32,64"))
    dialog.halving_box.setChecked(True)
    dialog.close()
    again = SweepDialog(window.training, settings, window)
    assert [row.text() for row in again.rows] == ["optimizer.lr=0.0001:0.01:lograndom:5", "batch_size=32,64"]
    assert again.halving_box.isChecked()
    again.deleteLater()


def test_the_sweep_action_is_in_the_training_menu(window) -> None:
    assert window.sweep_action in window.training_menu.actions()
    assert window.sweep_action.isEnabled()
    assert window.sweep_action.text().replace("&", "") == "Sweep…"

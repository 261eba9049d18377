"""The Compress dialog as a person uses it: offered once a run kept its weights (Training > Compress… and the
Runs view's menu); Run with magnitude pruning and weight-int8 writes the networks and the table beside the
project and shows the report's rows, the float network first; channel pruning's new project version opens as a
document; Stop ends before the next step; Esc does not close it while it runs; Ctrl+Enter runs only a plan;
an accuracy more than 2 points down is coloured; a folder that cannot be written is said in one line."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from netbuilder.ui.training.compress_dialog import CompressDialog
from tests.ui.test_training_dock import set_up, train, wait_until_done

pytestmark = pytest.mark.usefixtures("no_thread_left_running")

TIMEOUT_MS = 120_000  # the first test of a session loads torch
LEFT = Qt.MouseButton.LeftButton


def trained(qtbot, win) -> None:
    set_up(win, epochs=1)
    heard = train(qtbot, win)
    wait_until_done(qtbot, win, heard)


def open_dialog(qtbot, win) -> CompressDialog:
    """Training > Compress…, as the menu would trigger it."""
    win._update_actions()
    assert win.compress_action.isEnabled()
    win.compress_action.trigger()
    dialog = win.compress_dialog
    qtbot.waitExposed(dialog)
    return dialog


def click(qtbot, box) -> None:
    """A click on a check box's box."""
    qtbot.mouseClick(box, LEFT, pos=QPoint(8, box.height() // 2))


def wait_done(qtbot, dialog: CompressDialog) -> None:
    qtbot.waitUntil(lambda: not dialog.running, timeout=TIMEOUT_MS)


def test_before_any_run_compress_is_not_offered(window):
    window._update_actions()
    assert not window.compress_action.isEnabled()
    assert "Train the network first" in window.compress_action.statusTip()


def test_magnitude_pruning_and_weight_int8_write_the_networks_and_show_the_reports_rows(qtbot, window, project_path):
    from netbuilder.training.compression.report import report_rows

    trained(qtbot, window)
    dialog = open_dialog(qtbot, window)
    form = dialog.form
    assert form.folder == project_path.with_name("digits_mlp-compressed")
    assert not dialog.run_button.isEnabled()  # nothing chosen yet
    assert dialog.run_button.toolTip().startswith("Choose what to do")
    click(qtbot, form.magnitude_box)
    assert form.magnitude_box.isChecked() and form.sparsity_field.isEnabled()
    click(qtbot, form.quantization_boxes["weight-int8"])
    assert form.plan_arguments()["sparsity"] == 0.5
    assert form.plan_arguments()["quantizations"] == ("weight-int8",)
    qtbot.mouseClick(dialog.run_button, LEFT)
    assert dialog.running and not dialog.form.magnitude_box.isEnabled()
    assert dialog.stop_button.isEnabled()
    wait_done(qtbot, dialog)

    report = dialog.report
    assert report is not None, dialog.words.text()
    assert [row.name for row in report.rows] == ["float", "pruned: magnitude 50% (global)", "weight-int8"]
    header, cells = report_rows(report.rows)
    table = dialog.table
    assert [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())] == header
    shown = [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]
    assert shown == cells and shown[0][0] == "float"
    assert (form.folder / "compression.md").is_file() and (form.folder / "compression.json").is_file()
    assert "3 networks measured" in dialog.words.text() and dialog.progress.format().startswith("done")
    assert not dialog.open_button.isEnabled()  # no channel pruning: no new project version
    assert dialog.folder_button.isEnabled() and dialog.run_button.isEnabled()


def test_stop_ends_before_the_next_step(qtbot, window):
    trained(qtbot, window)
    dialog = open_dialog(qtbot, window)
    click(qtbot, dialog.form.magnitude_box)
    dialog.form.fine_tune_field.setValue(3)
    qtbot.mouseClick(dialog.run_button, LEFT)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.isVisible()  # Esc does not close it while it runs
    qtbot.mouseClick(dialog.stop_button, LEFT)
    assert not dialog.stop_button.isEnabled()
    wait_done(qtbot, dialog)
    assert [row.name for row in dialog.report.rows] == ["float", "pruned: magnitude 50% (global)"]  # no fine-tune
    assert dialog.progress.format().startswith("stopped")
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_ctrl_enter_runs_only_a_plan(qtbot, window, tmp_path):
    trained(qtbot, window)
    dialog = open_dialog(qtbot, window)
    qtbot.keyClick(dialog, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert not dialog.running  # nothing chosen
    click(qtbot, dialog.form.quantization_boxes["weight-int8"])
    dialog.form.folder_field.clear()
    assert dialog.form.why_not() == "Give a folder to write into" and not dialog.run_button.isEnabled()
    qtbot.keyClick(dialog, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert not dialog.running
    click(qtbot, dialog.form.quantization_boxes["weight-int8"])
    click(qtbot, dialog.form.magnitude_box)
    qtbot.keyClicks(dialog.form.folder_field, str(tmp_path / "small"))
    qtbot.keyClick(dialog.form.folder_field, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert dialog.running
    wait_done(qtbot, dialog)
    assert (tmp_path / "small" / "compression.md").is_file()


def test_the_runs_view_offers_compress_for_the_selected_run(qtbot, window):
    trained(qtbot, window)
    window.show_runs()
    runs = window.runs
    runs.table.selectRow(0)
    assert runs.compress_action.isEnabled()
    runs.compress_action.trigger()
    dialog = runs.compress_dialog
    qtbot.waitExposed(dialog)
    assert dialog.weights == runs.history.file_path(runs.history.records[-1], runs.history.records[-1].weights)
    assert dialog.project.path == window.document.path
    dialog.close()


def test_channel_pruning_opens_the_pruned_network_as_a_new_document(qtbot, window, project_path):
    trained(qtbot, window)
    dialog = open_dialog(qtbot, window)
    click(qtbot, dialog.form.channels_box)
    assert dialog.form.plan_arguments()["macs_fraction"] == 0.5
    qtbot.mouseClick(dialog.run_button, LEFT)
    wait_done(qtbot, dialog)
    report = dialog.report
    assert report is not None, dialog.words.text()
    assert report.project_file is not None and report.project_file.parent == dialog.form.folder
    assert dialog.open_button.isEnabled()
    window.save_action.trigger()  # the run's epochs were set in the form: saved, nothing is asked
    before = window.document
    qtbot.mouseClick(dialog.open_button, LEFT)
    assert window.document is not before
    pruned = window.document.project
    widths = {node.label: node.params.get("out_features") for node in pruned.graph.nodes.values()}
    original = {node.label: node.params.get("out_features") for node in before.project.graph.nodes.values()}
    assert any(widths[label] < original[label] for label in widths if isinstance(original.get(label), int))


def test_an_accuracy_more_than_two_points_below_the_float_networks_is_coloured(qtbot, window, project_path):
    from netbuilder.training.compression.measure import Measurement
    from netbuilder.ui.training.sample_painting import wrong_colour

    dialog = CompressDialog(window.document.project, None, project_path.with_name("model.pt"))
    qtbot.addWidget(dialog)
    rows = [
        Measurement("float", None, 0, 0, 10, 10, {}, {"accuracy": 0.90}),
        Measurement("close", None, 0, 0, 10, 5, {}, {"accuracy": 0.885}, 0.99),
        Measurement("worse", None, 0, 0, 10, 5, {}, {"accuracy": 0.87}, 0.95),
    ]
    dialog._show_table(rows)
    column = [dialog.table.horizontalHeaderItem(c).text() for c in range(dialog.table.columnCount())].index("accuracy")
    red = wrong_colour(dialog.palette())
    colours = [dialog.table.item(r, column).foreground().color() for r in range(3)]
    assert colours[2] == red and red not in colours[:2]
    assert dialog.table.item(2, column).text() == "87.0% (-3.0 pt)"


def test_a_folder_that_cannot_be_written_is_said_in_one_line_with_what_to_do(qtbot, window, tmp_path):
    trained(qtbot, window)
    dialog = open_dialog(qtbot, window)
    taken = tmp_path / "a file"
    taken.write_text("not a folder")
    dialog.form.folder_field.setText(str(taken))
    click(qtbot, dialog.form.magnitude_box)
    qtbot.mouseClick(dialog.run_button, LEFT)
    wait_done(qtbot, dialog)
    assert dialog.report is None and dialog.progress.format() == "failed"
    words = dialog.words.text()
    assert words.startswith(f"Cannot write into {taken}: ") and words.endswith("Choose another folder.")
    assert "\n" not in words and dialog.run_button.isEnabled()

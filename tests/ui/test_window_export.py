"""File > Export in the window: the dialog's choice, the formats written beside the package on a thread, the
diagrams drawn from the canvas at once, the last run's weights, failures named by node, and no thread left
running when the window closes."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import pytest
import torch
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QMessageBox
from safetensors.torch import load_file, save_file

from netbuilder.project import Project, load_project, save_project
from netbuilder.project.run_history import RunRecord
from netbuilder.training.engine import Trainer, with_settings
from netbuilder.ui.import_export import format_exporter
from netbuilder.ui.import_export.export_dialog import ExportChoice
from netbuilder.ui.import_export.format_exporter import FormatExporter
from netbuilder.ui.theme import DARK
from tests.ui.conftest import SAMPLES

pytestmark = pytest.mark.usefixtures("no_thread_left_running")

ALL_FILES = {"model.ts", "model.onnx", "model.safetensors", "summary.md"}


def export_through_dialog(qtbot, window, folder, formats, *, with_weights=False):
    """Open File > Export, fill the folder, tick exactly `formats`, press Export and wait for the formats."""
    window.export_action.trigger()
    dialog = window.export_dialog_box
    assert dialog is not None and dialog.isVisible()
    dialog.folder.setText(str(folder))
    for name, box in dialog.format_boxes.items():
        box.setChecked(name in formats)
    dialog.with_weights.setChecked(with_weights)
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: not window.exporter.running, timeout=60_000)


def test_exporting_the_cnn_with_all_formats_writes_them_beside_the_package(qtbot, window, tmp_path):
    path = tmp_path / "digits_cnn.nbproj"
    shutil.copy(SAMPLES / "digits_cnn.nbproj", path)
    assert window.open_path(path)
    out = tmp_path / "out"
    export_through_dialog(qtbot, window, out, {"torchscript", "onnx", "safetensors", "summary"})
    written = {p.name for p in out.iterdir()}
    assert ALL_FILES | {"model.py", "train.py", "predict.py"} <= written
    assert "model.onnx" in window.statusBar().currentMessage()
    assert not window.import_report.isVisible()  # nothing failed, nothing to report
    assert "model.pt" in (out / "predict.py").read_text()  # seed-initialised weights: predict.py loads train.py's


def test_the_dialog_remembers_the_formats_and_offers_no_weights_without_a_run(qtbot, window, tmp_path):
    export_through_dialog(qtbot, window, tmp_path / "a", {"summary"})
    assert (tmp_path / "a" / "summary.md").is_file() and not (tmp_path / "a" / "model.onnx").exists()
    window.export_action.trigger()
    dialog = window.export_dialog_box
    assert [name for name, box in dialog.format_boxes.items() if box.isChecked()] == ["summary"]
    assert not dialog.with_weights.isEnabled()
    dialog.folder.setText("")
    assert not dialog.ok_button.isEnabled()  # no folder, no export
    dialog.reject()


def test_the_last_runs_weights_go_into_model_safetensors(qtbot, window, project_path, tmp_path):
    history = window.training.history
    run_id = history.new_id()
    trainer = Trainer(with_settings(load_project(project_path), device="cpu", epochs=1))
    trainer.run()
    trainer.save_weights(history.run_dir(run_id) / "model.pt")
    history.add(RunRecord(run_id, "finished", epochs_done=1, weights=f"{run_id}/model.pt"))

    out = tmp_path / "out"
    export_through_dialog(qtbot, window, out, {"safetensors", "pt2"}, with_weights=True)
    # the model file was run in its consumer on the validation split, as netbuilder export --weights does
    assert window.import_report.isVisible()
    assert "model.pt2: 100.0% of 359 validation predictions agree with torch" in window.import_report.text
    trained = torch.load(history.run_dir(run_id) / "model.pt", weights_only=True)
    exported = load_file(out / "model.safetensors")
    assert exported.keys() == trained.keys()
    assert all(torch.equal(exported[name], trained[name]) for name in trained)
    assert "model.safetensors" in (out / "predict.py").read_text()  # the package predicts with those weights


def test_a_failing_format_is_named_by_node_and_the_others_are_written(qtbot, window, tmp_path, monkeypatch):
    project = Project.new("odd pool")
    image = project.graph.add_node("Input", label="image", params={"shape": [3, 8, 8]}).id
    pool = project.graph.add_node("AdaptiveMaxPool2d", label="odd pool", params={"output_size": [3]}, position=(100, 0))
    project.graph.connect(image, "x", pool.id, "x")
    assert window.open_path(save_project(project, tmp_path / "odd.nbproj"))
    told = []
    monkeypatch.setattr(QMessageBox, "information", lambda *args: told.append(args[2]))  # train.py is skipped

    out = tmp_path / "out"
    export_through_dialog(qtbot, window, out, {"onnx", "torchscript", "summary"})
    assert told and "train.py was not written" in told[0]
    assert {"model.ts", "summary.md", "model.py"} <= {p.name for p in out.iterdir()}
    assert not (out / "model.onnx").exists()
    assert window.import_report.isVisible()
    assert "ONNX: odd pool (AdaptiveMaxPool2d)" in window.import_report.text
    assert "model.ts" in window.statusBar().currentMessage()


def test_the_diagram_boxes_draw_the_canvas_beside_the_package_and_are_remembered(qtbot, window, tmp_path):
    window.set_theme("dark")
    out = tmp_path / "out"
    export_through_dialog(qtbot, window, out, {"svg", "png"})
    assert {"model.py", "train.py", "diagram.svg", "diagram.png"} <= {p.name for p in out.iterdir()}
    assert not window.exporter.running  # nothing was left for the thread: the diagrams are drawn at once
    message = window.statusBar().currentMessage()
    assert "model.py" in message and "diagram.svg" in message and "diagram.png" in message
    svg_text = " ".join(ET.parse(out / "diagram.svg").getroot().itertext())
    assert all(node.label in svg_text for node in window.document.graph.nodes.values())
    image = QImage(str(out / "diagram.png"))
    assert image.pixelColor(2, 2).rgb() == DARK.background.rgb()  # the window's theme, not the command line's
    assert not window.import_report.isVisible()

    window.export_action.trigger()
    dialog = window.export_dialog_box
    assert [name for name, box in dialog.format_boxes.items() if box.isChecked()] == ["svg", "png"]
    assert dialog.format_boxes["png"].text() == "Diagram as PNG (diagram.png)"
    dialog.reject()


def test_a_diagram_that_fails_is_in_the_banner_with_the_formats_and_the_rest_is_written(qtbot, window, tmp_path):
    out = tmp_path / "out"
    (out / "diagram.png").mkdir(parents=True)  # a folder where the PNG should go
    export_through_dialog(qtbot, window, out, {"summary", "svg", "png"})
    assert window.import_report.isVisible()
    assert "Diagram (PNG): cannot write" in window.import_report.text
    message = window.statusBar().currentMessage()
    assert "summary.md" in message and "diagram.svg" in message and "diagram.png" not in message
    assert (out / "summary.md").is_file() and (out / "diagram.svg").is_file()


def test_closing_the_window_mid_export_joins_the_thread(qtbot, window, tmp_path):
    assert window.export_to(tmp_path / "out", ("onnx", "torchscript"))
    assert window.exporter.running
    window.close()
    assert not window.exporter.running  # joined by closeEvent; no_thread_left_running checks the thread itself


# ---- starting weights ---------------------------------------------------------------------------------------


def with_starting_weights(window, project_path):
    """The digits MLP given starting weights, as an import with --weights leaves them: fc1's fit, fc2's are of
    another shape (a head with other classes), so fc2 starts from the seed. Returns fc1's tensors."""
    generator = torch.Generator().manual_seed(3)
    fc1 = {"weight": torch.randn(64, 64, generator=generator), "bias": torch.randn(64, generator=generator)}
    project = load_project(project_path)
    ids = {node.label: node.id for node in project.graph.nodes.values()}
    weights = project_path.with_name("digits_mlp.weights.safetensors")
    save_file(
        {
            **{f"{ids['fc1']}.{name}": tensor for name, tensor in fc1.items()},
            f"{ids['fc2']}.weight": torch.zeros(5, 64),
            f"{ids['fc2']}.bias": torch.zeros(5),
        },
        weights,
    )
    project.weights = weights
    save_project(project)
    assert window.open_path(project_path)
    return fc1


def test_the_package_gets_the_starting_weights_and_a_train_py_that_loads_them(qtbot, window, project_path, tmp_path):
    fc1 = with_starting_weights(window, project_path)
    out = tmp_path / "out"
    export_through_dialog(qtbot, window, out, set())  # no format ticked: the weights still go with train.py
    starting = load_file(out / "starting_weights.safetensors")
    assert starting.keys() == {"fc1.weight", "fc1.bias"}  # fc2 no longer fits: it starts from the seed
    assert torch.equal(starting["fc1.weight"], fc1["weight"])
    train_py = (out / "train.py").read_text()
    assert 'with_name("starting_weights.safetensors")' in train_py
    assert "model.load_state_dict(load_file(STARTING_WEIGHTS), strict=False)" in train_py
    assert "starting_weights.safetensors" in window.statusBar().currentMessage()
    assert not window.import_report.isVisible()
    window.bottom_tabs.setCurrentWidget(window.code)
    window.code.set_current_file("train.py")
    assert window.code.code_text() == train_py  # the Code tab shows the train.py that was exported


def test_starting_weights_that_are_gone_are_named_in_the_banner_and_the_rest_is_written(
    qtbot, window, project_path, tmp_path
):
    with_starting_weights(window, project_path)
    window.document.project.weights.unlink()
    out = tmp_path / "out"
    export_through_dialog(qtbot, window, out, {"summary"})
    assert window.import_report.isVisible()
    assert "starting_weights.safetensors: the starting weights" in window.import_report.text
    assert "are missing: put the file back (the package's train.py needs it)" in window.import_report.text
    assert {"model.py", "train.py", "summary.md"} <= {p.name for p in out.iterdir()}
    assert not (out / "starting_weights.safetensors").exists()


def test_an_unforeseen_error_on_the_export_thread_is_reported_as_the_export_failing(qtbot, monkeypatch, tmp_path):
    def fail(project, choice):
        raise RuntimeError("onnx fell over")

    monkeypatch.setattr(format_exporter, "write_formats", fail)
    exporter = FormatExporter()
    finished, states = [], []
    exporter.finished.connect(lambda results, error, checked: finished.append((results, error, checked)))
    exporter.running_changed.connect(states.append)
    assert exporter.start(Project.new("x"), ExportChoice(tmp_path, ("onnx",)))
    assert not exporter.start(Project.new("y"), ExportChoice(tmp_path, ("onnx",)))  # one export at a time
    qtbot.waitUntil(lambda: bool(finished), timeout=10_000)
    assert finished == [({}, "The export failed: RuntimeError: onnx fell over", [])]
    assert states == [True, False] and not exporter.running


def test_export_refuses_a_model_whose_layer_is_not_connected_and_says_which(window, tmp_path, monkeypatch):
    project = Project.new("cut short")
    image = project.graph.add_node("Input", label="image", params={"shape": [8]}).id
    fc = project.graph.add_node("Linear", label="fc", params={"out_features": 4}, position=(100, 0)).id
    act = project.graph.add_node("ReLU", label="act", position=(200, 0)).id
    head = project.graph.add_node("Linear", label="head", params={"out_features": 2}, position=(300, 0)).id
    project.graph.connect(image, "x", fc, "x")
    project.graph.connect(act, "y", head, "x")  # act's input is left unconnected: model.py would stop at fc
    assert window.open_path(save_project(project, tmp_path / "cut.nbproj"))
    told = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: told.append(args[1:3]))

    out = tmp_path / "out"
    assert not window.export_to(out, ("onnx",), diagrams=("svg",))
    assert told == [
        (
            "Nothing exported",
            "act: input 'x' is not connected: connect a layer's output to it\n\nThe model cannot be exported while "
            "it has errors: fix this one first (the Problems tab lists them).",
        )
    ]
    assert not out.exists() and not window.exporter.running

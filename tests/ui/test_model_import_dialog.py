"""File > Import Model as a person uses it: pick a .py file and class, give an input shape, get an editable,
savable project with every shape shown; calls with no block are reported; the window never hangs on it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from netbuilder.project import load_project
from netbuilder.ui.app.main_window import MainWindow
from netbuilder.ui.import_export import model_importer
from netbuilder.ui.import_export.model_import_dialog import (
    ImportRequest,
    ModelImportDialog,
    torchvision_classifiers,
)
from netbuilder.ui.import_export.model_importer import ModelImporter
from tests.ui.conftest import forget_changes, running

pytestmark = pytest.mark.usefixtures("no_thread_left_running")

TINY = """
import time

import torch
from torch import nn


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        time.sleep({delay})
        self.fc1 = nn.Linear(20, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        return {output}
"""
IMPORT_TIMEOUT_MS = 120_000  # the first import in a process loads torch on the import thread


def model_file(folder: Path, *, output: str = "self.fc2(x)", delay: float = 0) -> Path:
    path = folder / "tiny_model.py"
    path.write_text(textwrap.dedent(TINY).format(output=output, delay=delay))
    return path


@pytest.fixture
def window(qtbot, settings, recovery):
    win = MainWindow(settings, recovery)
    qtbot.addWidget(win, before_close_func=forget_changes)
    win.show()
    return win


def ask_for_import(
    window: MainWindow, qtbot, path: Path, class_name: str = "Tiny", shape: str = "1,20", weights: Path | None = None
):
    """File > Import Model…, fill in the dialog (the weights file too, when given), press Import."""
    window.import_action.trigger()
    dialog = window.import_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.file.setText(str(path))
    dialog.class_name.setCurrentText(class_name)
    dialog.shape.setText(shape)
    if weights is not None:
        dialog.weights.setText(str(weights))
    assert dialog.ok_button.isEnabled(), dialog.problem.text()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)


def edge_label(window: MainWindow, src: str, dst: str) -> str:
    graph = window.document.graph
    src_id, dst_id = graph.by_label(src).id, graph.by_label(dst).id
    return next(item.label for edge, item in window.scene.edges.items() if (edge.src, edge.dst) == (src_id, dst_id))


def test_a_model_file_opens_as_an_unsaved_editable_project_with_every_shape(window, qtbot, tmp_path, monkeypatch):
    ask_for_import(window, qtbot, model_file(tmp_path))
    assert window.import_progress.isVisible() and "Tiny" in window.import_progress.label.text()
    qtbot.waitUntil(lambda: window.document is not None, timeout=IMPORT_TIMEOUT_MS)
    assert not window.import_progress.isVisible()
    assert not window.import_report.isVisible()
    graph = window.document.graph
    assert sorted((n.label, n.block) for n in graph.nodes.values()) == [
        ("fc1", "Linear"),
        ("fc2", "Linear"),
        ("relu", "ReLU"),
        ("x", "Input"),
    ]
    qtbot.waitUntil(lambda: edge_label(window, "fc1", "relu") == "(N, 16)")
    assert edge_label(window, "x", "fc1") == "(N, 20)"
    assert [d.message for d in window.document.analysis.diagnostics if not d.training_only] == []
    assert window.document.path is None and window.isWindowModified()

    fc2 = graph.by_label("fc2").id
    assert window.controller.set_param(fc2, "out_features", 5)
    qtbot.waitUntil(lambda: window.document.analysis.output_type(fc2, "y").shape[-1] == 5)
    window.undo_action.trigger()
    assert graph.nodes[fc2].params.get("out_features") == 3

    saved = tmp_path / "tiny.nbproj"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(saved), "")))
    window.save_action.trigger()
    assert not window.isWindowModified()
    assert sorted(n.label for n in load_project(saved).graph.nodes.values()) == ["fc1", "fc2", "relu", "x"]


def test_a_call_with_no_block_is_reported_and_the_rest_is_shown(window, qtbot, tmp_path):
    ask_for_import(window, qtbot, model_file(tmp_path, output="torch.cumsum(self.fc2(x), 1)"))
    qtbot.waitUntil(lambda: window.document is not None, timeout=IMPORT_TIMEOUT_MS)
    assert window.import_report.isVisible()
    assert "cumsum" in window.import_report.text and "tiny_model.py:17" in window.import_report.text
    assert {"x", "fc1", "relu", "fc2"} <= {item.node.label for item in window.scene.nodes.values()}
    qtbot.mouseClick(window.import_report.close_button, Qt.MouseButton.LeftButton)
    assert not window.import_report.isVisible()


def test_a_missing_class_says_what_to_do_and_opens_nothing(window, qtbot, tmp_path):
    ask_for_import(window, qtbot, model_file(tmp_path), class_name="Missing")
    qtbot.waitUntil(window.import_report.isVisible, timeout=IMPORT_TIMEOUT_MS)
    assert "defines no nn.Module class 'Missing'" in window.import_report.text
    assert "Check the file and the class name" in window.import_report.text
    assert window.document is None


def test_an_unforeseen_error_on_the_import_thread_is_named_and_the_importer_goes_on(qtbot, monkeypatch):
    def fail(request, weights_target):
        raise RuntimeError("the tracer fell over")

    monkeypatch.setattr(model_importer, "import_model", fail)
    importer = ModelImporter()
    failures, states = [], []
    importer.failed.connect(failures.append)
    importer.running_changed.connect(states.append)
    importer.start(ImportRequest("tiny.py:Tiny", (1, 20)))
    qtbot.waitUntil(lambda: bool(failures), timeout=10_000)
    assert failures == ["Importing tiny.py:Tiny failed: RuntimeError: the tracer fell over"]
    assert states == [True, False] and not importer.running
    importer.shutdown()


def test_cancel_keeps_the_window_working_and_drops_the_late_result(window, qtbot, tmp_path, no_thread_left_running):
    ask_for_import(window, qtbot, model_file(tmp_path, delay=1.5))
    qtbot.mouseClick(window.import_progress.cancel_button, Qt.MouseButton.LeftButton)
    assert not window.import_progress.isVisible()
    window.new_action.trigger()  # the window goes on while the cancelled import finishes
    assert window.document is not None
    title = window.document.title
    qtbot.waitUntil(lambda: not running(no_thread_left_running), timeout=IMPORT_TIMEOUT_MS)
    qtbot.wait(50)  # let the thread's finish be delivered
    assert window.document.title == title


def test_closing_the_window_mid_import_joins_the_thread(window, qtbot, tmp_path, no_thread_left_running):
    ask_for_import(window, qtbot, model_file(tmp_path, delay=1.5))
    assert running(no_thread_left_running)
    window.close()
    assert not running(no_thread_left_running)
    assert window.document is None


def test_the_dialog_refuses_a_shape_that_is_not_positive_sizes_batch_first(qtbot, tmp_path):
    dialog = ModelImportDialog()
    qtbot.addWidget(dialog)
    dialog.file.setText(str(model_file(tmp_path)))
    assert dialog.class_name.currentText() == "Tiny"  # read from the file, without running it
    for text, reason in (
        ("1,x", "'x' is not a positive whole number"),
        ("1,0,4", "'0' is not a positive whole number"),
        ("1,,4", "a size is missing"),
        ("8", "give the batch size first"),
        ("", "give the input's sizes"),
    ):
        dialog.shape.setText(text)
        assert not dialog.ok_button.isEnabled(), text
        assert reason in dialog.problem.text()
    dialog.shape.setText(" 8, 20 ")
    assert dialog.ok_button.isEnabled() and dialog.problem.text() == ""
    assert dialog.request().source == f"{tmp_path / 'tiny_model.py'}:Tiny"
    assert dialog.request().input_shape == (8, 20)


def test_the_dialog_names_a_missing_file_and_offers_torchvision_models(qtbot, tmp_path):
    dialog = ModelImportDialog()
    qtbot.addWidget(dialog)
    dialog.file.setText(str(tmp_path / "gone.py"))
    dialog.class_name.setCurrentText("Net")
    assert not dialog.ok_button.isEnabled() and "There is no file at" in dialog.problem.text()
    dialog.from_torchvision.setChecked(True)
    dialog.shape.setText("1,3,224,224")
    assert dialog.ok_button.isEnabled()
    assert dialog.request().source == "torchvision:resnet18"


def test_torchvision_classifiers_are_the_ones_torchvision_lists():
    import torchvision

    assert torchvision_classifiers() == tuple(torchvision.models.list_models(module=torchvision.models))


# ---- weights brought along ----------------------------------------------------------------------------------


def tiny_weights(*, fc1_inputs: int = 20) -> dict:
    """A state_dict of Tiny, as torch.save keeps it: its tensors are what training should start from."""
    import torch

    generator = torch.Generator().manual_seed(7)
    return {
        "fc1.weight": torch.randn(16, fc1_inputs, generator=generator),
        "fc1.bias": torch.randn(16, generator=generator),
        "fc2.weight": torch.randn(3, 16, generator=generator),
        "fc2.bias": torch.randn(3, generator=generator),
    }


def ask_for_import_with_weights(window: MainWindow, qtbot, tmp_path: Path, weights: Path) -> None:
    ask_for_import(window, qtbot, model_file(tmp_path), weights=weights)
    qtbot.waitUntil(lambda: window.document is not None, timeout=IMPORT_TIMEOUT_MS)


def test_weights_given_with_the_model_become_its_starting_weights_and_are_saved_beside_it(
    window, qtbot, tmp_path, monkeypatch
):
    import torch
    from safetensors.torch import load_file

    weights = tiny_weights()
    torch.save(weights, tmp_path / "tiny.pt")
    ask_for_import_with_weights(window, qtbot, tmp_path, tmp_path / "tiny.pt")
    assert "4 tensors from tiny.pt; training starts from them" in window.statusBar().currentMessage()
    assert not window.import_report.isVisible()
    project, graph = window.document.project, window.document.graph
    kept = project.weights
    assert kept is not None and kept.is_file() and kept.parent != tmp_path  # unsaved: the importer keeps it
    fc1 = graph.by_label("fc1").id
    assert torch.equal(load_file(kept)[f"{fc1}.weight"], weights["fc1.weight"])  # keyed by node, renames keep it
    assert window.training.starting_row.isVisibleTo(window.training)

    saved = tmp_path / "tiny.nbproj"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(saved), "")))
    window.save_action.trigger()
    beside = tmp_path / "tiny.weights.safetensors"
    assert project.weights == beside and beside.read_bytes() == kept.read_bytes()
    assert load_project(saved).weights == beside
    assert window.training.starting_label.text() == "Starts from tiny.weights.safetensors"

    forget_changes(window)
    window.close()
    assert not kept.exists() and beside.is_file()  # the unsaved copy goes with the window, the saved one stays


@pytest.mark.parametrize(
    ("write", "reason"),
    [
        (
            lambda path: __import__("torch").save(tiny_weights(fc1_inputs=19), path),
            "fc1.weight is (16, 19), the layer needs (16, 20)",
        ),
        (lambda path: path.write_text("not weights"), "wrong.pt is not a weights file"),
    ],
    ids=["wrong shapes", "not a weights file"],
)
def test_weights_that_do_not_fit_are_explained_and_the_graph_opens_without_them(window, qtbot, tmp_path, write, reason):
    write(tmp_path / "wrong.pt")
    ask_for_import_with_weights(window, qtbot, tmp_path, tmp_path / "wrong.pt")
    assert window.import_report.isVisible()
    text = window.import_report.text
    assert text.startswith("imported Tiny: 4 nodes") and reason in text
    assert "The graph opened without them: training starts from the seed." in text
    assert window.document.project.weights is None
    assert {"x", "fc1", "relu", "fc2"} == {item.node.label for item in window.scene.nodes.values()}
    assert not window.training.starting_row.isVisibleTo(window.training)


def test_the_dialog_names_a_weights_file_that_is_not_there(qtbot, tmp_path):
    dialog = ModelImportDialog()
    qtbot.addWidget(dialog)
    dialog.file.setText(str(model_file(tmp_path)))
    dialog.shape.setText("1,20")
    assert dialog.ok_button.isEnabled() and dialog.request().weights is None  # empty: start from the seed
    dialog.weights.setText(str(tmp_path / "gone.pt"))
    assert not dialog.ok_button.isEnabled() and "There is no weights file at" in dialog.problem.text()
    (tmp_path / "tiny.pt").write_bytes(b"")  # read on the import's thread, not here
    dialog.weights.setText(f" {tmp_path / 'tiny.pt'} ")
    assert dialog.ok_button.isEnabled() and dialog.request().weights == tmp_path / "tiny.pt"

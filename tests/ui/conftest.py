"""Fixtures for window tests: a document over a real graph, settings and recovery in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QMessageBox

from netbuilder.graph import Graph
from netbuilder.project import Project
from netbuilder.ui.controller import EditorController
from netbuilder.ui.document import Document
from netbuilder.ui.recovery import Recovery

SAMPLES = Path(__file__).resolve().parents[2] / "sample_projects"


def digits_classifier(graph: Graph, out_features: int = 10) -> dict[str, str]:
    """Dataset(digits) -> Flatten -> Linear(32) -> ReLU -> Linear -> CrossEntropy -> Adam, laid out left to right."""
    ids = {"data": graph.add_node("Dataset", label="digits", position=(0, 0)).id}
    chain = [
        ("flatten", "Flatten", {}),
        ("fc1", "Linear", {"out_features": 32}),
        ("relu", "ReLU", {}),
        ("fc2", "Linear", {"out_features": out_features}),
    ]
    previous = (ids["data"], "x")
    for i, (label, block, params) in enumerate(chain, start=1):
        ids[label] = graph.add_node(block, label=label, params=params, position=(i * 300, 20)).id
        graph.connect(*previous, ids[label], "x")
        previous = (ids[label], "y")
    ids["loss"] = graph.add_node("CrossEntropy", label="loss", position=(5 * 290, 150)).id
    graph.connect(*previous, ids["loss"], "input")
    graph.connect(ids["data"], "target", ids["loss"], "target")
    ids["adam"] = graph.add_node("Adam", label="adam", position=(6 * 290, 150)).id
    graph.connect(ids["loss"], "loss", ids["adam"], "loss")
    return ids


@pytest.fixture
def document(qtbot) -> Document:
    project = Project.new("test")
    digits_classifier(project.graph)
    doc = Document(project)
    yield doc
    doc.close()


@pytest.fixture
def controller(document) -> EditorController:
    return EditorController(document)


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def recovery(tmp_path) -> Recovery:
    return Recovery(tmp_path / "recovery")


@pytest.fixture(autouse=True)
def no_unexpected_dialogs(monkeypatch):
    """A modal dialog nobody answers would hang the run: any dialog a test did not arrange for fails it."""

    def refuse(name):
        def dialog(*args, **kwargs):
            raise AssertionError(f"unexpected dialog {name}: {args[1:3]}")

        return staticmethod(dialog)

    for name in ("question", "warning", "critical", "information", "about"):
        monkeypatch.setattr(QMessageBox, name, refuse(f"QMessageBox.{name}"))
    for name in ("getOpenFileName", "getSaveFileName", "getExistingDirectory"):
        monkeypatch.setattr(QFileDialog, name, refuse(f"QFileDialog.{name}"))

"""Fixtures for window tests: a document over a real graph, settings and recovery in a temporary folder, a
window over a saved copy of the digits MLP for training (with the check that no thread is left running), and
a project alone on a canvas (`show`), such as an imported torchvision network laid out either way."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QPointF, QSettings, QThread
from PySide6.QtWidgets import QFileDialog, QMessageBox

from netbuilder.analysis.layout import Orientation, layered_positions
from netbuilder.graph import Graph
from netbuilder.graph.grouping import expand_all
from netbuilder.project import Project
from netbuilder.project.recovery import Recovery
from netbuilder.ui.app.main_window import MainWindow
from netbuilder.ui.canvas.palette import PalettePanel
from netbuilder.ui.canvas.scene import GraphScene
from netbuilder.ui.canvas.view import GraphView
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.editor.document import Document
from netbuilder.ui.main_thread_gc import main_thread_collector
from netbuilder.ui.theme import LIGHT

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
    editor = EditorController(document)
    yield editor
    editor.undo_stack.clear()  # the document fixture closes the document


def shown_canvas(qtbot, controller: EditorController, zoom: float, centre: QPointF) -> tuple[GraphScene, GraphView]:
    """The controller's graph on a canvas in a 700 x 450 view on screen, at `zoom`, centred on `centre` (the
    caller closes the scene)."""
    from netbuilder.ui.theme import LIGHT

    scene = GraphScene(controller, LIGHT)
    view = GraphView(scene)
    qtbot.addWidget(view)
    view.resize(700, 450)
    view.show()
    qtbot.waitExposed(view)
    view.set_zoom(zoom)
    view.centerOn(centre)
    return scene, view


@pytest.fixture
def panel(qtbot) -> PalettePanel:
    """The palette on screen, 260 x 700."""
    widget = PalettePanel()
    qtbot.addWidget(widget)
    widget.resize(260, 700)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


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


# ---- training in the window: a saved copy of the digits MLP, and no thread left running ---------------------


def running(threads: list[QThread]) -> list[QThread]:
    return [t for t in threads if shiboken6.isValid(t) and t.isRunning()]


@pytest.fixture
def no_thread_left_running(monkeypatch):
    """(For tests that run training: `pytestmark = pytest.mark.usefixtures("no_thread_left_running")`.)
    Fail a test that leaves a QThread running (checked after pytest-qt has closed the test's windows).
    Yields the threads started during the test."""
    started: list[QThread] = []
    original = QThread.start

    def start(self, *args):
        started.append(self)
        return original(self, *args)

    monkeypatch.setattr(QThread, "start", start)
    yield started
    left = running(started)
    for thread in left:  # join them anyway, so that the next test does not crash in their place
        thread.quit()
        thread.wait(30_000)
    if left:
        pytest.fail(f"the test left {len(left)} QThread(s) running: {[t.objectName() for t in left]}")
    assert main_thread_collector().holds == 0, "garbage collection left confined to the main thread"


def forget_changes(win: MainWindow) -> None:
    """Before pytest-qt closes the window: mark the work saved so closing does not ask."""
    if win.document is not None:
        win.controller.undo_stack.setClean()


@pytest.fixture
def answer(monkeypatch):
    """Answer the next question dialogs with the given buttons, recording each question."""
    asked = []

    def install(*buttons):
        replies = list(buttons)

        def question(parent, title, text, *args, **kwargs):
            asked.append(text)
            return replies.pop(0)

        monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
        return asked

    return install


@pytest.fixture
def project_path(tmp_path, request) -> Path:
    """A saved copy of a sample project: the one a test names (indirect parametrisation), else its module's
    SAMPLE, else the digits MLP."""
    name = getattr(request, "param", None) or getattr(request.module, "SAMPLE", "digits_mlp")
    path = tmp_path / f"{name}.nbproj"
    shutil.copy(SAMPLES / f"{name}.nbproj", path)
    return path


@pytest.fixture
def window(qtbot, settings, recovery, project_path):
    win = MainWindow(settings, recovery)
    qtbot.addWidget(win, before_close_func=forget_changes)
    win.show()
    assert win.open_path(project_path)
    win.training_dock.raise_()
    qtbot.waitExposed(win.training)
    return win


def imported(name: str, expand: bool) -> Project:
    """A torchvision network as File > Import Model brings it in: its stages as composite blocks, or every
    block expanded in place (resnet18: about 70 nodes on one level; densenet121: several hundred)."""
    torchvision = pytest.importorskip("torchvision")
    from netbuilder.importers import import_module

    module = getattr(torchvision.models, name)(weights=None)
    project = import_module(module, (1, 3, 224, 224), name).project
    if expand:
        expand_all(project.graph)
    return project


def imported_resnet18(expand: bool) -> Project:
    return imported("resnet18", expand)


def laid_out(graph: Graph, orientation: Orientation) -> Graph:
    for node_id, position in layered_positions(graph, orientation).items():
        graph.move(node_id, position)
    return graph


@pytest.fixture
def show(qtbot):
    """Put a project on a canvas drawn along `orientation` in a 1366 x 768 view; closes what it made."""
    made = []

    def make(project: Project, orientation: Orientation = Orientation.LEFT_TO_RIGHT) -> tuple[GraphScene, GraphView]:
        document = Document(project)
        scene = GraphScene(EditorController(document), LIGHT, orientation)
        view = GraphView(scene)
        qtbot.addWidget(view)
        view.resize(1366, 768)
        view.show()
        qtbot.waitExposed(view)
        made.append((scene, document))
        return scene, view

    yield make
    for scene, document in made:
        scene.close()
        document.close()

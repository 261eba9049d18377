"""A LibraryModule in the inspector: its class and arguments are typed as text, what the block refuses is said in
place, and the shapes follow what torch measures."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from netbuilder.blocks import library_module
from netbuilder.project import Project
from netbuilder.runtime import library_shapes
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.editor.document import Document
from netbuilder.ui.panels.inspector import InspectorPanel
from netbuilder.ui.panels.param_fields import TextField

SWIN = "torchvision.models.swin_transformer"


@pytest.fixture
def inspected(qtbot, monkeypatch):
    """Input (8, 8, 16) -> LibraryModule(PatchMerging, dim 16), shown in an inspector; torch as the oracle."""
    monkeypatch.setattr(library_module, "_measure", library_module._measure)
    library_shapes.install()
    project = Project.new("library")
    g = project.graph
    source = g.add_node("Input", params={"shape": (8, 8, 16)}).id
    node = g.add_node("LibraryModule", params={"cls": f"{SWIN}.PatchMerging", "args": '{"dim": 16}'}).id
    g.connect(source, "x", node, "x")
    document = Document(project)
    controller = EditorController(document)
    panel = InspectorPanel(controller)
    qtbot.addWidget(panel)
    panel.show_node(node, selected=1)
    yield panel, document, node
    controller.close()


def _type(editor, text: str) -> None:
    editor.setFocus()
    editor.selectAll()
    QTest.keyClicks(editor, text)
    QTest.keyClick(editor, Qt.Key.Key_Return)


def test_class_and_arguments_are_text_fields_and_shapes_follow_torch(qtbot, inspected):
    panel, document, node = inspected
    assert isinstance(panel.fields["cls"], TextField) and isinstance(panel.fields["args"], TextField)
    qtbot.waitUntil(lambda: document.analysis.output_type(node, "y") is not None)
    assert str(document.analysis.output_type(node, "y")) == "(N, 4, 4, 32)"
    assert document.analysis.results[node].params == 2176  # a 64 -> 32 reduction and a norm over 64
    _type(panel.fields["cls"].editor, f"{SWIN}.PatchMergingV2")
    assert document.project.graph.nodes[node].params["cls"] == f"{SWIN}.PatchMergingV2"
    qtbot.waitUntil(lambda: document.analysis.results[node].params == 2112)  # V2 norms over 32


def test_a_name_outside_torch_is_refused_in_place(qtbot, inspected):
    panel, document, node = inspected
    field = panel.fields["cls"]
    _type(field.editor, "os.system")
    assert "torch or torchvision" in field.error_text
    assert document.project.graph.nodes[node].params["cls"] == f"{SWIN}.PatchMerging"


def test_arguments_that_are_no_json_object_are_refused_in_place(qtbot, inspected):
    panel, document, node = inspected
    field = panel.fields["args"]
    _type(field.editor, "dim=16")
    assert "JSON object" in field.error_text
    assert json.loads(document.project.graph.nodes[node].params["args"]) == {"dim": 16}

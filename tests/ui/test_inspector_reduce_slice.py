"""The inspector on the reductions, Slice and Pad: dimensions typed as a list, a slice's open end, and Pad's
value greyed out where its mode has no constant."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit

from netbuilder.project import Project
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.editor.document import Document
from netbuilder.ui.panels.inspector import InspectorPanel


@pytest.fixture
def setup(qtbot):
    """An image input feeding a Mean, a Slice and a Pad, and an inspector."""
    project = Project.new("blocks")
    g = project.graph
    image = g.add_node("Input", params={"shape": (3, 8, 8)}, position=(0, 0))
    nodes = {block: g.add_node(block, position=(200, 150 * i)) for i, block in enumerate(("Mean", "Slice", "Pad"))}
    for node in nodes.values():
        g.connect(image.id, "x", node.id, "x")
    document = Document(project)
    controller = EditorController(document)
    panel = InspectorPanel(controller)
    qtbot.addWidget(panel)
    panel.resize(320, 600)
    panel.show()
    yield SimpleNamespace(panel=panel, document=document, graph=g, **{b.lower(): n.id for b, n in nodes.items()})
    controller.close()


def type_into(qtbot, widget, text: str) -> None:
    widget.selectAll()
    qtbot.keyClicks(widget, text)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def test_dimensions_are_typed_as_a_list_and_a_repeat_is_refused(qtbot, setup):
    s = setup
    s.panel.show_node(s.mean)
    field = s.panel.fields["dim"]
    assert isinstance(field.editor, QLineEdit)
    assert field.editor.text() == "1"
    type_into(qtbot, field.editor, "2, 3")
    assert s.graph.nodes[s.mean].params["dim"] == (2, 3)
    s.document.reanalyze()
    assert s.panel.output_labels["y"].text() == "(N, 3)"
    type_into(qtbot, field.editor, "2, -1, 2")
    assert field.error_text == "dimension 2 is given twice"
    assert s.graph.nodes[s.mean].params["dim"] == (2, 3)


def test_a_slice_runs_to_the_end_until_an_end_is_set(qtbot, setup):
    s = setup
    s.panel.show_node(s.slice)
    end = s.panel.fields["end"]
    assert end.auto_label.text() == "to the end"
    type_into(qtbot, s.panel.fields["start"].editor, "1")
    s.document.reanalyze()
    assert s.panel.output_labels["y"].text() == "(N, 2, 8, 8)"


def test_pad_greys_out_the_value_unless_the_mode_is_constant(qtbot, setup):
    s = setup
    s.panel.show_node(s.pad)
    fields = s.panel.fields
    assert fields["value"].isEnabled()
    combo = fields["mode"].editor
    assert isinstance(combo, QComboBox)
    combo.activated.emit(combo.findText("reflect"))
    assert s.graph.nodes[s.pad].params["mode"] == "reflect"
    assert not fields["value"].isEnabled()
    type_into(qtbot, fields["padding"].editor, "1, 1, 2")
    assert "2 or 4 or 6 or 8 or 10 integers" in fields["padding"].error_text
    type_into(qtbot, fields["padding"].editor, "1, 1, 2, 2")
    s.document.reanalyze()
    assert s.panel.output_labels["y"].text() == "(N, 3, 12, 10)"

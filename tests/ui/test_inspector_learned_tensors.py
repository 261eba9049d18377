"""The inspector for a learned Parameter, its init's values greyed out where they do not apply, and Expand's
optional sizes."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox

from netbuilder.project import Project
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.editor.document import Document
from netbuilder.ui.panels.inspector import InspectorPanel
from tests.ui.test_inspector import type_into


def _inspector(qtbot, project: Project) -> tuple[InspectorPanel, Document, EditorController]:
    document = Document(project)
    controller = EditorController(document)
    panel = InspectorPanel(controller)
    qtbot.addWidget(panel)
    panel.resize(320, 700)
    panel.show()
    return panel, document, controller


def test_a_parameter_shows_its_shape_and_only_the_value_its_init_uses(qtbot):
    project = Project.new("vit")
    g = project.graph
    data = g.add_node("Input", params={"shape": (4, 8)})
    pos = g.add_node("Parameter", label="pos_embedding", params={"shape": (1, 4, 8)})
    add = g.add_node("Add")
    g.connect(data.id, "x", add.id, "in1")
    g.connect(pos.id, "y", add.id, "in2")
    panel, document, controller = _inspector(qtbot, project)
    try:
        panel.show_node(pos.id)
        fields = panel.fields
        assert set(fields) == {"shape", "init", "value", "std", "bound"}
        assert panel.output_labels["y"].text() == "(1, 4, 8)"
        assert panel.params_count.text() == "32"
        assert fields["init"].isEnabled()
        assert not fields["value"].isEnabled() and not fields["std"].isEnabled() and not fields["bound"].isEnabled()

        combo = fields["init"].editor
        assert isinstance(combo, QComboBox)
        combo.activated.emit(combo.findText("normal"))
        assert g.nodes[pos.id].params["init"] == "normal"
        assert fields["std"].isEnabled() and not fields["value"].isEnabled()

        type_into(qtbot, fields["shape"].editor, "1, 1, 8")
        assert g.nodes[pos.id].params["shape"] == (1, 1, 8)
        document.reanalyze()
        assert panel.output_labels["y"].text() == "(1, 1, 8)"
        assert panel.params_count.text() == "8"
        panel.show_node(add.id)
        assert panel.output_labels["y"].text() == "(N, 4, 8)"
    finally:
        controller.close()


def test_expand_sizes_are_kept_until_set(qtbot):
    project = Project.new("vit")
    g = project.graph
    data = g.add_node("Input", params={"shape": (4, 8)})
    token = g.add_node("Parameter", params={"shape": (1, 1, 8)})
    expand = g.add_node("Expand")
    g.connect(token.id, "y", expand.id, "x")
    g.connect(data.id, "x", expand.id, "like")
    panel, document, controller = _inspector(qtbot, project)
    try:
        panel.show_node(expand.id)
        field = panel.fields["sizes"]
        assert field.auto_label.text() == "keep all"
        assert panel.output_labels["y"].text() == "(N, 1, 8)"
        field.toggle.click()
        assert g.nodes[expand.id].params["sizes"] == (-1, -1)  # set starts from keeping every size
        type_into(qtbot, field.editor, "3, -1")
        assert g.nodes[expand.id].params["sizes"] == (3, -1)
        document.reanalyze()
        assert panel.output_labels["y"].text() == "(N, 3, 8)"
    finally:
        controller.close()

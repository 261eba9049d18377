"""The inspector's weight-init fields: shown on a layer with weights, each greyed out where `ParamSpec.when` says
it does not matter (Kaiming's nonlinearity, the bias's init without a bias, the constant of another choice)."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox

from netbuilder.project import Project
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.editor.document import Document
from netbuilder.ui.panels.inspector import InspectorPanel


def choose(combo: QComboBox, text: str) -> None:
    """What a person does: pick the entry in the list."""
    combo.activated.emit(combo.findText(text))


def test_init_fields_show_and_grey_out_as_their_when_says(qtbot):
    project = Project.new("init")
    g = project.graph
    data = g.add_node("Input", params={"shape": (8,)}).id
    fc = g.add_node("Linear", params={"out_features": 4}).id
    g.connect(data, "x", fc, "x")
    controller = EditorController(Document(project))
    panel = InspectorPanel(controller)
    qtbot.addWidget(panel)
    panel.show()
    panel.show_node(fc)
    fields = panel.fields

    def enabled() -> dict[str, bool]:
        return {name: fields[name].isEnabled() for name in ("init", "init_nonlinearity", "bias_init", "bias_value")}

    assert enabled() == {"init": True, "init_nonlinearity": False, "bias_init": True, "bias_value": False}
    assert "Applies only when init is" in fields["init_nonlinearity"].toolTip()

    choose(fields["init"].editor, "kaiming_normal")
    assert g.nodes[fc].params["init"] == "kaiming_normal"
    choose(fields["init_nonlinearity"].editor, "tanh")
    choose(fields["bias_init"].editor, "constant")
    assert enabled() == {"init": True, "init_nonlinearity": True, "bias_init": True, "bias_value": True}

    checkbox = fields["bias"].editor
    assert isinstance(checkbox, QCheckBox)
    checkbox.click()
    assert g.nodes[fc].params["bias"] is False
    assert not fields["bias_init"].isEnabled()

    controller.undo_stack.undo()  # the bias is back
    assert fields["bias_init"].isEnabled()
    choose(fields["init"].editor, "orthogonal")
    assert not fields["init_nonlinearity"].isEnabled()
    controller.close()


def test_layers_without_weights_have_no_init_fields(qtbot):
    project = Project.new("init")
    relu = project.graph.add_node("ReLU").id
    controller = EditorController(Document(project))
    panel = InspectorPanel(controller)
    qtbot.addWidget(panel)
    panel.show_node(relu)
    assert "init" not in panel.fields
    controller.close()

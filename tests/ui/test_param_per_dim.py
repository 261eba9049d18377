"""The inspector's field for a value per spatial dimension (a Conv2d's kernel_size): "3" or "1, 7"."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from netbuilder.ui.panels.inspector import InspectorPanel
from netbuilder.ui.panels.param_fields import PerDimField


@pytest.fixture
def inspector(qtbot, controller) -> InspectorPanel:
    panel = InspectorPanel(controller)
    qtbot.addWidget(panel)
    panel.resize(320, 700)
    panel.show()
    return panel


def type_into(qtbot, widget, text: str) -> None:
    """What a person does: select what is there, type, press Enter."""
    widget.selectAll()
    qtbot.keyClicks(widget, text)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def test_a_kernel_is_typed_as_one_number_or_one_per_dimension(qtbot, controller, inspector):
    graph = controller.graph
    conv = graph.add_node("Conv2d", params={"out_channels": 8})
    inspector.show_node(conv.id)
    field = inspector.fields["kernel_size"]
    assert isinstance(field, PerDimField) and isinstance(field.editor, QLineEdit)
    assert field.editor.text() == "3"
    assert "or 2 of them (one per dimension)" in field.editor.toolTip()
    assert "Type one number, or height, width." in field.editor.toolTip()

    type_into(qtbot, field.editor, "1, 7")
    assert graph.nodes[conv.id].params["kernel_size"] == (1, 7)
    assert field.editor.text() == "1, 7"
    type_into(qtbot, field.editor, "(5, 5)")
    assert graph.nodes[conv.id].params["kernel_size"] == 5
    assert field.editor.text() == "5"  # equal values are one number, as the code writes them
    controller.undo_stack.undo()
    assert graph.nodes[conv.id].params["kernel_size"] == (1, 7)
    assert field.editor.text() == "1, 7"

    volume = graph.add_node("Conv3d", params={"out_channels": 8})
    inspector.show_node(volume.id)
    assert "Type one number, or depth, height, width." in inspector.fields["dilation"].editor.toolTip()


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("1, 7, 7", "expected an integer from 1 to 64, or 2 of them (one per dimension), got 3 values"),
        ("1, x", "expected an integer from 1 to 64, or 2 of them (one per dimension), got '1, x'"),
        ("0, 7", "expected an integer from 1 to 64, or 2 of them (one per dimension), got (0, 7)"),
    ],
)
def test_a_wrong_kernel_is_refused_in_one_line_and_changes_nothing(qtbot, controller, inspector, typed, reason):
    conv = controller.graph.add_node("Conv2d", params={"out_channels": 8, "kernel_size": (1, 7)})
    inspector.show_node(conv.id)
    field = inspector.fields["kernel_size"]
    type_into(qtbot, field.editor, typed)
    assert field.error_text == reason
    assert controller.graph.nodes[conv.id].params["kernel_size"] == (1, 7)
    assert controller.undo_stack.count() == 0


def test_a_pool_stride_set_starts_at_its_kernel_per_dimension(qtbot, controller, inspector):
    pool = controller.graph.add_node("MaxPool2d", params={"kernel_size": (2, 3)})
    inspector.show_node(pool.id)
    field = inspector.fields["stride"]
    assert field.auto_label.text() == "same as kernel_size"
    field.toggle.click()
    assert controller.graph.nodes[pool.id].params["stride"] == (2, 3)
    type_into(qtbot, field.editor, "2, 1")
    assert controller.graph.nodes[pool.id].params["stride"] == (2, 1)


@pytest.mark.parametrize("block", ["Conv1d", "Conv2d"])
def test_padding_takes_same_or_valid_as_typed(qtbot, controller, inspector, block):
    conv = controller.graph.add_node(block, params={"out_channels": 8})
    inspector.show_node(conv.id)
    field = inspector.fields["padding"]
    assert "'same', or 'valid'" in field.editor.toolTip()
    assert "or same or valid." in field.editor.toolTip()
    type_into(qtbot, field.editor, "same")
    assert controller.graph.nodes[conv.id].params["padding"] == "same"
    assert field.editor.text() == "same"
    type_into(qtbot, field.editor, "'valid'")
    assert controller.graph.nodes[conv.id].params["padding"] == "valid"
    type_into(qtbot, field.editor, "full")
    assert field.error_text.endswith("got 'full'")
    assert controller.graph.nodes[conv.id].params["padding"] == "valid"

"""The inspector: a form built from the block's ParamSpecs that edits the selected node through the controller."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractSpinBox, QCheckBox, QComboBox, QLabel, QLineEdit, QPushButton, QSpinBox

from netbuilder.blocks import catalogue
from netbuilder.project import Project, TrainingSettings
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.editor.document import Document
from netbuilder.ui.panels.inspector import EMPTY_TEXT, InspectorPanel
from netbuilder.ui.panels.param_fields import FIELDS, field_for


@pytest.fixture
def setup(qtbot):
    """Dataset(digits) -> Flatten -> Linear -> ReLU -> Linear -> CrossEntropy -> Adam, and an inspector."""
    project = Project.new("digits")
    project.training = TrainingSettings(epochs=2)
    g = project.graph
    data = g.add_node("Dataset", params={"dataset": "digits"}, position=(0, 0))
    flatten = g.add_node("Flatten", position=(200, 0))
    fc1 = g.add_node("Linear", params={"out_features": 32}, position=(400, 0))
    relu = g.add_node("ReLU", position=(600, 0))
    fc2 = g.add_node("Linear", params={"out_features": 10}, position=(800, 0))
    loss = g.add_node("CrossEntropy", position=(1000, 0))
    adam = g.add_node("Adam", position=(1200, 0))
    g.connect(data.id, "x", flatten.id, "x")
    g.connect(flatten.id, "y", fc1.id, "x")
    g.connect(fc1.id, "y", relu.id, "x")
    g.connect(relu.id, "y", fc2.id, "x")
    g.connect(fc2.id, "y", loss.id, "input")
    g.connect(data.id, "target", loss.id, "target")
    g.connect(loss.id, "loss", adam.id, "loss")
    document = Document(project)
    controller = EditorController(document)
    panel = InspectorPanel(controller)
    qtbot.addWidget(panel)
    panel.resize(320, 700)
    panel.show()
    yield SimpleNamespace(
        panel=panel,
        document=document,
        controller=controller,
        graph=g,
        data=data.id,
        fc1=fc1.id,
        fc2=fc2.id,
        adam=adam.id,
    )
    controller.close()


def type_into(qtbot, widget, text: str) -> None:
    """What a person does: select what is there, type, press Enter."""
    widget.selectAll()
    qtbot.keyClicks(widget, text)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def test_out_features_shows_edits_and_follows_undo(qtbot, setup):
    s = setup
    s.panel.show_node(s.fc1)
    spin = s.panel.fields["out_features"].editor
    assert isinstance(spin, QSpinBox)
    assert spin.value() == 32
    assert s.panel.label_edit.text() == "fc1"

    type_into(qtbot, spin, "128")
    assert s.graph.nodes[s.fc1].params["out_features"] == 128
    assert s.controller.undo_stack.count() == 1  # typing "128" is one edit, not three

    s.controller.undo_stack.undo()
    assert s.graph.nodes[s.fc1].params["out_features"] == 32
    assert spin.value() == 32
    s.controller.undo_stack.redo()
    assert spin.value() == 128


def test_inferred_size_shows_auto_and_pins(qtbot, setup):
    s = setup
    s.panel.show_node(s.fc1)
    field = s.panel.fields["in_features"]
    assert field.auto_label.text() == "auto (64)"
    assert field.auto_label.isVisibleTo(s.panel)
    assert not field.editor.isVisibleTo(s.panel)

    field.toggle.click()
    assert s.graph.nodes[s.fc1].params["in_features"] == 64
    assert field.editor.isVisibleTo(s.panel)
    assert field.editor.value() == 64

    field.toggle.click()
    assert s.graph.nodes[s.fc1].params["in_features"] is None
    assert field.auto_label.isVisibleTo(s.panel)
    assert s.controller.undo_stack.count() == 2


def test_unknown_inferred_size_shows_question_mark(qtbot, setup):
    s = setup
    s.controller.disconnect(list(s.graph.inputs_of(s.fc1).values()))
    s.document.reanalyze()
    s.panel.show_node(s.fc1)
    assert s.panel.fields["in_features"].auto_label.text() == "auto (?)"


def test_invalid_ints_text_is_refused_in_place(qtbot, setup):
    s = setup
    node = s.graph.add_node("Input", params={"shape": (3, 8, 8)})
    s.panel.show_node(node.id)
    field = s.panel.fields["shape"]
    edit = field.editor
    assert isinstance(edit, QLineEdit)
    assert edit.text() == "3, 8, 8"

    type_into(qtbot, edit, "16, four")
    assert "integers" in field.error_text
    assert field.error.isVisibleTo(s.panel)
    assert edit.text() == "3, 8, 8"
    assert s.graph.nodes[node.id].params["shape"] == (3, 8, 8)

    type_into(qtbot, edit, "16, 0, 4")
    assert "from 1 to 100000" in field.error_text
    assert s.graph.nodes[node.id].params["shape"] == (3, 8, 8)

    type_into(qtbot, edit, "16, 4, 4")
    assert s.graph.nodes[node.id].params["shape"] == (16, 4, 4)
    assert field.error_text == ""


def test_learning_rate_accepts_scientific_notation(qtbot, setup):
    s = setup
    s.panel.show_node(s.adam)
    lr = s.panel.fields["lr"].editor
    assert lr.text() == "0.001"
    type_into(qtbot, lr, "1e-5")
    assert s.graph.nodes[s.adam].params["lr"] == pytest.approx(1e-5)
    assert lr.text() == "1e-05"


def test_value_the_graph_refuses_shows_the_reason_and_reverts(qtbot, setup):
    s = setup
    softmax = s.graph.add_node("Softmax")
    s.panel.show_node(softmax.id)
    field = s.panel.fields["dim"]
    type_into(qtbot, field.editor, "0")  # in range, but dim 0 is the batch
    assert "batch" in field.error_text
    assert field.editor.value() == 1
    assert s.graph.nodes[softmax.id].params["dim"] == 1


def test_a_number_out_of_range_is_typed_in_full_and_refused_with_the_reason(qtbot, setup):
    s = setup
    conv = s.graph.add_node("Conv1d", params={"out_channels": 8, "kernel_size": 3})
    s.panel.show_node(conv.id)
    field = s.panel.fields["kernel_size"]
    type_into(qtbot, field.editor, "99")  # the range is 1 to 64: "99" is not cut to "9" as it is typed
    assert "from 1 to 64" in field.error_text and "99" in field.error_text
    assert field.error.isVisibleTo(s.panel)
    assert field.editor.value() == 3
    assert s.graph.nodes[conv.id].params["kernel_size"] == 3


def test_the_arrows_stop_at_the_ends_of_the_range(qtbot, setup):
    s = setup
    conv = s.graph.add_node("Conv1d", params={"out_channels": 8, "kernel_size": 64, "dilation": 1})
    s.panel.show_node(conv.id)
    kernel, dilation = s.panel.fields["kernel_size"], s.panel.fields["dilation"]
    steps = QAbstractSpinBox.StepEnabledFlag
    assert not kernel.editor.stepEnabled() & steps.StepUpEnabled  # greyed out at the top of the range
    assert not dilation.editor.stepEnabled() & steps.StepDownEnabled
    kernel.editor.stepUp()
    dilation.editor.stepDown()
    assert kernel.editor.value() == 64 and dilation.editor.value() == 1
    assert kernel.error_text == "" and dilation.error_text == ""
    assert s.controller.undo_stack.count() == 0
    kernel.editor.stepDown()
    assert s.graph.nodes[conv.id].params["kernel_size"] == 63


def test_each_parameter_kind_gets_its_own_field(qtbot):
    by_kind = {}
    for block in catalogue.BLOCKS.values():
        for spec in block.params:
            by_kind.setdefault(spec.kind, spec)
    assert set(by_kind) == set(FIELDS)
    editors = {"int": QSpinBox, "float": QLineEdit, "ints": QLineEdit, "int_per_dim": QLineEdit, "text": QLineEdit}
    editors |= {"bool": QCheckBox, "choice": QComboBox}
    for kind, spec in by_kind.items():
        field = field_for(spec)
        assert type(field) is FIELDS[kind] and isinstance(field.editor, editors[kind])
        start = field.start_value()
        assert spec.validate(start) == start, (kind, start)  # a freshly set field starts at a valid value


def test_rename_to_a_taken_label_is_refused_with_the_reason(qtbot, setup):
    s = setup
    s.panel.show_node(s.fc1)
    type_into(qtbot, s.panel.label_edit, "fc2")
    assert "already used" in s.panel.label_error.text()
    assert s.panel.label_error.isVisibleTo(s.panel)
    assert s.panel.label_edit.text() == "fc1"
    assert s.graph.nodes[s.fc1].label == "fc1"

    type_into(qtbot, s.panel.label_edit, "hidden")
    assert s.graph.nodes[s.fc1].label == "hidden"
    assert not s.panel.label_error.isVisibleTo(s.panel)
    s.controller.undo_stack.undo()
    assert s.panel.label_edit.text() == "fc1"


def test_nothing_or_several_selected_shows_the_empty_state(qtbot, setup):
    s = setup
    s.panel.show_node(s.fc1)
    assert s.panel.fields
    s.panel.show_selection([])
    assert s.panel.empty_title.isVisibleTo(s.panel)
    assert s.panel.empty_title.text() == EMPTY_TEXT
    assert not s.panel.fields
    s.panel.show_selection([s.fc1, s.fc2, s.data])
    assert s.panel.empty_detail.text() == "3 nodes selected"
    s.panel.show_selection([s.fc2])
    assert not s.panel.empty_title.isVisibleTo(s.panel)
    assert s.panel.fields["out_features"].editor.value() == 10


def test_dataset_enables_only_the_params_its_dataset_uses(qtbot, setup):
    s = setup
    s.panel.show_node(s.data)
    fields = s.panel.fields
    assert fields["dataset"].isEnabled()
    assert not fields["samples"].isEnabled()
    assert not fields["noise"].isEnabled()
    assert "Applies only when dataset is" in fields["samples"].toolTip()
    assert not s.panel.row_labels["samples"].isEnabled()

    combo = fields["dataset"].editor
    assert isinstance(combo, QComboBox)
    combo.activated.emit(combo.findText("spirals"))
    assert s.graph.nodes[s.data].params["dataset"] == "spirals"
    assert fields["samples"].isEnabled()
    assert fields["noise"].isEnabled()
    assert fields["samples"] is s.panel.fields["samples"]  # updated in place, not rebuilt

    s.controller.undo_stack.undo()
    assert combo.currentText() == "digits"
    assert not fields["samples"].isEnabled()


def test_outputs_and_parameter_count_follow_the_analysis(qtbot, setup):
    s = setup
    s.panel.show_node(s.fc1)
    assert s.panel.output_labels["y"].text() == "(N, 32)"
    assert s.panel.params_count.text() == "2,080"
    s.controller.set_param(s.fc1, "out_features", 16)
    s.document.reanalyze()
    assert s.panel.output_labels["y"].text() == "(N, 16)"
    assert s.panel.params_count.text() == f"{64 * 16 + 16:,}"


def test_diagnostics_show_the_message_and_fix(qtbot, setup):
    s = setup
    s.panel.show_node(s.fc2)
    assert not s.panel.findChildren(QLabel, "diagnosticMessage")
    s.controller.set_param(s.fc2, "in_features", 99)
    s.document.reanalyze()
    messages = [label.text() for label in s.panel.findChildren(QLabel, "diagnosticMessage")]
    assert any("pinned to 99" in m and "32" in m for m in messages)
    fixes = [label.text() for label in s.panel.findChildren(QLabel, "diagnosticFix")]
    assert fixes == ["Fix: set in_features of fc2 to auto"]

    (apply,) = [b for b in s.panel.findChildren(QPushButton) if b.text() == "Apply fix"]
    apply.click()
    assert s.graph.nodes[s.fc2].params["in_features"] is None
    s.document.reanalyze()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert not s.panel.findChildren(QLabel, "diagnosticMessage")


def test_optional_value_shows_its_none_label_and_can_be_set(qtbot, setup):
    s = setup
    pool = s.graph.add_node("MaxPool2d", params={"kernel_size": 3})
    s.document.reanalyze()
    s.panel.show_node(pool.id)
    field = s.panel.fields["stride"]
    assert field.auto_label.text() == "same as kernel_size"
    assert isinstance(field.toggle, QCheckBox)
    field.toggle.click()
    assert s.graph.nodes[pool.id].params["stride"] == 3  # starts where None was: the kernel size
    type_into(qtbot, field.editor, "1")
    assert s.graph.nodes[pool.id].params["stride"] == 1
    field.toggle.click()
    assert s.graph.nodes[pool.id].params["stride"] is None


def test_bool_param_edits_the_graph(qtbot, setup):
    s = setup
    s.panel.show_node(s.fc1)
    box = s.panel.fields["bias"].editor
    assert isinstance(box, QCheckBox) and box.isChecked()
    box.click()
    assert s.graph.nodes[s.fc1].params["bias"] is False
    s.document.reanalyze()
    assert s.panel.params_count.text() == "2,048"


def test_edit_elsewhere_updates_the_field_in_place(qtbot, setup):
    s = setup
    s.panel.show_node(s.fc1)
    field = s.panel.fields["out_features"]
    s.controller.set_param(s.fc1, "out_features", 48)
    assert s.panel.fields["out_features"] is field
    assert field.editor.value() == 48
    s.controller.rename(s.fc1, "hidden")
    assert s.panel.label_edit.text() == "hidden"


def test_removed_node_empties_the_panel(qtbot, setup):
    s = setup
    s.panel.show_node(s.fc1)
    s.controller.delete([s.fc1])
    assert s.panel.node_id is None
    assert s.panel.empty_title.isVisibleTo(s.panel)
    s.controller.undo_stack.undo()
    s.panel.show_node(s.fc1)
    assert s.panel.fields["out_features"].editor.value() == 32


def test_destroyed_panel_stops_listening(qtbot, setup):
    s = setup
    panel = InspectorPanel(s.controller)  # not given to qtbot, which would close it after it is gone
    panel.show_node(s.fc1)
    panel.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    # a panel still subscribed would touch its deleted widgets here and raise
    assert s.controller.set_param(s.fc1, "out_features", 20)
    s.document.reanalyze()


def test_typing_then_selecting_another_node_commits_to_the_first(qtbot, setup):
    s = setup
    s.panel.show_node(s.fc1)
    s.panel.activateWindow()
    qtbot.waitActive(s.panel)
    spin = s.panel.fields["out_features"].editor
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus)
    spin.selectAll()
    qtbot.keyClicks(spin, "77")
    assert s.graph.nodes[s.fc1].params["out_features"] == 32  # not yet: no Enter, focus still there
    s.panel.show_node(s.fc2)
    assert s.graph.nodes[s.fc1].params["out_features"] == 77
    assert s.graph.nodes[s.fc2].params["out_features"] == 10
    assert s.panel.fields["out_features"].editor.value() == 10


def test_a_text_parameter_is_typed_as_text(qtbot, tmp_path):
    """The Dataset's path is typed as text; the shapes follow the file it names."""
    project = Project.new("csv")
    node = project.graph.add_node("Dataset", params={"dataset": "csv"}).id
    document = Document(project)
    panel = InspectorPanel(EditorController(document))
    qtbot.addWidget(panel)
    panel.show_node(node, selected=1)
    editor = panel.fields["path"].editor
    (tmp_path / "t.csv").write_text("a,target\n1,x\n2,y\n")
    editor.setFocus()
    editor.selectAll()
    QTest.keyClicks(editor, str(tmp_path / "t.csv"))
    QTest.keyClick(editor, Qt.Key.Key_Return)
    assert project.graph.nodes[node].params["path"] == str(tmp_path / "t.csv")
    qtbot.waitUntil(lambda: document.analysis.output_type(node, "x") is not None)
    assert str(document.analysis.output_type(node, "x")) == "(N, 1)"
    document.close()


def test_the_dataset_preview_loads_on_request_and_follows_the_dataset(qtbot):
    project = Project.new("preview")
    node = project.graph.add_node("Dataset", params={"dataset": "spirals", "samples": 300}).id
    document = Document(project)
    controller = EditorController(document)
    panel = InspectorPanel(controller)
    qtbot.addWidget(panel)
    panel.show_node(node, selected=1)
    preview = panel.preview
    assert preview is not None and preview.preview is None  # nothing loads until asked
    preview.button.click()
    qtbot.waitUntil(lambda: preview.preview is not None, timeout=30_000)
    assert preview.preview.points.shape == (300, 2)
    controller.set_param(node, "dataset", "digits")
    qtbot.waitUntil(lambda: preview.preview is not None and preview.preview.images is not None, timeout=30_000)
    assert "1,797 samples" in preview.status.text()
    panel.detach()
    document.close()

"""The Problems and Code tabs: what a person sees listed, fixed and generated as the graph changes."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QPlainTextEdit

from netbuilder.graph import Graph
from netbuilder.project import Project
from netbuilder.ui.editor.controller import EditorController
from netbuilder.ui.editor.document import Document
from netbuilder.ui.panels.code_panel import CodePanel
from netbuilder.ui.panels.highlighter import PythonHighlighter
from netbuilder.ui.panels.problems import FIX, MESSAGE, WHERE, ProblemsPanel, count_text
from netbuilder.ui.widgets.colors import contrast


def digits(graph: Graph, *, out: int = 10, flatten: bool = True, optimizer: bool = True) -> dict[str, str]:
    """Dataset(digits) -> [Flatten] -> Linear(32) -> ReLU -> Linear(out) -> CrossEntropy [-> Adam]."""
    ids = {"data": graph.add_node("Dataset", label="digits", position=(0, 0)).id}
    chain = [("flatten", "Flatten", {})] if flatten else []
    chain += [("fc1", "Linear", {"out_features": 32}), ("relu", "ReLU", {}), ("fc2", "Linear", {"out_features": out})]
    previous = (ids["data"], "x")
    for i, (label, block, params) in enumerate(chain, start=1):
        ids[label] = graph.add_node(block, label=label, params=params, position=(i * 200, 0)).id
        graph.connect(*previous, ids[label], "x")
        previous = (ids[label], "y")
    ids["loss"] = graph.add_node("CrossEntropy", label="loss", position=(1000, 0)).id
    graph.connect(*previous, ids["loss"], "input")
    graph.connect(ids["data"], "target", ids["loss"], "target")
    if optimizer:
        ids["adam"] = graph.add_node("Adam", label="adam", position=(1200, 0)).id
        graph.connect(ids["loss"], "loss", ids["adam"], "loss")
    return ids


@pytest.fixture
def editor(qtbot):
    """make(**digits options) -> (controller, ids); documents are closed afterwards."""
    made: list[EditorController] = []

    def make(**options) -> tuple[EditorController, dict[str, str]]:
        project = Project.new("Digits classifier")
        ids = digits(project.graph, **options)
        made.append(EditorController(Document(project)))
        return made[-1], ids

    yield make
    for controller in made:
        controller.close()


def problems_panel(qtbot, controller: EditorController) -> ProblemsPanel:
    panel = ProblemsPanel(controller)
    qtbot.addWidget(panel)
    panel.resize(1366, 250)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def code_panel(qtbot, controller: EditorController) -> CodePanel:
    panel = CodePanel(controller)
    qtbot.addWidget(panel)
    panel.resize(1366, 250)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def rows(panel: ProblemsPanel) -> list[tuple[str, str, str]]:
    tree = panel.tree
    items = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    return [(item.text(WHERE), item.text(MESSAGE), item.text(FIX)) for item in items]


def click_row(qtbot, panel: ProblemsPanel, row: int) -> None:
    rect = panel.tree.visualItemRect(panel.tree.topLevelItem(row))
    qtbot.mouseClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


# ---- Problems ------------------------------------------------------------------------------------------


def test_wrong_class_count_is_listed_with_its_fix(qtbot, editor):
    controller, _ = editor(out=7)
    panel = problems_panel(qtbot, controller)
    ((where, message, fix),) = rows(panel)
    assert where.startswith("loss")
    assert "7 logits" in message and "10 classes" in message
    assert fix == "Set out_features of fc2 to 10"
    assert panel.summary.text() == "1 error"
    assert panel.fix_button.isEnabled()


def test_apply_fix_is_one_undoable_command_and_clears_the_list(qtbot, editor):
    controller, ids = editor(out=7)
    panel = problems_panel(qtbot, controller)
    stack = controller.undo_stack
    click_row(qtbot, panel, 0)
    qtbot.mouseClick(panel.fix_button, Qt.MouseButton.LeftButton)
    assert controller.graph.nodes[ids["fc2"]].params["out_features"] == 10
    assert stack.count() == 1
    qtbot.waitUntil(lambda: rows(panel) == [])
    assert panel.summary.text() == "No problems"
    assert panel.pages.currentIndex() == 1  # the calm page, not an empty table
    assert not panel.fix_button.isEnabled()
    stack.undo()
    qtbot.waitUntil(lambda: len(rows(panel)) == 1)
    assert controller.graph.nodes[ids["fc2"]].params["out_features"] == 7


def test_clicking_a_row_asks_to_show_its_node(qtbot, editor):
    controller, ids = editor(out=7, flatten=False)
    panel = problems_panel(qtbot, controller)
    shown = panel.shown_diagnostics()
    row = next(i for i, d in enumerate(shown) if d.node == ids["fc1"])
    with qtbot.waitSignal(panel.node_activated, timeout=1000) as blocker:
        click_row(qtbot, panel, row)
    assert blocker.args == [ids["fc1"]]


def test_errors_come_before_warnings(qtbot, editor):
    controller, _ = editor(out=7, flatten=False)
    panel = problems_panel(qtbot, controller)
    severities = [d.severity for d in panel.shown_diagnostics()]
    assert severities == sorted(severities)  # "error" < "warning"
    assert severities[0] == "error" and severities[-1] == "warning"


def test_training_only_filter_hides_the_missing_optimizer(qtbot, editor):
    controller, _ = editor(optimizer=False)
    panel = problems_panel(qtbot, controller)
    assert [d.code for d in panel.shown_diagnostics()] == ["optimizer-missing"]
    assert rows(panel)[0][0] == "project"
    assert panel.training_filter.isChecked()
    qtbot.mouseClick(panel.training_filter, Qt.MouseButton.LeftButton)
    assert not panel.training_filter.isChecked()
    assert rows(panel) == []
    assert panel.summary.text() == "No problems"
    assert panel.hidden_note.isVisible() and "1 training-only problem hidden" in panel.hidden_note.text()


def test_counts_follow_the_list(qtbot, editor):
    controller, ids = editor(out=7, flatten=False, optimizer=False)
    panel = problems_panel(qtbot, controller)
    # loss shape + optimizer missing; fc1 gets (N, 1, 8, 8) with no Flatten (fc2 acts on what fc1 made: no warning)
    assert panel.counts() == (2, 1)
    seen: list[tuple[int, int]] = []
    panel.counts_changed.connect(lambda errors, warnings: seen.append((errors, warnings)))
    panel.training_filter.setChecked(False)
    assert seen[-1] == (0, 1)  # a problem at the loss matters for training only: the model is as drawn
    panel.training_filter.setChecked(True)
    with qtbot.waitSignal(panel.counts_changed, timeout=1000) as blocker:
        controller.set_param(ids["fc2"], "out_features", 10)
    assert blocker.args == [2, 1]  # the loss still sees (N, 1, 8, 10): the warning says why
    assert count_text(1, 2) == "1 error, 2 warnings"


def test_selection_survives_a_refresh(qtbot, editor):
    controller, ids = editor(out=7, flatten=False)
    panel = problems_panel(qtbot, controller)
    row = next(i for i, d in enumerate(panel.shown_diagnostics()) if d.node == ids["fc1"])
    click_row(qtbot, panel, row)
    controller.rename(ids["fc1"], "hidden")  # changes the rows' text, not which problems there are
    qtbot.waitUntil(lambda: any(r[0].startswith("hidden") for r in rows(panel)))
    assert panel.current_diagnostic().node == ids["fc1"]
    controller.add_block("Linear", (0.0, 300.0))  # an unconnected block: a new error, listed above the warning
    qtbot.waitUntil(lambda: len(rows(panel)) > 2)
    assert panel.current_diagnostic().node == ids["fc1"]
    assert panel.tree.currentItem().text(WHERE).startswith("hidden")


# ---- Code ----------------------------------------------------------------------------------------------


def test_code_shows_the_model_class(qtbot, editor):
    controller, _ = editor()
    panel = code_panel(qtbot, controller)
    text = panel.editor.toPlainText()
    assert "class DigitsClassifier(nn.Module):" in text
    assert "nn.Linear(64, 32)" in text and "nn.Linear(32, 10)" in text
    assert panel.editor.isReadOnly()
    assert panel.editor.font().fixedPitch() or panel.editor.fontInfo().fixedPitch()
    assert not panel.banner.isVisible()


def test_a_project_named_like_a_script_name_shows_the_class_it_exports(qtbot):
    project = Project.new("Image")  # the scripts import PIL's Image: the exported class is ImageModel
    digits(project.graph)
    controller = EditorController(Document(project))
    try:
        panel = code_panel(qtbot, controller)
        assert "class ImageModel(nn.Module):" in panel.editor.toPlainText()
    finally:
        controller.close()


def test_code_follows_a_parameter_edit(qtbot, editor):
    controller, ids = editor()
    panel = code_panel(qtbot, controller)
    controller.set_param(ids["fc1"], "out_features", 48)
    qtbot.waitUntil(lambda: "nn.Linear(64, 48)" in panel.editor.toPlainText())
    assert "nn.Linear(48, 10)" in panel.editor.toPlainText()


def test_scroll_position_is_kept_when_the_code_changes(qtbot, editor):
    controller, ids = editor()
    panel = code_panel(qtbot, controller)
    bar = panel.editor.verticalScrollBar()
    assert bar.maximum() >= 5
    bar.setValue(5)
    controller.set_param(ids["fc1"], "out_features", 48)
    qtbot.waitUntil(lambda: "nn.Linear(64, 48)" in panel.editor.toPlainText())
    assert bar.value() == 5


def test_an_error_shows_a_banner_over_the_last_good_code(qtbot, editor):
    controller, ids = editor()
    panel = code_panel(qtbot, controller)
    good = panel.editor.toPlainText()
    controller.set_param(ids["fc1"], "in_features", 100)
    qtbot.waitUntil(lambda: panel.banner.isVisible())
    assert "fc1" in panel.banner_text.text()
    assert panel.editor.toPlainText() == good
    assert panel.highlighter.dimmed
    controller.undo_stack.undo()
    qtbot.waitUntil(lambda: not panel.banner.isVisible())
    assert not panel.highlighter.dimmed


def test_copy_puts_the_code_on_the_clipboard(qtbot, editor):
    controller, _ = editor()
    panel = code_panel(qtbot, controller)
    QApplication.clipboard().clear()
    with qtbot.waitSignal(controller.message, timeout=1000) as blocker:
        qtbot.mouseClick(panel.copy_button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == panel.editor.toPlainText()
    assert "class DigitsClassifier" in QApplication.clipboard().text()
    assert "Copied model.py" in blocker.args[0]


def test_export_button_asks_the_window(qtbot, editor):
    controller, _ = editor()
    panel = code_panel(qtbot, controller)
    with qtbot.waitSignal(panel.export_requested, timeout=1000):
        qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)


def test_train_script_or_why_not(qtbot, editor):
    controller, _ = editor()
    panel = code_panel(qtbot, controller)
    panel.set_current_file("train.py")
    assert "def train(" in panel.editor.toPlainText()
    assert not panel.banner.isVisible()

    controller, _ = editor(optimizer=False)
    panel = code_panel(qtbot, controller)
    panel.set_current_file("train.py")
    assert panel.banner.isVisible() and "optimizer" in panel.banner_text.text()
    assert panel.editor.toPlainText() == ""
    assert not panel.copy_button.isEnabled()


def test_a_hidden_panel_catches_up_when_shown(qtbot, editor):
    controller, ids = editor()
    panel = code_panel(qtbot, controller)
    panel.hide()
    controller.set_param(ids["fc1"], "out_features", 48)
    controller.document.reanalyze()
    assert "nn.Linear(64, 48)" in panel.code_text()


# ---- Highlighter ---------------------------------------------------------------------------------------


def palette(base: str, text: str) -> QPalette:
    p = QPalette()
    p.setColor(QPalette.ColorRole.Base, QColor(base))
    p.setColor(QPalette.ColorRole.Text, QColor(text))
    return p


def highlighted(source: str, pal: QPalette) -> tuple[QPlainTextEdit, PythonHighlighter]:
    """Highlight `source` as the Code tab does: in a plain text editor's document."""
    editor = QPlainTextEdit()
    highlighter = PythonHighlighter(editor.document(), pal)
    editor.setPlainText(source)
    return editor, highlighter


def colour_at(editor: QPlainTextEdit, block: int, column: int) -> QColor | None:
    """The foreground the highlighter gave to one character, None where it left the default."""
    for fmt in editor.document().findBlockByNumber(block).layout().formats():
        if fmt.start <= column < fmt.start + fmt.length:
            return fmt.format.foreground().color()
    return None


SOURCE = '''class Net(nn.Module):
    """A docstring
    over # two lines."""

    @torch.no_grad()
    def forward(self, x):
        return self.fc(x) * 2  # "shape"
'''


@pytest.mark.parametrize("pal", [palette("#ffffff", "#000000"), palette("#1e1e1e", "#e0e0e0")], ids=["light", "dark"])
def test_highlighter_colours_tokens(pal):
    editor, highlighter = highlighted(SOURCE, pal)
    keyword = highlighter.format_for("keyword").foreground().color()
    assert colour_at(editor, 0, 0) == keyword  # class
    assert colour_at(editor, 0, 10) is None  # nn: plain text keeps the editor's colour
    assert colour_at(editor, 0, 6) == highlighter.format_for("definition").foreground().color()
    docstring = highlighter.format_for("docstring").foreground().color()
    assert colour_at(editor, 2, 4) == docstring  # the docstring's second line, '#' and all
    assert colour_at(editor, 4, 4) == highlighter.format_for("decorator").foreground().color()
    assert colour_at(editor, 5, 16) == highlighter.format_for("self").foreground().color()
    assert colour_at(editor, 6, 28) == highlighter.format_for("number").foreground().color()
    assert colour_at(editor, 6, 32) == highlighter.format_for("comment").foreground().color()
    assert keyword != docstring


@pytest.mark.parametrize("base", ["#ffffff", "#f5f5f5", "#1e1e1e", "#2b2b2b"])
def test_highlight_colours_are_readable_on_light_and_dark(base):
    _, highlighter = highlighted("", palette(base, "#808080"))
    for kind in ("keyword", "string", "docstring", "comment", "number", "self", "decorator", "definition"):
        assert contrast(highlighter.format_for(kind).foreground().color(), QColor(base)) >= 4.0, kind

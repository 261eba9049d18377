"""The block library in the window: the shipped blocks under "Block library" in the palette, a drop that loads
one into the project with an instance (one undoable step), and File > Load Block / Save Block As, which carry
a block of the project to another project in a .nbblock file."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from netbuilder.analysis.footprint import footprint
from netbuilder.project.block_library import shipped_blocks
from netbuilder.project.project_file import project_to_dict, project_to_json
from netbuilder.ui.canvas.palette import FILE_ROLE, LIBRARY_CATEGORY, block_file_mime_data

SHIPPED = {block.name: block for block in shipped_blocks()}
# held blocks come with it: ResNetBasicBlockDown holds ResNetDownsample
DOWN = SHIPPED["ResNetBasicBlockDown"].path
LOADED = ["ResNetDownsample", "ResNetBasicBlockDown"]  # under This project, the held block first


@pytest.fixture
def chosen_file(monkeypatch):
    """Answer the next open or save file dialog with a path, recording the dialog's title and proposal."""
    asked: list[tuple[str, str]] = []

    def install(path: Path):
        def dialog(parent, title, proposal, *args, **kwargs):
            asked.append((title, proposal))
            return str(path), ""

        monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(dialog))
        monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(dialog))
        return asked

    return install


@pytest.fixture
def warnings(monkeypatch) -> list[str]:
    said: list[str] = []

    def warning(parent, title, text, *args, **kwargs):
        said.append(f"{title}|{text}")
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "warning", staticmethod(warning))
    return said


def definitions_of(window) -> list[dict]:
    return project_to_dict(window.document.project)["definitions"]


def drop(window, path: Path, point: QPointF, data: QMimeData | None = None) -> None:
    """A drag from the palette's library (or what `data` holds) entering the canvas and ending at scene
    `point`, as Qt delivers it."""
    view = window.view
    view.centerOn(point)  # the point in sight, for the drop lands where the pointer is
    data = data or block_file_mime_data(path)
    position = QPointF(view.mapFromScene(point))
    actions, button, no_keys = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    for event in (
        QDragEnterEvent(position.toPoint(), actions, data, button, no_keys),
        QDragMoveEvent(position.toPoint(), actions, data, button, no_keys),
        QDropEvent(position, actions, data, button, no_keys),
    ):
        QApplication.sendEvent(view.viewport(), event)


def overlapping(graph, node_id: str) -> list[str]:
    x, y = graph.nodes[node_id].position
    w, h = footprint(graph, node_id)
    found = []
    for other, node in graph.nodes.items():
        if other != node_id:
            ox, oy = node.position
            ow, oh = footprint(graph, other)
            if x < ox + ow and ox < x + w and y < oy + oh and oy < y + h:
                found.append(other)
    return found


# ---- the palette -------------------------------------------------------------------------------------------


def test_the_library_lists_every_shipped_block_with_its_doc_and_icon(panel):
    group = panel.category_items[LIBRARY_CATEGORY]
    rows = [group.child(i) for i in range(group.childCount())]
    assert [row.text(0) for row in rows] == sorted(SHIPPED, key=str.lower)
    assert len(rows) >= 5
    for row in rows:
        block = SHIPPED[row.text(0)]
        assert Path(row.data(0, FILE_ROLE)) == block.path
        assert html.escape(block.doc.splitlines()[0]) in row.toolTip(0)
        assert "Parameters:" in row.toolTip(0) and "onto the canvas" in row.toolTip(0)
        assert not row.icon(0).isNull()
    assert "planes" in panel.library_items["ResNetBasicBlock"].toolTip(0)  # what an instance will take


def test_search_finds_library_blocks_and_keeps_layers_first_on_a_tie(panel, qtbot):
    qtbot.keyClicks(panel.search, "resnet")
    assert set(panel.visible_library_blocks()) == {name for name in SHIPPED if name.startswith("ResNet")}
    assert "Linear" not in panel.visible_blocks()
    assert panel.best_match() == "ResNetBasicBlock"
    with qtbot.waitSignal(panel.block_file_activated, timeout=1000) as blocker:
        qtbot.keyClick(panel.search, Qt.Key.Key_Return)
    assert blocker.args == [SHIPPED["ResNetBasicBlock"].path]
    panel.search.clear()
    qtbot.keyClicks(panel.search, "conv")  # in the docs of ResNet blocks, in the name of Conv1d
    assert "ResNetBasicBlock" in panel.visible_library_blocks()
    assert panel.best_match() == "Conv1d"
    panel.search.clear()
    qtbot.keyClicks(panel.search, "squeeze")
    assert panel.visible_library_blocks() == ["SqueezeExcitation"]
    assert not panel.category_items[LIBRARY_CATEGORY].isHidden()
    panel.search.clear()
    qtbot.keyClicks(panel.search, "lstm")
    assert panel.category_items[LIBRARY_CATEGORY].isHidden()  # nothing of it matches


# ---- a drop loads the block ----------------------------------------------------------------------------------


def test_a_drop_adds_an_instance_and_its_blocks_and_one_undo_takes_them_all_away(window):
    graph = window.controller.graph
    before, steps = project_to_json(window.document.project), window.controller.undo_stack.count()
    fc1 = graph.by_label("fc1")
    drop(window, DOWN, QPointF(*fc1.position) + QPointF(10, 10))  # onto fc1: placed in free space beside it
    (instance,) = window.scene.selected_node_ids()
    assert graph.nodes[instance].block == "ResNetBasicBlockDown"
    assert {d["name"] for d in definitions_of(window)} == {"ResNetBasicBlockDown", "ResNetDownsample"}
    assert window.palette.project_blocks() == LOADED
    assert overlapping(graph, instance) == []
    assert window.controller.undo_stack.count() == steps + 1
    assert window.undo_action.text() == "&Undo Add ResNetBasicBlockDown"
    after = project_to_json(window.document.project)

    window.undo_action.trigger()
    assert project_to_json(window.document.project) == before
    assert instance not in window.scene.nodes and window.palette.project_blocks() == []
    window.redo_action.trigger()
    assert project_to_json(window.document.project) == after
    assert instance in window.scene.nodes and window.palette.project_blocks() == LOADED


def test_a_second_drop_reuses_the_block_the_project_has(window):
    drop(window, DOWN, QPointF(0, 800))
    loaded = definitions_of(window)
    drop(window, DOWN, QPointF(0, 800))
    assert definitions_of(window) == loaded
    instances = [n for n in window.controller.graph.nodes.values() if n.block == "ResNetBasicBlockDown"]
    assert len(instances) == 2
    assert all(overlapping(window.controller.graph, n.id) == [] for n in instances)


def test_a_block_file_dragged_from_a_file_manager_drops_like_a_library_block(window, tmp_path):
    copy = tmp_path / "se.nbblock"
    copy.write_bytes(SHIPPED["SqueezeExcitation"].path.read_bytes())
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(tmp_path / "notes.txt")), QUrl.fromLocalFile(str(copy))])
    drop(window, copy, QPointF(0, 800), data)
    (instance,) = window.scene.selected_node_ids()
    assert window.controller.graph.nodes[instance].block == "SqueezeExcitation"
    assert window.palette.project_blocks() == ["SqueezeExcitation"]


def test_activating_a_library_block_adds_it_in_the_middle_of_the_canvas(window):
    window.palette.block_file_activated.emit(SHIPPED["SqueezeExcitation"].path)
    (instance,) = window.scene.selected_node_ids()
    assert window.controller.graph.nodes[instance].block == "SqueezeExcitation"
    node_rect = window.scene.nodes[instance].sceneBoundingRect()
    assert window.view.mapToScene(window.view.viewport().rect()).boundingRect().intersects(node_rect)


def test_a_drop_inside_an_opened_block_adds_there_and_undo_takes_the_loaded_block_too(window):
    drop(window, SHIPPED["ResNetBasicBlock"].path, QPointF(0, 800))
    (outer,) = window.scene.selected_node_ids()
    window.controller.open_instance(outer)
    before = project_to_json(window.document.project)
    drop(window, SHIPPED["SqueezeExcitation"].path, QPointF(0, 600))
    (inner,) = window.scene.selected_node_ids()
    assert window.controller.top.definitions["ResNetBasicBlock"].graph.nodes[inner].block == "SqueezeExcitation"
    window.undo_action.trigger()
    assert project_to_json(window.document.project) == before
    assert "SqueezeExcitation" not in window.controller.top.definitions


# ---- Save Block As and Load Block --------------------------------------------------------------------------


def test_save_then_load_into_another_project_gives_the_same_block(window, chosen_file, tmp_path):
    graph = window.controller.graph
    window.scene.select_nodes([graph.by_label("fc1").id, graph.by_label("relu1").id])
    instance = window.controller.group(window.scene.selected_node_ids(), "Hidden")
    saved = definitions_of(window)
    target = tmp_path / "blocks" / "mine.nbblock"  # a file's name need not be its block's
    target.parent.mkdir()
    asked = chosen_file(target)
    actions = window.palette.context_actions(window.palette.items["Hidden"])  # right-click under This project
    assert [a.text() for a in actions] == ["Add to Canvas", "Save Block As…"]
    actions[1].trigger()
    assert asked[-1][0] == "Save block Hidden" and asked[-1][1].endswith("Hidden.nbblock")
    assert target.is_file() and "Saved block Hidden" in window.statusBar().currentMessage()
    window.scene.select_nodes([instance])
    assert window.save_block_action.isEnabled() and window.save_block_action in window.canvas_menu_actions()

    window.controller.undo_stack.setClean()
    window.new_project()
    assert definitions_of(window) == []
    asked = chosen_file(target)
    assert window.load_block_action.isEnabled()
    window.load_block_action.trigger()
    assert asked[-1][0] == "Load block" and asked[-1][1] == str(target.parent)  # where the last block file went
    assert definitions_of(window) == saved
    assert window.palette.project_blocks() == ["Hidden"]
    assert window.palette.tree.currentItem() is window.palette.items["Hidden"]
    assert "Loaded Hidden" in window.statusBar().currentMessage()
    assert window.undo_action.text() == "&Undo Load block Hidden"
    window.undo_action.trigger()
    assert definitions_of(window) == [] and window.palette.project_blocks() == []
    window.redo_action.trigger()
    assert definitions_of(window) == saved


def test_loading_a_block_the_project_has_changes_nothing_and_says_so(window):
    drop(window, DOWN, QPointF(0, 800))
    steps, loaded = window.controller.undo_stack.count(), definitions_of(window)
    assert window.load_block_file(DOWN) == "ResNetBasicBlockDown"
    assert definitions_of(window) == loaded and window.controller.undo_stack.count() == steps
    assert "already has" in window.statusBar().currentMessage()


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ('{"format_version": 2, "block": "X", "defin', "not valid JSON"),
        ('{"format_version": 2, "block": "X", "definitions": []}', "block"),
        (None, "No such file"),
    ],
)
def test_a_broken_file_gives_a_one_line_message_and_changes_nothing(window, warnings, tmp_path, content, said):
    path = tmp_path / "broken.nbblock"
    if content is not None:
        path.write_text(content)
    before, steps = project_to_json(window.document.project), window.controller.undo_stack.count()
    assert window.load_block_file(path) is None
    (message,) = warnings
    title, text = message.split("|")
    assert title == "Cannot load block"
    assert "\n" not in text and "broken.nbblock" in text and said in text and "Choose another" in text
    assert project_to_json(window.document.project) == before
    assert window.controller.undo_stack.count() == steps and window.palette.project_blocks() == []


def test_save_block_as_needs_a_block_of_the_project(window):
    window.scene.select_nodes([window.controller.graph.by_label("fc1").id])
    assert not window.save_block_action.isEnabled()
    window.save_block_dialog()  # from the menu while disabled it would do nothing; called, it says why
    assert "select one block of this project" in window.statusBar().currentMessage()
    actions = window.palette.context_actions(window.palette.items["Linear"])
    assert [a.text() for a in actions] == ["Add to Canvas"]  # a layer has no file of its own to save


def test_the_library_comes_first_folded_and_a_search_unfolds_it(panel, qtbot):
    group = panel.category_items[LIBRARY_CATEGORY]
    assert panel.tree.indexOfTopLevelItem(group) == 0 and not group.isExpanded()
    qtbot.keyClicks(panel.search, "encoder")
    assert group.isExpanded() and panel.best_match() == "EncoderLayer"
    panel.search.clear()
    assert not group.isExpanded()


def test_inside_an_opened_block_save_block_as_saves_that_block(window, chosen_file, tmp_path):
    drop(window, DOWN, QPointF(0, 800))
    (instance,) = window.scene.selected_node_ids()
    window.controller.open_instance(instance)
    window.scene.clearSelection()
    assert window.save_block_action.isEnabled()
    asked = chosen_file(tmp_path / "down")  # the suffix is added
    window.save_block_action.trigger()
    assert asked == [
        ("Save block ResNetBasicBlockDown", str(Path(asked[0][1]).parent / "ResNetBasicBlockDown.nbblock"))
    ]
    assert (tmp_path / "down.nbblock").read_bytes() == DOWN.read_bytes()  # the shipped file, byte for byte


def test_a_save_that_fails_says_why_and_writes_nothing(window, chosen_file, monkeypatch, tmp_path):
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", staticmethod(lambda parent, title, text, *a: said.append(text)))
    drop(window, DOWN, QPointF(0, 800))
    chosen_file(tmp_path / "missing" / "down.nbblock")
    assert window.save_block_as("ResNetBasicBlockDown") is None
    (text,) = said
    assert "ResNetBasicBlockDown was not saved" in text and "down.nbblock" in text
    assert not (tmp_path / "missing").exists()

"""The block palette, the Tab quick-add popup and the category icons."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPalette

from netbuilder.blocks import catalogue
from netbuilder.ui import icons
from netbuilder.ui.canvas import palette
from netbuilder.ui.canvas.palette import BLOCK_ROLE, block_mime_data, search_blocks
from netbuilder.ui.canvas.quick_add import QuickAddPopup
from netbuilder.ui.canvas.scene import BLOCK_MIME
from netbuilder.ui.icons import block_icon, category_icon, icon_colour
from netbuilder.ui.theme import CATEGORY_COLOURS

CONVOLUTIONS = {"Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d"}


@pytest.fixture
def popup(qtbot) -> QuickAddPopup:
    widget = QuickAddPopup()
    qtbot.addWidget(widget)
    widget.open_at(QPoint(40, 40))
    qtbot.waitExposed(widget)
    return widget


# The palette


def test_palette_lists_every_block_under_its_category_in_catalogue_order(panel):
    tree = panel.tree
    assert tree.topLevelItem(0).text(0) == "Block library"  # the shipped blocks first (test_block_library_ui)
    groups = [tree.topLevelItem(i) for i in range(1, tree.topLevelItemCount())]
    assert [g.text(0) for g in groups] == list(catalogue.CATEGORIES)
    for group in groups:
        assert group.isExpanded()
        children = [group.child(i) for i in range(group.childCount())]
        assert [c.text(0) for c in children] == [s.type for s in catalogue.by_category()[group.text(0)]]
        assert all(c.data(0, BLOCK_ROLE) == c.text(0) for c in children)
        assert all(not c.icon(0).isNull() for c in children)
    assert sorted(panel.visible_blocks()) == sorted(catalogue.BLOCKS)


def test_palette_redraws_its_icons_for_a_dark_palette(panel):
    item = panel.items["Adam"]
    assert item.icon(0).cacheKey() == category_icon("Optimizer", dark=False).cacheKey()
    dark = QPalette(panel.palette())
    dark.setColor(QPalette.ColorRole.Base, QColor("#202020"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#e0e0e0"))
    panel.setPalette(dark)
    assert item.icon(0).cacheKey() == category_icon("Optimizer", dark=True).cacheKey()


def test_tooltip_shows_the_whole_doc_ports_and_parameters(panel):
    tip = panel.items["Conv2d"].toolTip(0)
    first, second = catalogue.get("Conv2d").doc.splitlines()
    assert first in tip and second in tip
    assert "Inputs:</b> x" in tip and "Outputs:</b> y" in tip
    for name in ("in_channels", "out_channels", "kernel_size", "padding_mode"):
        assert name in tip
    loss_tip = panel.items["CrossEntropy"].toolTip(0)
    assert "input, target" in loss_tip and "Outputs:</b> loss" in loss_tip


def test_search_conv_shows_convolutions_and_hides_linear(panel, qtbot):
    qtbot.keyClicks(panel.search, "conv")
    shown = set(panel.visible_blocks())
    assert shown >= CONVOLUTIONS
    assert "Linear" not in shown and panel.items["Linear"].isHidden()
    assert panel.category_items["Loss"].isHidden()  # a category with nothing left disappears
    assert not panel.category_items["Convolution"].isHidden()
    assert panel.tree.currentItem().text(0) == "Conv1d"

    panel.search.clear()
    assert sorted(panel.visible_blocks()) == sorted(catalogue.BLOCKS)
    assert not panel.category_items["Loss"].isHidden()


def test_search_matches_categories_and_doc_words_case_insensitively(panel, qtbot):
    qtbot.keyClicks(panel.search, "OPTIMIZER")
    assert set(panel.visible_blocks()) == {s.type for s in catalogue.by_category()["Optimizer"]}
    panel.search.clear()
    qtbot.keyClicks(panel.search, "overfitting")  # only in Dropout's and Dropout2d's docs
    assert set(panel.visible_blocks()) == {"Dropout", "Dropout2d"}


def test_search_without_match_says_so(panel, qtbot):
    qtbot.keyClicks(panel.search, "zebra")
    assert panel.visible_blocks() == []
    assert panel.empty_label.isVisible() and "zebra" in panel.empty_label.text()
    assert not panel.tree.isVisible()


def test_enter_in_search_adds_the_best_match_not_the_first_in_the_tree(panel, qtbot):
    # RNN comes before LSTM in the tree and its doc mentions LSTM; the name match must win.
    qtbot.keyClicks(panel.search, "lstm")
    assert "RNN" in panel.visible_blocks()
    with qtbot.waitSignal(panel.block_activated, timeout=1000) as blocker:
        qtbot.keyClick(panel.search, Qt.Key.Key_Return)
    assert blocker.args == ["LSTM"]
    panel.search.clear()
    with qtbot.assertNotEmitted(panel.block_activated):
        qtbot.keyClick(panel.search, Qt.Key.Key_Return)  # a blank search adds nothing


def test_double_click_on_a_block_activates_it(panel, qtbot):
    tree = panel.tree
    item = panel.items["MaxPool2d"]
    tree.scrollToItem(item)
    centre = tree.visualItemRect(item).center()
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=centre)  # Qt 6's mouseDClick lacks the press
    with qtbot.waitSignal(panel.block_activated, timeout=1000) as blocker:
        qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert blocker.args == ["MaxPool2d"]


def test_double_click_on_a_category_folds_it_and_adds_nothing(panel, qtbot):
    tree = panel.tree
    core = panel.category_items["Core"]
    centre = tree.visualItemRect(core).center()
    with qtbot.assertNotEmitted(panel.block_activated):
        qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=centre)
        qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert not core.isExpanded()


def test_enter_on_a_block_in_the_tree_activates_it(panel, qtbot):
    qtbot.keyClicks(panel.search, "drop")
    qtbot.keyClick(panel.search, Qt.Key.Key_Down)  # into the list
    assert panel.tree.hasFocus()
    qtbot.keyClick(panel.tree, Qt.Key.Key_Down)
    with qtbot.waitSignal(panel.block_activated, timeout=1000) as blocker:
        qtbot.keyClick(panel.tree, Qt.Key.Key_Return)
    assert blocker.args == ["Dropout2d"]


def test_drag_mime_data_holds_the_block_name():
    mime = block_mime_data("ConvTranspose2d")
    assert mime.hasFormat(BLOCK_MIME)
    assert bytes(mime.data(BLOCK_MIME)).decode("utf-8") == "ConvTranspose2d"


def test_dragging_a_block_row_carries_its_name_and_icon(panel, monkeypatch):
    started = []

    class FakeDrag:
        def __init__(self, source):
            self.source = source

        def setMimeData(self, mime):
            self.mime = mime

        def setPixmap(self, pixmap):
            self.pixmap = pixmap

        def setHotSpot(self, point):
            pass

        def exec(self, actions):
            started.append(self)
            return Qt.DropAction.CopyAction

    monkeypatch.setattr(palette, "QDrag", FakeDrag)
    panel.tree.setCurrentItem(panel.items["GRU"])
    panel.tree.startDrag(Qt.DropAction.CopyAction)
    assert len(started) == 1
    assert bytes(started[0].mime.data(BLOCK_MIME)).decode() == "GRU"
    assert not started[0].pixmap.isNull()

    panel.tree.setCurrentItem(panel.category_items["Loss"])
    panel.tree.startDrag(Qt.DropAction.CopyAction)
    assert len(started) == 1  # a category row is not a block


# The search both share


def test_search_ranks_exact_then_prefix_then_contained_names_then_docs():
    relu = [s.type for s in search_blocks("relu")]
    assert relu[:4] == ["ReLU", "ReLU6", "LeakyReLU", "PReLU"]  # exact, prefix, then contained
    assert [s.type for s in search_blocks("batch norm")][:2] == ["BatchNorm1d", "BatchNorm2d"]
    transformer = [s.type for s in search_blocks("transformer")]
    assert transformer[0] == "TransformerEncoderLayer"
    assert "GELU" in transformer  # "The activation of transformers"
    assert [s.type for s in search_blocks("")] == [s.type for ss in catalogue.by_category().values() for s in ss]
    both = [s.type for s in search_blocks("conv linear")]  # every word must match somewhere
    assert "BatchNorm1d" in both and "Conv2d" not in both and "Linear" not in both
    assert search_blocks("pooling loss") == []


# The quick-add popup


def test_quick_add_typing_lstm_and_enter_chooses_lstm(popup, qtbot):
    qtbot.keyClicks(popup.search, "lstm")
    assert popup.results()[0] == "LSTM"
    with qtbot.waitSignal(popup.chosen, timeout=1000) as blocker:
        qtbot.keyClick(popup.search, Qt.Key.Key_Return)
    assert blocker.args == ["LSTM"]
    assert not popup.isVisible()


def test_quick_add_lists_what_the_palette_search_finds(popup, qtbot):
    qtbot.keyClicks(popup.search, "norm")
    assert popup.results() == [s.type for s in search_blocks("norm")]
    assert "LayerNorm" in popup.results() and "Linear" not in popup.results()


def test_quick_add_arrow_keys_move_the_choice(popup, qtbot):
    qtbot.keyClicks(popup.search, "conv")
    qtbot.keyClick(popup.search, Qt.Key.Key_Down)
    qtbot.keyClick(popup.search, Qt.Key.Key_Down)
    qtbot.keyClick(popup.search, Qt.Key.Key_Up)
    with qtbot.waitSignal(popup.chosen, timeout=1000) as blocker:
        qtbot.keyClick(popup.search, Qt.Key.Key_Enter)
    assert blocker.args == ["Conv2d"]


def test_quick_add_click_chooses_that_row(popup, qtbot):
    qtbot.keyClicks(popup.search, "pool")
    row = popup.results().index("AvgPool2d")
    rect = popup.list.visualItemRect(popup.list.item(row))
    with qtbot.waitSignal(popup.chosen, timeout=1000) as blocker:
        qtbot.mouseClick(popup.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == ["AvgPool2d"]


def test_quick_add_escape_closes_without_choosing(popup, qtbot):
    qtbot.keyClicks(popup.search, "relu")
    with qtbot.assertNotEmitted(popup.chosen):
        qtbot.keyClick(popup.search, Qt.Key.Key_Escape)
    assert not popup.isVisible()


def test_quick_add_enter_with_no_match_does_nothing(popup, qtbot):
    qtbot.keyClicks(popup.search, "zebra")
    assert popup.results() == []
    with qtbot.assertNotEmitted(popup.chosen):
        qtbot.keyClick(popup.search, Qt.Key.Key_Return)
    assert popup.isVisible()


def test_quick_add_reopens_empty(popup, qtbot):
    qtbot.keyClicks(popup.search, "gru")
    popup.close()
    popup.open_at(QPoint(10, 10))
    assert popup.search.text() == ""
    assert len(popup.results()) == len(catalogue.BLOCKS)


# Icons


def _opaque_pixels(image: QImage) -> list[QColor]:
    return [
        image.pixelColor(x, y)
        for y in range(image.height())
        for x in range(image.width())
        if image.pixelColor(x, y).alpha() > 200
    ]


@pytest.mark.parametrize("category", catalogue.CATEGORIES)
def test_category_icon_is_drawn_in_its_colour_at_small_and_large_sizes(qtbot, category):
    assert (icons.icons_dir() / icons.icon_file_name(category)).is_file()  # not the fallback glyph
    icon = category_icon(category, dark=False)
    assert not icon.isNull()
    expected = QColor(CATEGORY_COLOURS[category])
    for size in (16, 48):
        image = icon.pixmap(size, size).toImage()
        assert image.width() == size
        opaque = _opaque_pixels(image)
        assert len(opaque) >= size * size // 20  # a visible glyph, not a speck
        closest = min(
            abs(c.red() - expected.red()) + abs(c.green() - expected.green()) + abs(c.blue() - expected.blue())
            for c in opaque
        )
        assert closest <= 12  # recoloured: SVGs say currentColor, the category colour replaces it


def test_dark_palette_icons_are_lighter(qtbot):
    for category in catalogue.CATEGORIES:
        assert icon_colour(category, dark=True).lightnessF() >= 0.6
        assert icon_colour(category, dark=True).lightness() > icon_colour(category, dark=False).lightness()


def test_selected_rows_get_a_separate_icon_not_a_tint(qtbot):
    icon = category_icon("Attention", dark=False)
    normal = icon.pixmap(24, 24, QIcon.Mode.Normal).toImage()
    selected = icon.pixmap(24, 24, QIcon.Mode.Selected).toImage()
    assert max(c.lightness() for c in _opaque_pixels(selected)) > 240
    assert max(c.lightness() for c in _opaque_pixels(normal)) < 200


def test_block_icon_is_its_category_icon(qtbot):
    assert block_icon("Conv2d", dark=False).cacheKey() == category_icon("Convolution", dark=False).cacheKey()
    assert block_icon("Adam", dark=True).cacheKey() == category_icon("Optimizer", dark=True).cacheKey()

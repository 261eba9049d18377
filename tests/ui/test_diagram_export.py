"""File > Export Diagram: the canvas as an SVG a person can put in a paper and a sharp PNG, framed around the
whole graph, in the window's theme, on a plain background (the canvas grid stays on screen)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter

import pytest
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QFileDialog

from netbuilder.ui.app.main_window import MainWindow
from netbuilder.ui.canvas.diagram_export import MARGIN, PNG_SCALE, DiagramExportError, diagram_rect, export_diagram
from netbuilder.ui.theme import DARK
from tests.ui.conftest import SAMPLES, forget_changes

LABELS = ("digits", "flatten", "fc1", "relu1", "dropout", "fc2", "loss", "optimizer")


@pytest.fixture
def window(qtbot, settings, recovery):
    win = MainWindow(settings, recovery)
    qtbot.addWidget(win, before_close_func=forget_changes)
    win.show()
    assert win.open_path(SAMPLES / "digits_mlp.nbproj")
    return win


def sampled_colours(image: QImage) -> Counter:
    return Counter(
        image.pixelColor(x, y).rgb() for x in range(0, image.width(), 5) for y in range(0, image.height(), 5)
    )


def every_colour(image: QImage) -> set[int]:
    return {image.pixelColor(x, y).rgb() for x in range(image.width()) for y in range(image.height())}


def answer_save_dialog(monkeypatch, path) -> None:
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), "")))


def test_the_svg_parses_and_names_every_node(window, tmp_path, monkeypatch):
    assert {item.node.label for item in window.scene.nodes.values()} == set(LABELS)
    path = tmp_path / "net.svg"
    answer_save_dialog(monkeypatch, path)
    window.export_diagram_action.trigger()
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    texts = " ".join("".join(element.itertext()) for element in root.iter() if element.tag.endswith("text"))
    for label in LABELS:
        assert label in texts
    assert "(N, 64)" in texts  # the edge shapes are in it too
    assert "Wrote the diagram" in window.statusBar().currentMessage()


def test_the_png_is_twice_the_framed_graph_and_shows_it(window, tmp_path, monkeypatch):
    window.scene.select_nodes([window.document.graph.by_label("fc1").id])
    path = tmp_path / "net.png"
    answer_save_dialog(monkeypatch, path)
    window.export_diagram_action.trigger()
    image = QImage(str(path))
    frame = diagram_rect(window.scene)
    assert frame.contains(window.scene.itemsBoundingRect())
    assert image.width() == round(frame.width() * PNG_SCALE) and image.height() == round(frame.height() * PNG_SCALE)
    colours = sampled_colours(image)
    assert colours.most_common(1)[0][0] == window.theme.background.rgb()
    assert len(colours) > 20  # nodes, text, edges: not a blank image
    top_margin = every_colour(image.copy(0, 0, image.width(), int(MARGIN * PNG_SCALE) - 4))
    assert top_margin == {window.theme.background.rgb()}  # no grid, and nothing is cut off at the edge
    assert window.scene.selected_node_ids() == [window.document.graph.by_label("fc1").id]  # selection kept


def test_the_diagram_takes_the_current_theme(window, tmp_path):
    window.set_theme("dark")
    export_diagram(window.scene, tmp_path / "dark.png")
    image = QImage(str(tmp_path / "dark.png"))
    assert sampled_colours(image).most_common(1)[0][0] == DARK.background.rgb()
    assert QColor(DARK.background).lightness() < 60
    left_margin = every_colour(image.copy(0, 0, int(MARGIN * PNG_SCALE) - 4, image.height()))
    assert left_margin == {DARK.background.rgb()}  # the canvas grid is not drawn


def test_the_svg_has_no_grid_lines(window, tmp_path):
    """The grid's colour appears nowhere in the SVG: a grid line would be a stroke of it."""
    path = export_diagram(window.scene, tmp_path / "net.svg")
    assert window.theme.grid.name() not in path.read_text().lower()
    assert window.theme.background.name() in path.read_text().lower()  # the plain background is there


def test_a_name_without_a_known_suffix_becomes_svg_and_other_suffixes_are_refused(window, tmp_path):
    assert window.export_diagram_to(tmp_path / "net")
    assert (tmp_path / "net.svg").is_file()
    with pytest.raises(DiagramExportError, match=r"\.svg or \.png"):
        export_diagram(window.scene, tmp_path / "net.pdf")

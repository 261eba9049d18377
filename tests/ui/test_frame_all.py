"""Frame All shows a network whole however large it is (the 1,000-node benchmark graph, an imported resnet18,
laid out either way), never above 100 %; zoomed that far out, a node still shows its label while it can. A
network just opened is shown whole only where it can be read so; a longer one opens readable at its start."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter, QTransform
from PySide6.QtWidgets import QStyleOptionGraphicsItem

from netbuilder.analysis.layout import Orientation
from netbuilder.blocks import catalogue
from netbuilder.graph import Graph
from netbuilder.project import Project, load_project
from netbuilder.ui.canvas.items import DETAIL_SCALE, LEGIBLE_PIXELS, NodeItem
from netbuilder.ui.canvas.scene import GraphScene
from netbuilder.ui.canvas.view import FRAME_MARGIN, MIN_ZOOM, OPENED_WHOLE_DOWN_TO, READABLE_ZOOM, GraphView
from netbuilder.ui.theme import LIGHT
from tests.ui.conftest import imported, imported_resnet18, laid_out

BENCHMARKS = Path(__file__).parents[2] / "benchmarks"
SAMPLES = Path(__file__).parents[2] / "sample_projects"


def benchmark_graph() -> Graph:
    """The 1,000-node residual tower that benchmarks/bench_analysis.py measures (and bench_window draws)."""
    spec = importlib.util.spec_from_file_location("bench_analysis", BENCHMARKS / "bench_analysis.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    graph, _ = module.residual_tower(1000)
    return graph


@pytest.fixture(scope="module", params=[False, True], ids=["collapsed", "expanded"])
def resnet18(request) -> Project:
    return imported_resnet18(request.param)


@pytest.fixture(scope="module")
def expanded_resnet18() -> Project:
    return imported_resnet18(True)


def every_node_inside(scene: GraphScene, view: GraphView) -> list[str]:
    """The nodes whose rectangle on screen leaves the viewport (empty when all are in view)."""
    inside = view.viewport().rect()
    return [
        node_id
        for node_id, item in scene.nodes.items()
        if not inside.contains(view.mapFromScene(item.sceneBoundingRect()).boundingRect())
    ]


@pytest.mark.parametrize("orientation", Orientation)
def test_frame_all_shows_every_node_of_the_thousand_node_benchmark_graph(show, orientation):
    scene, view = show(Project("tower", laid_out(benchmark_graph(), orientation)), orientation)
    view.set_zoom(1.0)
    assert every_node_inside(scene, view)  # at 100 % most of it is out of view
    view.frame_all()
    assert every_node_inside(scene, view) == []
    # a long chain needs a zoom further out than the wheel's limit: zooming out stops where framing went
    framed = view.zoom
    view.zoom_by(0.5)
    assert view.zoom == pytest.approx(min(framed, MIN_ZOOM))


@pytest.mark.parametrize("orientation", Orientation)
def test_frame_all_shows_every_node_of_an_imported_resnet18(show, resnet18, orientation):
    project = Project("resnet18", laid_out(resnet18.graph, orientation))
    scene, view = show(project, orientation)
    view.frame_all()
    assert every_node_inside(scene, view) == []
    if len(scene.nodes) > 60:  # expanded: too long for the old limit of 55 %
        assert view.zoom < 0.2


@pytest.mark.slow
def test_frame_all_shows_every_node_of_an_expanded_densenet121(show):
    project = imported("densenet121", expand=True)
    assert len(project.graph.nodes) > 300
    scene, view = show(
        Project("densenet121", laid_out(project.graph, Orientation.TOP_TO_BOTTOM)), Orientation.TOP_TO_BOTTOM
    )
    view.frame_all()
    assert every_node_inside(scene, view) == []


def test_frame_selection_fits_a_selection_too_large_for_the_old_limit(show, expanded_resnet18):
    scene, view = show(Project("resnet18", laid_out(expanded_resnet18.graph, Orientation.LEFT_TO_RIGHT)))
    ends = [*scene.nodes][:: len(scene.nodes) - 1]  # the first node and the last
    scene.select_nodes(ends)
    view.set_zoom(2.0)
    view.frame_selection()
    for node_id in ends:
        on_screen = view.mapFromScene(scene.nodes[node_id].sceneBoundingRect()).boundingRect()
        assert view.viewport().rect().contains(on_screen)
    assert view.zoom < 0.55  # what Frame All used to stop at


def test_frame_all_never_enlarges_a_small_graph_beyond_100_percent(show):
    graph = Graph()
    graph.add_node("ReLU", position=(0.0, 0.0))
    scene, view = show(Project("one", graph))
    view.set_zoom(0.3)
    view.frame_all()
    assert view.zoom == pytest.approx(1.0)
    assert every_node_inside(scene, view) == []


def node_picture(label: str, zoom: float) -> QImage:
    """A node drawn alone at `zoom`, as the view draws it."""
    graph = Graph()
    node = graph.add_node("Conv2d", label=label)
    item = NodeItem(node, LIGHT)
    image = QImage(200, 100, QImage.Format.Format_ARGB32)
    image.fill(LIGHT.background)
    painter = QPainter(image)
    painter.setTransform(QTransform.fromTranslate(10, 10).scale(zoom, zoom))
    item.paint(painter, QStyleOptionGraphicsItem())
    painter.end()
    return image


def label_height(first: str, second: str, zoom: float) -> int:
    """How many rows of pixels differ between a node labelled `first` and one labelled `second` at `zoom`:
    about the height of the label's text on screen (0 when no label is drawn)."""
    a, b = node_picture(first, zoom), node_picture(second, zoom)
    rows = [y for y in range(a.height()) if any(a.pixel(x, y) != b.pixel(x, y) for x in range(a.width()))]
    return rows[-1] - rows[0] + 1 if rows else 0


def test_zoomed_out_a_node_still_shows_its_label_at_a_legible_size_while_one_fits(qapp):
    zoom = DETAIL_SCALE * 0.6  # the title font would be some 4 pixels high: the label keeps its own size
    assert label_height("Ij", "stem_conv", zoom) >= LEGIBLE_PIXELS
    # an imported node's long label is cut from the left: its end says most
    assert node_picture("layer1.0.conv1", zoom) != node_picture("layer1.0.conv2", zoom)
    # so far out that no legible line fits in the card, it is a coloured card alone
    assert label_height("Ij", "stem_conv", 0.05) == 0


def test_a_frame_is_centred_on_what_it_fits(show, expanded_resnet18):
    down = Orientation.TOP_TO_BOTTOM
    scene, view = show(Project("resnet18", laid_out(expanded_resnet18.graph, down)), down)
    view.frame_all()
    centre = view.mapToScene(view.viewport().rect().center())
    bounds = scene.itemsBoundingRect()
    assert abs(centre.x() - bounds.center().x()) < 2 / view.zoom + 1
    assert abs(centre.y() - bounds.center().y()) < 2 / view.zoom + 1


def test_a_node_a_few_pixels_high_is_a_box_in_its_category_colour(qapp):
    picture = node_picture("conv", 0.05)  # a Conv2d card is 72 high: 3.6 pixels here
    colour = LIGHT.category(catalogue.get("Conv2d").category)
    assert picture.pixelColor(12, 11).name() == colour.name()
    assert node_picture("conv", 0.5).pixelColor(12 + 40, 10 + 30).name() != colour.name()  # drawn in full


def test_the_status_bar_says_how_far_out_a_frame_went(window):
    window.view.set_zoom(0.004, floor=0.004)
    assert window.zoom_label.text() == "0.4%"
    window.view.set_zoom(0.5)
    assert window.zoom_label.text() == "50%"


def on_screen(view: GraphView, item) -> QRectF:
    return QRectF(view.mapFromScene(item.sceneBoundingRect()).boundingRect())


def test_a_network_opened_that_reads_whole_is_framed_whole(show):
    scene, view = show(load_project(SAMPLES / "digits_cnn.nbproj"))
    view.frame_opened()
    assert every_node_inside(scene, view) == [] and OPENED_WHOLE_DOWN_TO <= view.zoom <= 1.0


@pytest.mark.parametrize("orientation", Orientation)
def test_a_network_too_long_to_read_whole_opens_readable_at_its_first_card(show, expanded_resnet18, orientation):
    scene, view = show(Project("resnet18", laid_out(expanded_resnet18.graph, orientation)), orientation)
    view.frame_opened()
    assert view.zoom == pytest.approx(READABLE_ZOOM)
    (first,) = [i for i, node in expanded_resnet18.graph.nodes.items() if node.block == "Input"]
    card, viewport = on_screen(view, scene.nodes[first]), QRectF(view.viewport().rect())
    assert viewport.contains(card)
    near_edge = card.left() if orientation is Orientation.LEFT_TO_RIGHT else card.top()
    assert FRAME_MARGIN <= near_edge <= FRAME_MARGIN + 10  # at the near edge, the margin kept (and its ports)
    assert every_node_inside(scene, view)  # the rest is out of view (the overview shows it) ...
    view.frame_all()
    assert every_node_inside(scene, view) == []  # ... and Home shows it whole


def test_a_network_too_long_to_read_whole_opens_readable_around_a_card_asked_for(show, expanded_resnet18):
    scene, view = show(Project("resnet18", laid_out(expanded_resnet18.graph, Orientation.LEFT_TO_RIGHT)))
    last = max(scene.nodes.values(), key=lambda item: item.sceneBoundingRect().right())
    view.frame_opened(last.sceneBoundingRect())
    assert view.zoom == pytest.approx(READABLE_ZOOM)
    assert QRectF(view.viewport().rect()).contains(on_screen(view, last))

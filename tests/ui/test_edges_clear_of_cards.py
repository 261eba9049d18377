"""Edges and their labels are drawn clear of the cards: an edge finds its way round the cards in its way
(edge_route.routed), and again when a card comes into its way or leaves it; a shape label wider than the gap
between two neighbouring cards of a row is broken after its commas into lines that fit (edge_label.fitted), and
the label of an edge that goes round cards sits outside its detour. Checked on every sample and on an
imported resnet18, collapsed and expanded, laid out either way, with Qt's own points along each path."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFontMetricsF

from netbuilder.analysis.layout import Orientation
from netbuilder.project import Project, load_project
from netbuilder.ui.canvas.edge_label import PADDING, fitted
from netbuilder.ui.canvas.items import NODE_WIDTH, PORT_REACH, SMALL_FONT
from tests.ui.conftest import imported_resnet18, laid_out

SAMPLES = Path(__file__).parents[2] / "sample_projects"


@pytest.fixture
def metrics(qapp) -> QFontMetricsF:
    return QFontMetricsF(SMALL_FONT)


def width(metrics: QFontMetricsF, text: str) -> float:
    return max(metrics.horizontalAdvance(line) for line in text.split("\n")) + PADDING


def test_a_label_that_fits_stays_on_one_line(metrics):
    assert fitted("(N, 64, 112, 112)", metrics, width(metrics, "(N, 64, 112, 112)")) == "(N, 64, 112, 112)"


def test_a_label_too_wide_is_broken_into_the_fewest_balanced_lines_that_fit(metrics):
    label = "(N, 64, 112, 112)"
    two = fitted(label, metrics, width(metrics, label) - 1)
    assert two == "(N, 64,\n112, 112)"  # not "(N, 64, 112,\n112)": the longest line as short as it can be
    three = fitted(label, metrics, width(metrics, two) - 1)
    assert three.count("\n") == 2 and three.replace("\n", " ") == label
    assert fitted(label, metrics, 20.0) == label  # no break fits: left as it is
    assert fitted("?", metrics, 1.0) == "?"


def body(item, orientation: Orientation) -> QRectF:
    """A card as drawn, with its ports' dots: on its sides left to right, along its top and bottom else."""
    card = item.mapRectToScene(QRectF(0, 0, NODE_WIDTH, item.height))
    if orientation is Orientation.LEFT_TO_RIGHT:
        return card.adjusted(-PORT_REACH, 0, PORT_REACH, 0)
    return card.adjusted(0, -PORT_REACH, 0, PORT_REACH)


def labels_on_cards(show, project: Project, orientation: Orientation) -> list[tuple[str, str]]:
    scene, _view = show(Project(project.name, laid_out(project.graph, orientation)), orientation)
    cards = {node_id: body(item, orientation) for node_id, item in scene.nodes.items()}
    return [
        (edge.label, node_id)
        for edge in scene.edges.values()
        if edge.label
        for node_id, card in cards.items()
        if card.intersects(edge.label_box)
    ]


@pytest.mark.parametrize("orientation", Orientation)
@pytest.mark.parametrize("sample", sorted(path.stem for path in SAMPLES.glob("*.nbproj")))
def test_no_shape_label_of_a_sample_laid_out_is_drawn_on_a_card(show, sample, orientation):
    assert labels_on_cards(show, load_project(SAMPLES / f"{sample}.nbproj"), orientation) == []


@pytest.mark.parametrize("orientation", Orientation)
@pytest.mark.parametrize("expand", [False, True], ids=["collapsed", "expanded"])
def test_no_shape_label_of_an_imported_resnet18_laid_out_is_drawn_on_a_card(show, expand, orientation):
    assert labels_on_cards(show, imported_resnet18(expand), orientation) == []


def through_cards(scene, orientation: Orientation) -> list[tuple[str, str]]:
    """(edge, card) for each edge whose path (200 of Qt's points along it) enters a card not its own."""
    cards = {node_id: body(item, orientation).adjusted(1, 1, -1, -1) for node_id, item in scene.nodes.items()}
    crossing = []
    for edge, item in scene.edges.items():
        points = [item.path().pointAtPercent(k / 200) for k in range(201)]
        for node_id, card in cards.items():
            if node_id not in (edge.src, edge.dst) and any(card.contains(point) for point in points):
                crossing.append((str(edge), node_id))
    return crossing


@pytest.mark.parametrize("orientation", Orientation)
@pytest.mark.parametrize("sample", sorted(path.stem for path in SAMPLES.glob("*.nbproj")))
def test_no_edge_of_a_sample_laid_out_runs_through_a_card(show, sample, orientation):
    project = load_project(SAMPLES / f"{sample}.nbproj")
    scene, _view = show(Project(project.name, laid_out(project.graph, orientation)), orientation)
    assert through_cards(scene, orientation) == []


@pytest.mark.parametrize("orientation", Orientation)
@pytest.mark.parametrize("expand", [False, True], ids=["collapsed", "expanded"])
def test_no_edge_of_an_imported_resnet18_laid_out_runs_through_a_card(show, expand, orientation):
    project = imported_resnet18(expand)
    scene, _view = show(Project(project.name, laid_out(project.graph, orientation)), orientation)
    assert through_cards(scene, orientation) == []


def corners(path) -> list[tuple[float, float]]:
    return [(path.elementAt(i).x, path.elementAt(i).y) for i in range(path.elementCount())]


def test_an_edge_goes_round_a_card_moved_into_its_way_and_back_when_it_leaves(show, qtbot):
    project = load_project(SAMPLES / "digits_cnn.nbproj")
    scene, _view = show(Project(project.name, laid_out(project.graph, Orientation.LEFT_TO_RIGHT)))
    graph = scene.graph
    data, loss = graph.by_label("image").id, graph.by_label("loss").id
    target = next(item for edge, item in scene.edges.items() if (edge.src, edge.dst) == (data, loss))
    before = corners(target.path())
    middle = target.path().pointAtPercent(0.5)
    optimizer = graph.by_label("optimizer").id  # neither end of that edge
    where = graph.nodes[optimizer].position
    card = scene.nodes[optimizer].card()
    scene.controller.move_nodes({optimizer: (middle.x() - card.width() / 2, middle.y() - card.height() / 2)})
    assert through_cards(scene, Orientation.LEFT_TO_RIGHT) == [(str(target.edge), optimizer)]  # until routed
    qtbot.waitUntil(lambda: through_cards(scene, Orientation.LEFT_TO_RIGHT) == [])  # once the change is done
    assert corners(target.path()) != before
    scene.controller.move_nodes({optimizer: where})
    qtbot.waitUntil(lambda: corners(target.path()) == before)  # the card gone, the way it went before


def test_a_skip_along_a_row_runs_above_the_cards_it_skips(show):
    project = load_project(SAMPLES / "residual_cnn.nbproj")
    scene, _view = show(Project(project.name, laid_out(project.graph, Orientation.LEFT_TO_RIGHT)))
    graph = scene.graph
    for label in ("block1_add", "block2_add"):
        add = graph.by_label(label).id
        (skip,) = [item for edge, item in scene.edges.items() if edge.dst == add and edge.dst_port == "in2"]
        skipped = [
            item.card()
            for item in scene.nodes.values()
            if skip.source.card().right() < item.card().left() < skip.target.card().left()
        ]
        assert skipped and skip.path().boundingRect().top() < min(card.top() for card in skipped)

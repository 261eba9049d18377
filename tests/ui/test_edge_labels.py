"""An edge's shape label is drawn between the cards it joins, never under them: a label wider than the gap
between two neighbouring cards of a row is broken after its commas into lines that fit (edge_label.fitted), and
the label of an edge that bows out around the cards it skips sits outside the bow. Checked on every sample and
on an imported resnet18, collapsed and expanded, laid out either way."""

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

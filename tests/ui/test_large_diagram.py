"""A diagram of a network too long for a PNG at twice its size (the 1,000-node benchmark graph, left to right)
is drawn smaller, within MAX_PNG_SIDE, in its own proportions; the layout's direction gives its shape."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage

from netbuilder.analysis.layout import Orientation, layered_positions
from netbuilder.project import Project
from netbuilder.ui.canvas.diagram_export import MAX_PNG_SIDE, PNG_SCALE, png_scale, write_diagrams

BENCHMARKS = Path(__file__).parents[2] / "benchmarks"


def tower(orientation: Orientation) -> Project:
    spec = importlib.util.spec_from_file_location("bench_analysis", BENCHMARKS / "bench_analysis.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    graph, _ = module.residual_tower(1000)
    for node_id, position in layered_positions(graph, orientation).items():
        graph.move(node_id, position)
    return Project("tower", graph)


@pytest.mark.parametrize("orientation", Orientation)
def test_a_diagram_too_long_for_twice_its_size_is_drawn_smaller_in_its_proportions(qapp, tmp_path, orientation):
    results = write_diagrams(tower(orientation), tmp_path, ["png"])
    assert results["png"].ok, results["png"].error
    image = QImage(str(results["png"].path))
    assert max(image.width(), image.height()) == MAX_PNG_SIDE
    assert (image.width() > image.height()) == (orientation is Orientation.LEFT_TO_RIGHT)


def test_a_diagram_that_fits_stays_at_twice_its_size():
    assert png_scale(QRectF(0, 0, 3000, 400)) == PNG_SCALE
    assert png_scale(QRectF(0, 0, 100_000, 400)) == pytest.approx(MAX_PNG_SIDE / 100_000)

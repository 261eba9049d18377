"""How many inputs a node takes: a Concat joins 1 to 64 tensors (a DenseNet block's width), and the file's edge
limit, which counts on no node taking more than MAX_INPUTS_PER_NODE, holds the widest node there is."""

from __future__ import annotations

import pytest

from netbuilder.analysis import analyze
from netbuilder.blocks import BLOCKS
from netbuilder.graph import Graph
from netbuilder.graph.errors import InvalidParamError
from netbuilder.graph.limits import MAX_INPUTS_PER_NODE, MAX_PORTS
from netbuilder.project import Project, load_project, save_project


def test_no_node_takes_more_inputs_than_the_edge_limit_counts_on() -> None:
    widest = [spec.param(spec.variadic).max for spec in BLOCKS.values() if spec.variadic is not None]
    assert max(widest) <= MAX_INPUTS_PER_NODE
    assert MAX_PORTS <= MAX_INPUTS_PER_NODE  # a composite's inlets


@pytest.mark.parametrize("count", [1, 49, 64])
def test_a_concat_of_one_to_sixty_four_inputs_checks_saves_and_opens(tmp_path, count: int) -> None:
    graph = Graph()
    source = graph.add_node("Input", params={"shape": (3, 8, 8)}).id
    cat = graph.add_node("Concat", params={"inputs": count, "dim": 1}).id
    for i in range(1, count + 1):
        graph.connect(source, "x", cat, f"in{i}")
    analysis = analyze(graph)
    assert not analysis.has_errors(training=False)
    assert analysis.output_type(cat, "y").features == (3 * count, 8, 8)

    project = Project.new("wide")
    project.graph = graph
    reopened = load_project(save_project(project, tmp_path / "wide.nbproj")).graph
    assert len(reopened.inputs_of(cat)) == count


def test_a_concat_of_more_than_sixty_four_inputs_is_refused() -> None:
    with pytest.raises(InvalidParamError, match="from 1 to 64"):
        Graph().add_node("Concat", params={"inputs": 65})

"""The network summary as rows (node, block, output shapes, parameters, MACs): one definition shared by
`netbuilder summary` and the exported summary.md, so the two always agree. A composite instance is one row with
its inside's totals; expanded, the rows of its inside follow it, labelled with their path (layer1 › 0 › conv1)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from netbuilder.analysis.analyzer import Analysis
from netbuilder.analysis.node_check import NodeResult
from netbuilder.analysis.order import topological_order
from netbuilder.blocks.tensor_type import format_shape
from netbuilder.graph import Graph


@dataclass(frozen=True)
class SummaryRow:
    """One node of the summary. `parameters` and `macs` are None for nodes outside the model (the Dataset,
    losses, optimizers); `shapes` is "?" for a node whose outputs are not known yet."""

    label: str
    block: str
    shapes: str
    parameters: int | None
    macs: int | None
    depth: int = 0
    """0 for a node of the network itself, 1 inside an instance, 2 inside one inside it ..."""


def summary_rows(graph: Graph, analysis: Analysis, *, expand: bool = False) -> list[SummaryRow]:
    """A row per node in the analysis order (with `expand`, each instance followed by the rows of its inside);
    the totals are `analysis.total_params` and `total_macs`, which the top rows add up to."""
    model = set(analysis.model_nodes)
    return list(_rows(graph, analysis.order, analysis.results, model, expand, ()))


def _rows(
    graph: Graph,
    order: list[str] | tuple[str, ...],
    results: Mapping[str, NodeResult],
    model: set[str] | None,
    expand: bool,
    path: tuple[str, ...],
) -> Iterator[SummaryRow]:
    for node_id in order:
        node, result = graph.nodes[node_id], results[node_id]
        unknown = "?" if graph.spec(node_id).outputs else ""
        shapes = ", ".join(format_shape(t.shape) for t in result.outputs.values()) or unknown
        counted = model is None or node_id in model
        label = " ".join(node.label.split())
        yield SummaryRow(
            " › ".join((*path, label)),
            graph.spec(node_id).type_name(node.params),
            shapes,
            result.params if counted else None,
            result.macs if counted else None,
            len(path),
        )
        definition = graph.definition_of(node_id)
        if expand and definition is not None and result.inner is not None:
            inside, order = definition.graph, topological_order(definition.graph)
            if result.copies is None:
                yield from _rows(inside, order, result.inner, None, expand, (*path, label))
            for number, copy in enumerate(result.copies or []):  # a repeated block: each copy, numbered as torch does
                yield from _rows(inside, order, copy.inner or {}, None, expand, (*path, label, str(number)))

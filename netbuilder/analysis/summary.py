"""The network summary as rows (node, block, output shapes, parameters, MACs): one definition shared by
`netbuilder summary` and the exported summary.md, so the two always agree."""

from __future__ import annotations

from dataclasses import dataclass

from netbuilder.analysis.analyzer import Analysis
from netbuilder.blocks import BLOCKS
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


def summary_rows(graph: Graph, analysis: Analysis) -> list[SummaryRow]:
    """A row per node in the analysis order; the totals are `analysis.total_params` and `total_macs`."""
    model = set(analysis.model_nodes)
    rows = []
    for node_id in analysis.order:
        node, result = graph.nodes[node_id], analysis.results[node_id]
        unknown = "?" if BLOCKS[node.block].outputs else ""
        shapes = ", ".join(format_shape(t.shape) for t in result.outputs.values()) or unknown
        counted = node_id in model
        rows.append(
            SummaryRow(
                " ".join(node.label.split()),
                node.block,
                shapes,
                result.params if counted else None,
                result.macs if counted else None,
            )
        )
    return rows

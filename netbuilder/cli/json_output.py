"""`--json` output of check and summary: a project's nodes (shapes, parameters, MACs, diagnostics) and its
diagnostics as plain data, printed indented."""

from __future__ import annotations

import json
from typing import Any

from netbuilder.analysis import Analysis, Diagnostic
from netbuilder.blocks.tensor_type import format_shape
from netbuilder.project import Project


def print_json(data: dict[str, Any]) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def nodes_json(project: Project, analysis: Analysis) -> list[dict[str, Any]]:
    model = set(analysis.model_nodes)
    nodes = []
    for node_id in analysis.order:
        node, result = project.graph.nodes[node_id], analysis.results[node_id]
        nodes.append(
            {
                "id": node_id,
                "label": node.label,
                "block": node.block,
                "outputs": {port: format_shape(t.shape) for port, t in result.outputs.items()},
                "parameters": result.params if node_id in model else 0,
                "macs": result.macs if node_id in model else 0,
                "diagnostics": [diagnostic_json(project, d) for d in analysis.for_node(node_id)],
            }
        )
    return nodes


def diagnostic_json(project: Project, diagnostic: Diagnostic) -> dict[str, Any]:
    node = project.graph.nodes[diagnostic.node] if diagnostic.node else None
    return {
        "node": diagnostic.node,
        "label": node.label if node else None,
        "severity": diagnostic.severity,
        "code": diagnostic.code,
        "message": diagnostic.message,
        "port": diagnostic.port,
        "param": diagnostic.param,
        "fix": diagnostic.fix.describe(project.graph) if diagnostic.fix else None,
        "training_only": diagnostic.training_only,
    }

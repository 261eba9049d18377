"""Analysis, incremental re-check, code generation and project I/O on a 1,000-node graph.

Budgets (ARCHITECTURE.md): analysis within 50 ms, an edit re-checked within 10 ms, code within 100 ms.
Ratios compare with a baseline measured in the same process (a full re-analysis), so a slow shared
machine shifts both sides. Run: `make bench` or `.venv/bin/python benchmarks/bench_analysis.py`.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from netbuilder.analysis import Analyzer, analyze
from netbuilder.codegen.model_code import generate_model
from netbuilder.graph import Graph
from netbuilder.project import Project, load_project, save_project

NODES = 1000


def residual_tower(nodes: int) -> tuple[Graph, list[str]]:
    """Input -> [LayerNorm -> Linear -> GELU -> Linear -> Add(skip)] * k -> ...: `nodes` nodes in all."""
    g = Graph()
    previous = g.add_node("Input", params={"shape": (32,)}, position=(0, 0)).id
    port = "x"
    linears = []
    x = 0.0
    while len(g.nodes) + 5 <= nodes:
        block = []
        for block_type, params in (
            ("LayerNorm", {}),
            ("Linear", {"out_features": 64}),
            ("GELU", {}),
            ("Linear", {"out_features": 32}),
        ):
            x += 150
            node = g.add_node(block_type, params=params, position=(x, 0)).id
            g.connect(previous if not block else block[-1], port if not block else "y", node, "x")
            block.append(node)
        linears.append(block[1])
        x += 150
        add = g.add_node("Add", position=(x, 0)).id
        g.connect(block[-1], "y", add, "in1")
        g.connect(previous, port, add, "in2")
        previous, port = add, "y"
    while len(g.nodes) < nodes:
        x += 150
        node = g.add_node("ReLU", position=(x, 0)).id
        g.connect(previous, port, node, "x")
        previous, port = node, "y"
    return g, linears


def timed(function, repeat: int = 7) -> float:
    """Median seconds of `repeat` runs."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    graph, linears = residual_tower(NODES)
    print(f"graph: {len(graph.nodes)} nodes, {graph.edge_count()} edges")
    full = timed(lambda: analyze(graph))
    analyzer = Analyzer(graph)
    analyzer.analysis()
    middle = linears[len(linears) // 2]
    sizes = iter([48, 64] * 100)
    edit = timed(lambda: (graph.set_param(middle, "out_features", next(sizes)), analyzer.analysis()))
    last = linears[-1]
    tail_sizes = iter([48, 64] * 100)
    edit_tail = timed(lambda: (graph.set_param(last, "out_features", next(tail_sizes)), analyzer.analysis()))
    analysis = analyzer.analysis()
    assert not analysis.has_errors(training=False)
    code = timed(lambda: generate_model(graph, analysis, name="tower"))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tower.nbproj"
        project = Project("tower", graph)
        save = timed(lambda: save_project(project, path))
        load = timed(lambda: load_project(path))

    rows = [
        ("full analysis", full, 0.050),
        ("edit mid-graph + re-check", edit, None),
        ("edit near the end + re-check", edit_tail, 0.010),
        ("generate model.py", code, 0.100),
        ("save .nbproj", save, None),
        ("load .nbproj", load, None),
    ]
    print(f"{'operation':32} {'median ms':>10} {'budget ms':>10}")
    for name, seconds, budget in rows:
        budget_text = f"{budget * 1000:.0f}" if budget else "-"
        print(f"{name:32} {seconds * 1000:10.2f} {budget_text:>10}")
    print(
        f"incremental speed-up over a full analysis: mid-graph {full / edit:.1f}x, near the end {full / edit_tail:.1f}x"
    )


if __name__ == "__main__":
    main()

"""Analysis and code generation of a 1,000-node network built from composites, against the same network flat.

The network: a Dataset, 100 instances of one 10-node residual block definition in a chain (two pre-norm MLP
halves with skips; its hidden width exposed), a classifier head, a loss and an optimizer; flat, the same 1,004
nodes in one graph. Measured in the same process, so a slow shared machine shifts both sides: a full analysis,
an edit at the top (one instance's width) re-checked, an edit inside the definition (every instance changes)
re-checked, and model.py generated. Budgets (ARCHITECTURE.md): analysis within 50 ms, an edit re-checked within
10 ms, code within 100 ms. Run: `make bench` or `.venv/bin/python benchmarks/bench_composite_analysis.py`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from netbuilder.analysis import Analyzer, analyze
from netbuilder.codegen.model_code import generate_model
from netbuilder.graph import Graph
from netbuilder.graph.definitions import Definition, Exposed, Inlet, Outlet

sys.path.insert(0, str(Path(__file__).parent))
from bench_analysis import timed

INSTANCES = 100
FEATURES = 32
BLOCK = (  # label, block, params, the (label, port) feeding each input ("" = the block's input)
    ("ln1", "LayerNorm", {}, {"x": ("", "")}),
    ("fc1", "Linear", {"out_features": 64}, {"x": ("ln1", "y")}),
    ("act1", "GELU", {}, {"x": ("fc1", "y")}),
    ("fc2", "Linear", {"out_features": FEATURES}, {"x": ("act1", "y")}),
    ("add1", "Add", {}, {"in1": ("fc2", "y"), "in2": ("", "")}),
    ("ln2", "LayerNorm", {}, {"x": ("add1", "y")}),
    ("fc3", "Linear", {"out_features": 64}, {"x": ("ln2", "y")}),
    ("act2", "GELU", {}, {"x": ("fc3", "y")}),
    ("fc4", "Linear", {"out_features": FEATURES}, {"x": ("act2", "y")}),
    ("add2", "Add", {}, {"in1": ("fc4", "y"), "in2": ("add1", "y")}),
)


def add_block(graph: Graph, source: tuple[str, str] | None, x: float, prefix: str = "") -> dict[str, str]:
    """BLOCK's nodes in `graph`, fed by `source` (None inside a definition); returns label -> node id."""
    ids: dict[str, str] = {}
    for i, (label, block, params, feeds) in enumerate(BLOCK):
        ids[label] = graph.add_node(block, label=prefix + label, params=params, position=(x + 150.0 * i, 0.0)).id
        for port, (feeder, feeder_port) in feeds.items():
            if feeder:
                graph.connect(ids[feeder], feeder_port, ids[label], port)
            elif source is not None:
                graph.connect(*source, ids[label], port)
    return ids


def with_training(graph: Graph, build: Callable[[Graph, tuple[str, str]], tuple[str, str]]) -> None:
    """Dataset -> build(...) -> Linear(4) -> CrossEntropy -> Adam."""
    data = graph.add_node("Dataset", params={"dataset": "blobs", "features": FEATURES, "classes": 4}).id
    last = build(graph, (data, "x"))
    head = graph.add_node("Linear", label="head", params={"out_features": 4}, position=(1e5, 0.0)).id
    graph.connect(*last, head, "x")
    loss = graph.add_node("CrossEntropy", position=(1e5 + 250, 0.0)).id
    graph.connect(head, "y", loss, "input")
    graph.connect(data, "target", loss, "target")
    graph.connect(loss, "loss", graph.add_node("Adam", position=(1e5 + 500, 0.0)).id, "loss")


def flat_network() -> tuple[Graph, str]:
    """The network flat; returns it and the middle block's fc1."""
    graph = Graph()
    middle: list[str] = []

    def chain(g: Graph, source: tuple[str, str]) -> tuple[str, str]:
        for i in range(INSTANCES):
            ids = add_block(g, source, 1600.0 * i, prefix=f"b{i}_")
            source = (ids["add2"], "y")
            if i == INSTANCES // 2:
                middle.append(ids["fc1"])
        return source

    with_training(graph, chain)
    return graph, middle[0]


def composite_network() -> tuple[Graph, Definition, str]:
    """The network from one definition; returns it, the definition and the middle instance."""
    graph = Graph()
    inside = Graph(graph.definitions, owner="ResidualBlock")
    ids = add_block(inside, None, 0.0)
    definition = Definition(
        "ResidualBlock",
        inside,
        (Inlet("x", ((ids["ln1"], "x"), (ids["add1"], "in2"))),),
        (Outlet("y", ids["add2"], "y"),),
        exposed=(Exposed("width", ((ids["fc1"], "out_features"), (ids["fc3"], "out_features"))),),
    )
    graph.add_definition(definition)
    instances: list[str] = []

    def chain(g: Graph, source: tuple[str, str]) -> tuple[str, str]:
        for i in range(INSTANCES):
            instances.append(g.add_node("ResidualBlock", position=(250.0 * (i + 1), 0.0)).id)
            g.connect(*source, instances[-1], "x")
            source = (instances[-1], "y")
        return source

    with_training(graph, chain)
    return graph, definition, instances[INSTANCES // 2]


def edit_timing(analyzer: Analyzer, edit: Callable[[int], None]) -> float:
    """Median seconds of an edit (alternating between two values) and the re-check after it."""
    values = iter([48, 64] * 100)
    return timed(lambda: (edit(next(values)), analyzer.analysis()))


def main() -> None:
    flat, flat_fc1 = flat_network()
    graph, definition, middle = composite_network()
    inner_fc1 = definition.graph.by_label("fc1").id
    inner_count = len(definition.graph.nodes) * INSTANCES + len(graph.nodes) - INSTANCES
    print(f"flat: {len(flat.nodes)} nodes; composite: {len(graph.nodes)} at the top, {inner_count} in all")

    flat_analysis, composite_analysis = analyze(flat), analyze(graph)
    assert not flat_analysis.has_errors() and not composite_analysis.has_errors()
    assert (flat_analysis.total_params, flat_analysis.total_macs) == (
        composite_analysis.total_params,
        composite_analysis.total_macs,
    ), "the composite network is the flat one"

    flat_analyzer, analyzer = Analyzer(flat), Analyzer(graph)
    flat_analyzer.analysis()
    analyzer.analysis()
    rows = [
        ("full analysis", timed(lambda: analyze(flat)), timed(lambda: analyze(graph)), 0.050),
        (
            "edit at the top + re-check",
            edit_timing(flat_analyzer, lambda v: flat.set_param(flat_fc1, "out_features", v)),
            edit_timing(analyzer, lambda v: graph.set_param(middle, "width", v)),
            0.010,
        ),
        (
            "edit inside the block + re-check",
            None,
            edit_timing(analyzer, lambda v: definition.graph.set_param(inner_fc1, "out_features", v)),
            0.010,
        ),
        (
            "generate model.py",
            timed(lambda: generate_model(flat, flat_analyzer.analysis(), name="flat")),
            timed(lambda: generate_model(graph, analyzer.analysis(), name="composite")),
            0.100,
        ),
    ]
    print(f"{'operation':34} {'flat ms':>9} {'composite ms':>13} {'ratio':>6} {'budget ms':>10}")
    for name, flat_seconds, seconds, budget in rows:
        flat_text = f"{flat_seconds * 1000:9.2f}" if flat_seconds else f"{'-':>9}"
        ratio = f"{seconds / flat_seconds:6.2f}" if flat_seconds else f"{'-':>6}"
        print(f"{name:34} {flat_text} {seconds * 1000:13.2f} {ratio} {budget * 1000:10.0f}")
    print("(the edit inside the block changes all 100 instances; flat, that is 100 edits)")


if __name__ == "__main__":
    main()

"""Analysis: diagnostics a user sees, fixes that remove them, and incremental re-checks equal to full ones."""

from __future__ import annotations

import json
import random

import pytest

from netbuilder.analysis import AddNode, Analyzer, InsertNode, SetParam, TrainingTask, analyze, node_check
from netbuilder.analysis.training_task import wants_training
from netbuilder.graph import Graph, GraphError


def classifier(graph: Graph, *, flatten: bool = True, out: int = 10) -> dict[str, str]:
    """Dataset(digits) -> [Flatten] -> Linear(32) -> ReLU -> Linear(out) -> CrossEntropy -> Adam."""
    ids = {"data": graph.add_node("Dataset", label="digits", position=(0, 0)).id}
    previous = (ids["data"], "x")
    blocks = ([("flatten", "Flatten", {})] if flatten else []) + [
        ("fc1", "Linear", {"out_features": 32}),
        ("relu", "ReLU", {}),
        ("fc2", "Linear", {"out_features": out}),
    ]
    for i, (name, block, params) in enumerate(blocks, start=1):
        ids[name] = graph.add_node(block, label=name, params=params, position=(i * 100, 0)).id
        graph.connect(*previous, ids[name], "x")
        previous = (ids[name], "y")
    ids["loss"] = graph.add_node("CrossEntropy", position=(600, 0)).id
    graph.connect(*previous, ids["loss"], "input")
    graph.connect(ids["data"], "target", ids["loss"], "target")
    ids["adam"] = graph.add_node("Adam", position=(700, 0)).id
    graph.connect(ids["loss"], "loss", ids["adam"], "loss")
    return ids


def test_clean_classifier_has_no_problems_and_counts_parameters():
    g = Graph()
    ids = classifier(g)
    a = analyze(g)
    assert a.diagnostics == []
    assert str(a.output_type(ids["flatten"], "y")) == "(N, 64)"
    assert a.resolved_params(ids["fc1"])["in_features"] == 64
    assert a.total_params == 64 * 32 + 32 + 32 * 10 + 10
    assert a.total_macs == 64 * 32 + 32 * 10


def test_missing_flatten_warns_and_the_fix_inserts_it():
    g = Graph()
    ids = classifier(g, flatten=False)
    a = analyze(g)
    warning = next(d for d in a.diagnostics if d.node == ids["fc1"])
    assert warning.severity == "warning"
    assert "(N, 1, 8, 8)" in warning.message and "Flatten" in warning.message
    assert isinstance(warning.fix, InsertNode)
    assert warning.fix.describe(g) == "insert Flatten between digits and fc1"
    assert any(d.is_error and d.node == ids["loss"] for d in a.diagnostics)  # the loss sees (N, 1, 8, 10)
    warning.fix.apply(g)
    assert analyze(g).diagnostics == []


def test_wrong_class_count_suggests_the_right_out_features():
    g = Graph()
    ids = classifier(g, out=7)
    (error,) = analyze(g).diagnostics
    assert error.is_error and error.node == ids["loss"]
    assert "7 logits" in error.message and "10 classes" in error.message
    assert error.fix == SetParam(ids["fc2"], "out_features", 10)
    assert error.fix.describe(g) == "set out_features of fc2 to 10"
    error.fix.apply(g)
    assert analyze(g).diagnostics == []


def test_pinned_size_that_disagrees_is_an_error_with_an_auto_fix():
    g = Graph()
    ids = classifier(g)
    g.set_param(ids["fc1"], "in_features", 100)
    (error,) = analyze(g).diagnostics
    assert "in_features pinned to 100 but the input (N, 64) has 64 features" in error.message
    error.fix.apply(g)
    assert analyze(g).diagnostics == []


def test_training_needs_optimizer_and_the_fix_adds_one():
    g = Graph()
    ids = classifier(g)
    g.remove_node(ids["adam"])
    a = analyze(g)
    (missing,) = a.diagnostics
    assert missing.code == "optimizer-missing" and missing.training_only
    assert not a.has_errors(training=False) and a.has_errors(training=True)
    assert isinstance(missing.fix, AddNode)
    missing.fix.apply(g)
    assert analyze(g).diagnostics == []


def test_the_training_task_names_the_dataset_loss_and_optimizer_and_the_classes():
    g = Graph()
    ids = classifier(g)
    task = analyze(g).training_task
    assert isinstance(task, TrainingTask)
    assert (task.dataset_node, task.loss_node, task.optimizer_node) == (ids["data"], ids["loss"], ids["adam"])
    assert (task.loss, task.optimizer, task.kind) == ("CrossEntropy", "Adam", "classification")
    assert task.classification and not task.target_is_input and task.target_port == "target"
    assert task.class_names == tuple(str(i) for i in range(10)) and task.class_count == 10


def test_a_network_that_learns_its_input_back_is_no_classifier():
    g = Graph()
    ids = classifier(g, out=64)
    g.disconnect(g.inputs_of(ids["loss"])["target"])
    g.connect(ids["data"], "x", ids["loss"], "target")
    task = analyze(g).training_task
    assert task.target_is_input and task.kind == "classification" and not task.classification
    assert task.class_names == () and task.target_port == "x"


@pytest.mark.parametrize("missing", ["data", "loss", "adam"])
def test_no_training_task_while_the_setup_is_incomplete(missing):
    g = Graph()
    ids = classifier(g)
    g.remove_node(ids[missing])
    assert analyze(g).training_task is None


def test_no_training_task_while_the_optimizer_waits_for_its_loss():
    g = Graph()
    ids = classifier(g)
    g.disconnect(g.inputs_of(ids["adam"])["loss"])
    assert analyze(g).training_task is None
    g.add_node("SGD")
    assert analyze(g).training_task is None


@pytest.mark.parametrize("kept", ["data", "loss", "adam"])
def test_any_training_block_means_the_graph_wants_training(kept):
    g = Graph()
    ids = classifier(g)
    assert wants_training(g)
    for role in {"data", "loss", "adam"} - {kept}:
        g.remove_node(ids[role])
    assert wants_training(g) and analyze(g).training_task is None
    g.remove_node(ids[kept])
    assert not wants_training(g)  # layers alone: a model to export


def test_missing_loss_fix_wires_model_output_and_target():
    g = Graph()
    ids = classifier(g)
    g.remove_node(ids["loss"])
    a = analyze(g)
    missing = next(d for d in a.diagnostics if d.code == "loss-missing")
    assert missing.fix.describe(g) == "add a CrossEntropy node fed by fc2.y, digits.target feeding optimizer1.loss"
    missing.fix.apply(g)
    assert analyze(g).diagnostics == []


def test_unconnected_input_and_cut_off_nodes():
    g = Graph()
    fc = g.add_node("Linear").id
    relu = g.add_node("ReLU").id
    g.connect(fc, "y", relu, "x")
    codes = {(d.node, d.code) for d in analyze(g).problems(training=False)}
    assert codes == {(fc, "unconnected-input"), (relu, "cut-off")}


def test_softmax_before_cross_entropy_warns_and_bypass_fix_removes_it():
    g = Graph()
    ids = classifier(g)
    edge = g.inputs_of(ids["loss"])["input"]
    InsertNode(edge, "Softmax").apply(g)
    (warning,) = analyze(g).diagnostics
    assert "applies log-softmax itself" in warning.message
    warning.fix.apply(g)
    assert analyze(g).diagnostics == []
    assert not any(n.block == "Softmax" for n in g.nodes.values())


def test_a_rule_that_crashes_becomes_a_diagnostic(monkeypatch):
    g = Graph()
    ids = classifier(g)
    spec = g.spec(ids["relu"])
    monkeypatch.setattr(type(spec), "rule", property(lambda self: lambda ctx: 1 / 0))
    found = analyze(g).diagnostics
    assert any(d.code == "internal" and "ZeroDivisionError" in d.message for d in found)


def test_incremental_recheck_touches_only_downstream(monkeypatch):
    g = Graph()
    previous = g.add_node("Input", params={"shape": (16,)}).id
    chain = []
    for i in range(200):
        node = g.add_node(
            "Linear" if i % 2 == 0 else "ReLU", params={"out_features": 16} if i % 2 == 0 else {}, position=(i, 0)
        ).id
        g.connect(previous, "x" if i == 0 else "y", node, "x")
        chain.append(node)
        previous = node
    analyzer = Analyzer(g)
    analyzer.analysis()
    calls = []
    original = node_check.check_node
    monkeypatch.setattr(
        "netbuilder.analysis.analyzer.check_node",
        lambda graph, node_id, results, **kw: calls.append(node_id) or original(graph, node_id, results, **kw),
    )
    g.set_param(chain[190], "out_features", 8)
    a = analyzer.analysis()
    assert set(calls) == set(chain[190:])
    assert str(a.output_type(chain[-1], "y")) == "(N, 16)"


def test_incremental_analysis_equals_a_fresh_one_after_random_edits():
    rng = random.Random(7)
    g = Graph()
    analyzer = Analyzer(g)
    data = g.add_node("Input", params={"shape": (8,)}).id
    for step in range(300):
        nodes = list(g.nodes)
        action = rng.random()
        try:
            if action < 0.35:
                g.add_node(
                    rng.choice(["Linear", "ReLU", "Add", "Concat", "Flatten", "LayerNorm"]),
                    position=(rng.random() * 500, rng.random() * 500),
                )
            elif action < 0.7:
                a, b = rng.choice(nodes), rng.choice(nodes)
                out = g.spec(a).outputs[0].name if g.spec(a).outputs else None
                ports = g.input_ports(b)
                if out and ports:
                    g.connect(a, out, b, rng.choice(ports).name)
            elif action < 0.85:
                fcs = [n for n in nodes if g.nodes[n].block == "Linear"]
                if fcs:
                    g.set_param(rng.choice(fcs), "out_features", rng.randint(1, 12))
            elif len(nodes) > 2:
                victim = rng.choice([n for n in nodes if n != data])
                g.remove_node(victim)
        except GraphError:
            pass
        if step % 10 == 0:
            incremental, fresh = analyzer.analysis(), analyze(g)
            assert incremental.diagnostics == fresh.diagnostics
            assert {n: r.outputs for n, r in incremental.results.items()} == {
                n: r.outputs for n, r in fresh.results.items()
            }


@pytest.mark.parametrize("dataset", ["digits", "iris", "spirals", "sine", "sequences", "blobs"])
def test_dataset_shapes_follow_the_choice(dataset):
    g = Graph()
    node = g.add_node("Dataset", params={"dataset": dataset}).id
    result = analyze(g).results[node]
    assert result.outputs["x"].shape[0] == "N"
    assert result.outputs["target"].dtype in ("int64", "float32")


def test_class_count_fix_on_a_bidirectional_lstm_halves_the_hidden_size():
    g = Graph()
    data = g.add_node("Dataset", params={"dataset": "sequences", "classes": 4}).id
    lstm = g.add_node("LSTM", params={"hidden_size": 5, "bidirectional": True}).id
    loss = g.add_node("CrossEntropy").id
    g.connect(data, "x", lstm, "x")
    g.connect(lstm, "y", loss, "input")
    g.connect(data, "target", loss, "target")
    error = next(d for d in analyze(g).diagnostics if d.node == loss)
    assert error.fix == SetParam(lstm, "hidden_size", 2)
    error.fix.apply(g)
    assert not any(d.node == loss for d in analyze(g).diagnostics)


def test_the_total_leaves_out_a_branch_that_does_not_reach_the_loss_as_model_py_does(tmp_path, capsys):

    from netbuilder.analysis.summary import summary_rows
    from netbuilder.cli import main
    from netbuilder.codegen.model_code import generate_model
    from netbuilder.project import Project, save_project
    from netbuilder.runtime.build import build_model

    project = Project.new("side branch")
    ids = classifier(project.graph)
    side = project.graph.add_node("Linear", label="side", params={"out_features": 15}, position=(400, 100)).id
    project.graph.connect(ids["relu"], "y", side, "x")  # its output feeds nothing: model.py does not build it
    a = analyze(project.graph)
    model = build_model(generate_model(project.graph, a))  # torch is the oracle: what model.py builds
    built = sum(p.numel() for p in model.parameters())
    assert built == (64 * 32 + 32) + (32 * 10 + 10)
    assert a.total_params == built and side not in a.model_nodes
    assert a.total_macs == 64 * 32 + 32 * 10
    rows = {row.label: row for row in summary_rows(project.graph, a)}
    assert rows["side"].parameters is None  # shown, not counted
    assert sum(row.parameters or 0 for row in rows.values()) == built

    assert main(["summary", str(save_project(project, tmp_path / "side.nbproj")), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["parameters"] == built


def test_without_a_loss_the_total_counts_every_layer_the_data_reaches():
    g = Graph()
    image = g.add_node("Input", label="image", params={"shape": [8]}).id
    for name, width in (("a", 4), ("b", 3)):  # two heads: forward returns both
        g.connect(image, "x", g.add_node("Linear", label=name, params={"out_features": width}).id, "x")
    assert analyze(g).total_params == (8 * 4 + 4) + (8 * 3 + 3)


def test_a_network_without_trainable_parameters_is_an_error_before_training_starts():
    g = Graph()
    ids = classifier(g)
    for name in ("fc1", "relu", "fc2"):  # digits -> flatten -> loss: 64 logits and nothing for Adam to change
        g.remove_node(ids[name])
    g.connect(ids["flatten"], "y", ids["loss"], "input")
    errors = [d for d in analyze(g).problems() if d.is_error]
    assert [(d.node, d.code, d.training_only) for d in errors] == [(None, "no-parameters", True)]
    assert errors[0].message == (
        "this network has no trainable parameters: add a layer with weights (Linear, Conv2d ...)"
    )
    assert not analyze(g).has_errors(training=False)  # the model alone still exports

    fc = g.add_node("Linear", label="fc", params={"out_features": 10}).id
    g.disconnect(g.inputs_of(ids["loss"])["input"])
    g.connect(ids["flatten"], "y", fc, "x")
    g.connect(fc, "y", ids["loss"], "input")
    assert not analyze(g).has_errors()


def test_a_linear_on_channels_last_features_is_not_told_to_flatten() -> None:
    """(N, C, H, W) into a Linear warns (a Flatten is missing); (N, H, W, C) after a LayerNorm, as in Swin and
    ConvNeXt, is meant."""

    g = Graph()
    x = g.add_node("Input", label="x", params={"shape": (4, 6, 6)}).id
    fc = g.add_node("Linear", label="fc", params={"out_features": 3}).id
    g.connect(x, "x", fc, "x")
    assert any("Flatten" in d.message for d in analyze(g).for_node(fc))
    g.set_param(x, "shape", (6, 6, 4))
    norm = g.add_node("LayerNorm", label="norm").id
    g.connect(x, "x", norm, "x")
    head = g.add_node("Linear", label="head", params={"out_features": 3}).id
    g.connect(norm, "y", head, "x")
    assert not [d for d in analyze(g).for_node(head) if d.severity == "warning"]

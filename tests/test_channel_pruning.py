"""Structured channel pruning (issue 17): the digits CNN pruned by half its MACs still describes itself as a
graph that checks, builds, loads the pruned weights and computes exactly what the pruned network computes."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from netbuilder.analysis import analyze
from netbuilder.project import Project, copy_project, load_project
from netbuilder.runtime import library_shapes
from netbuilder.runtime.starting_weights import write_starting_weights
from netbuilder.training.compression.channels import ChannelPruning, prune_channels, pruned_project
from netbuilder.training.engine import Trainer
from netbuilder.training.evaluation import evaluate_model
from netbuilder.training.program import Program, load_program

SAMPLES = Path(__file__).resolve().parent.parent / "sample_projects"


def _sample(name: str) -> Project:
    return load_project(SAMPLES / f"{name}.nbproj")


def _written(project: Project, program: Program, pruning: ChannelPruning, folder: Path) -> Project:
    """The pruned project with its weights file written as a caller writes it."""
    path = folder / "pruned.weights.safetensors"
    write_starting_weights(pruning.model.state_dict(), program.model_code.attributes, path)
    return pruned_project(project, pruning, path)


def _same_outputs(pruned: Project, pruning: ChannelPruning, inputs: torch.Tensor) -> None:
    """The pruned project's network, built as training builds it, gives the pruned model's outputs exactly."""
    program = load_program(pruned)
    assert program.starting is not None and not program.starting.fresh
    rebuilt = program.new_model().eval()
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {
        k: v.shape for k, v in pruning.model.state_dict().items()
    }
    with torch.no_grad():
        assert torch.equal(rebuilt(inputs), pruning.model.eval()(inputs))


@pytest.fixture(scope="module")
def trained_digits() -> tuple[Project, Program, torch.nn.Module]:
    project = _sample("digits_cnn")
    project.set_setting("epochs", 2)
    trainer = Trainer(project, device="cpu", workers=0)
    assert trainer.run().status == "completed"
    return project, trainer.program, trainer.model.cpu().eval()


def test_digits_cnn_pruned_by_half_its_macs_checks_builds_and_computes_the_same(trained_digits, tmp_path):
    project, program, model = trained_digits
    before = {k: v.clone() for k, v in model.state_dict().items()}
    pruning = prune_channels(program, model, macs_fraction=0.5)

    assert pruning.macs_after <= 0.5 * pruning.macs_before
    assert pruning.macs_after >= 0.35 * pruning.macs_before  # the smallest share that reaches it, not far past
    assert pruning.sizes == {"n2": {"out_channels": pruning.model.conv1.out_channels}}
    assert pruning.model.conv1.out_channels < 16
    assert pruning.model.fc.out_features == 10  # the output layer keeps its size
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # the input is untouched

    pruned = _written(project, program, pruning, tmp_path)
    assert pruned.graph.nodes["n2"].params["out_channels"] == pruning.model.conv1.out_channels
    assert project.graph.nodes["n2"].params["out_channels"] == 16  # the original project is untouched
    assert pruned.graph.nodes["n6"].params["out_features"] == 10
    assert not [d for d in analyze(pruned.graph).problems(training=True) if d.is_error]
    _same_outputs(pruned, pruning, torch.randn(5, 1, 8, 8))

    # accuracy reported: kept channels are the strongest, so the pruned network still beats chance (1 in 10)
    full = evaluate_model(project, program, model).metrics["accuracy"]
    kept = evaluate_model(pruned, load_program(pruned), pruning.model).metrics["accuracy"]
    assert full > 0.5
    print(f"accuracy {full:.3f} -> {kept:.3f} at {pruning.macs_after / pruning.macs_before:.0%} of the MACs")
    assert 0.2 < kept <= 1.0


def test_residual_cnn_prunes_the_channels_an_add_couples_together(tmp_path):
    project = _sample("residual_cnn")
    program = load_program(project)
    torch.manual_seed(0)
    pruning = prune_channels(program, program.new_model(), macs_fraction=0.5)

    assert pruning.macs_after <= 0.5 * pruning.macs_before
    coupled = {pruning.sizes[n]["out_channels"] for n in ("n2", "n8", "n16")}  # stem and the convs before each Add
    assert len(coupled) == 1 and coupled.pop() < 16
    assert pruning.model.fc.out_features == 4
    pruned = _written(project, program, pruning, tmp_path)
    assert pruned.graph.nodes["n3"].params["num_features"] is None  # BatchNorm sizes stay inferred
    _same_outputs(pruned, pruning, torch.randn(3, 3, 32, 32))


def test_a_network_with_only_its_output_layer_has_nothing_to_prune():
    project = copy_project(_sample("digits_cnn"))
    graph = project.graph
    for node_id in ("n2", "n3", "n4"):
        graph.remove_node(node_id)
    graph.connect("n1", "x", "n5", "x")
    program = load_program(project)
    with pytest.raises(ValueError, match="nothing to prune"):
        prune_channels(program, program.new_model(), macs_fraction=0.5)


def test_a_target_out_of_reach_is_refused_in_one_line():
    project = _sample("digits_cnn")
    program = load_program(project)
    with pytest.raises(ValueError, match=r"reaches \d+% of the MACs at most") as raised:
        prune_channels(program, program.new_model(), macs_fraction=0.01)
    assert "\n" not in str(raised.value)


def test_sizes_the_graph_cannot_build_are_refused(tmp_path):
    project = _sample("digits_cnn")
    program = load_program(project)
    pruning = prune_channels(program, program.new_model(), macs_fraction=0.5)
    wrong = ChannelPruning(pruning.model, {"n2": {"out_channels": 12}}, pruning.macs_before, pruning.macs_after)
    with pytest.raises(ValueError, match=r"the pruned graph builds conv1\.\w+ as \(12,\)"):
        pruned_project(project, wrong, tmp_path / "w.safetensors")


def test_channels_that_reach_a_layer_of_fixed_size_are_left():
    """A LibraryModule's torch.nn.Linear keeps its sizes in its arguments: neither it nor the convolution whose
    channels it takes can change, so nothing is left to prune rather than a graph that cannot build."""
    library_shapes.install()  # as the netbuilder command and window do
    project = copy_project(_sample("digits_cnn"))
    graph = project.graph
    graph.disconnect(graph.inputs_of("n6")["x"])
    library = graph.add_node(
        "LibraryModule", params={"cls": "torch.nn.Linear", "args": '{"in_features": 256, "out_features": 32}'}
    )
    graph.connect("n5", "y", library.id, "x")
    graph.connect(library.id, "y", "n6", "x")
    program = load_program(project)
    assert "Linear(in_features=256, out_features=32)" in program.model_source
    with pytest.raises(ValueError, match="nothing to prune"):
        prune_channels(program, program.new_model(), macs_fraction=0.5)


@pytest.mark.parametrize(("groups", "out_channels"), [(16, 16), (4, 16)])
def test_channels_that_reach_a_grouped_convolution_are_left(groups, out_channels):
    """A grouped (or depthwise) convolution's channels must stay multiples of its groups, which pruning the
    layer before would break."""
    project = copy_project(_sample("digits_cnn"))
    graph = project.graph
    graph.disconnect(graph.inputs_of("n3")["x"])
    grouped = graph.add_node(
        "Conv2d", params={"out_channels": out_channels, "kernel_size": 3, "padding": 1, "groups": groups}
    )
    graph.connect("n2", "y", grouped.id, "x")
    graph.connect(grouped.id, "y", "n3", "x")
    program = load_program(project)
    with pytest.raises(ValueError, match="nothing to prune"):
        prune_channels(program, program.new_model(), macs_fraction=0.5)

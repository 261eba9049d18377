"""Composite blocks through analysis, code and summary: the same network grouped and flat is the same network
(shapes, counts, outputs, weights), and a class is written once for all its uses."""

from __future__ import annotations

import torch

from netbuilder.analysis import analyze
from netbuilder.analysis.summary import summary_rows
from netbuilder.codegen.model_code import generate_model
from netbuilder.graph import Graph
from netbuilder.graph.definitions import Exposed
from netbuilder.graph.grouping import group, ungroup
from netbuilder.runtime.build import load_module


def _residual_net(widths: tuple[int, ...]) -> tuple[Graph, list[list[str]]]:
    """Input -> (conv, batch norm, relu, + skip through a 1x1 conv) per width -> flatten -> linear."""
    g = Graph()
    source = g.add_node("Input", params={"shape": (3, 8, 8)})
    prev = (source.id, g.spec(source.id).outputs[0].name)
    blocks = []
    for width in widths:
        conv = g.add_node("Conv2d", params={"out_channels": width, "kernel_size": 3, "padding": 1})
        norm = g.add_node("BatchNorm2d")
        relu = g.add_node("ReLU")
        skip = g.add_node("Conv2d", params={"out_channels": width, "kernel_size": 1})
        add = g.add_node("Add")
        g.connect(*prev, conv.id, "x")
        g.connect(conv.id, "y", norm.id, "x")
        g.connect(norm.id, "y", relu.id, "x")
        g.connect(*prev, skip.id, "x")
        g.connect(relu.id, "y", add.id, "in1")
        g.connect(skip.id, "y", add.id, "in2")
        blocks.append([conv.id, norm.id, relu.id, skip.id, add.id])
        prev = (add.id, "y")
    flatten = g.add_node("Flatten")
    head = g.add_node("Linear", params={"out_features": 5})
    g.connect(*prev, flatten.id, "x")
    g.connect(flatten.id, "y", head.id, "x")
    return g, blocks


def _as_instances(g: Graph, blocks: list[list[str]]) -> list[str]:
    """Group the first block into `Res` with its width exposed, then put instances of it where the others were."""
    first = group(g, blocks[0], "Res")
    definition = g.definitions["Res"]
    conv, skip = blocks[0][0], blocks[0][3]
    definition.exposed = (Exposed("out_channels", ((conv, "out_channels"), (skip, "out_channels"))),)
    definition.forget_spec()
    g.nodes[first].params["out_channels"] = definition.spec().param("out_channels").default
    instances = [first]
    for block in blocks[1:]:
        width = g.nodes[block[0]].params["out_channels"]
        feeding = {(e.src, e.src_port) for n in block for e in g.inputs_of(n).values() if e.src not in block}
        fed = [e for n in block for e in g.outputs_of(n) if e.dst not in block]
        for node_id in block:
            g.remove_node(node_id)
        instance = g.add_node("Res", params={"out_channels": width})
        ((src, port),) = feeding
        g.connect(src, port, instance.id, "x")
        for edge in fed:
            g.connect(instance.id, "y", edge.dst, edge.dst_port)
        instances.append(instance.id)
    return instances


def _model(g: Graph) -> tuple[torch.nn.Module, str]:
    code = generate_model(g, analyze(g), name="net")
    return getattr(load_module(code.source), code.class_name)(), code.source


def test_a_network_of_instances_is_the_flat_network() -> None:
    flat, blocks = _residual_net((4, 4, 8))
    flat_analysis = analyze(flat)
    composite, blocks = _residual_net((4, 4, 8))
    instances = _as_instances(composite, blocks)
    analysis = analyze(composite)
    assert not analysis.has_errors(training=False)
    assert (analysis.total_params, analysis.total_macs) == (flat_analysis.total_params, flat_analysis.total_macs)
    assert analysis.size.activations_per_sample == flat_analysis.size.activations_per_sample
    model, source = _model(composite)
    assert source.count("class Res(nn.Module)") == 1
    assert sum(p.numel() for p in model.parameters()) == analysis.total_params
    flat_model, _ = _model(flat)
    flat_model.load_state_dict(dict(zip(flat_model.state_dict(), model.state_dict().values(), strict=True)))
    x = torch.randn(2, 3, 8, 8)
    model.eval()
    flat_model.eval()
    torch.testing.assert_close(model(x), flat_model(x))
    assert len(instances) == 3


def test_the_class_takes_what_differs_between_its_uses_and_the_same_graph_gives_the_same_bytes() -> None:
    g, blocks = _residual_net((4, 4, 8))
    _as_instances(g, blocks)
    _, source = _model(g)
    assert "def __init__(self, in_channels: int, out_channels: int = 4) -> None:" in source
    assert "self.res2 = Res(4)" in source and "self.res3 = Res(4, out_channels=8)" in source
    assert _model(g)[1] == source


def test_a_problem_inside_an_instance_is_told_at_the_instance_with_its_path() -> None:
    g, blocks = _residual_net((4,))
    (instance,) = _as_instances(g, blocks)
    conv = blocks[0][0]
    g.definitions["Res"].graph.set_param(conv, "padding", 0)  # 6x6 no longer adds to the skip's 8x8
    problems = [d for d in analyze(g).diagnostics if d.is_error and not d.training_only]
    assert [(d.node, d.path) for d in problems] == [(instance, ("add1",))]
    assert problems[0].message.startswith("add1 › ")


def test_the_summary_shows_an_instance_as_one_row_and_its_inside_when_expanded() -> None:
    g, blocks = _residual_net((4, 8))
    _as_instances(g, blocks)
    analysis = analyze(g)
    rows = summary_rows(g, analysis)
    assert [r.block for r in rows] == ["Input", "Res", "Res", "Flatten", "Linear"]
    assert sum(r.parameters or 0 for r in rows) == analysis.total_params
    expanded = summary_rows(g, analysis, expand=True)
    inside = [r for r in expanded if r.depth == 1]
    assert [r.label for r in inside[:2]] == ["res1 › conv1", "res1 › bn1"]
    assert sum(r.parameters or 0 for r in inside) == analysis.total_params - rows[-1].parameters


def test_ungrouping_an_instance_gives_back_the_blocks_with_its_values() -> None:
    g, blocks = _residual_net((4, 8))
    instances = _as_instances(g, blocks)
    before = analyze(g).total_params
    ungroup(g, instances[1])
    assert analyze(g).total_params == before
    assert sorted(n.block for n in g.nodes.values()).count("Conv2d") == 2
    assert any(n.block == "Conv2d" and n.params["out_channels"] == 8 for n in g.nodes.values())


def test_a_repeated_block_is_its_copies_in_a_chain() -> None:
    chain, blocks = _residual_net((4, 4, 4))
    flat = analyze(chain)
    g, blocks = _residual_net((4,))
    (instance,) = _as_instances(g, blocks)
    g.set_param(instance, "repeat", 3)
    analysis = analyze(g)
    assert not analysis.has_errors(training=False)
    assert (analysis.total_params, analysis.total_macs) == (flat.total_params, flat.total_macs)
    assert analysis.size.activations_per_sample == flat.size.activations_per_sample
    model, source = _model(g)
    assert "self.res1 = nn.Sequential(Res(3), Res(4), Res(4))" in source  # the first copy takes 3 channels
    assert sum(p.numel() for p in model.parameters()) == flat.total_params
    labels = [r.label for r in summary_rows(g, analysis, expand=True) if r.depth == 2]  # res1 › copy › block
    assert labels[0] == "res1 › 0 › conv1" and labels[-1] == "res1 › 2 › add1"
    ungroup(g, instance)
    assert analyze(g).total_params == flat.total_params
    assert sum(n.block == "Add" for n in g.nodes.values()) == 3


def test_the_expanded_copy_of_a_project_is_flat_and_the_same_network() -> None:
    from pathlib import Path

    from netbuilder.analysis.footprint import footprint
    from netbuilder.pipeline import expanded_project
    from netbuilder.project import load_project

    project = load_project(Path(__file__).parent.parent / "sample_projects" / "digits_resnet.nbproj")
    before = analyze(project.graph)
    blocks = [d.name for d in project.graph.definitions]
    flat = expanded_project(project)
    assert [d.name for d in project.graph.definitions] == blocks and blocks  # the project itself keeps its blocks
    assert len(flat.graph.definitions) == 0 and all(flat.graph.definition_of(n) is None for n in flat.graph.nodes)
    after = analyze(flat.graph)
    assert not after.has_errors()
    assert (after.total_params, after.total_macs) == (before.total_params, before.total_macs)
    boxes = []
    for node_id, node in flat.graph.nodes.items():
        width, height = footprint(flat.graph, node_id)
        boxes.append((node.position[0], node.position[1], node.position[0] + width, node.position[1] + height))
    for i, a in enumerate(boxes):  # laid out afresh: nothing on top of anything
        assert not any(a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3] for b in boxes[i + 1 :])


def test_a_size_that_follows_a_layer_is_written_as_that_layers_width() -> None:
    """The inverted residual's depthwise and projection convolutions take `hidden` channels because the layer
    before them makes `hidden`, not because some argument happens to equal 192."""
    from pathlib import Path

    from netbuilder.project.block_library import load_block

    g = Graph()
    source = g.add_node("Input", params={"shape": (32, 16, 16)})
    name = load_block(g, Path(__file__).parent.parent / "resources" / "blocks" / "InvertedResidual.nbblock")
    block = g.add_node(name)
    g.connect(source.id, g.spec(source.id).outputs[0].name, block.id, g.spec(block.id).inputs[0].name)
    _, source_code = _model(g)
    assert "nn.Conv2d(hidden, hidden, kernel_size=3, padding=1, groups=hidden, bias=False)" in source_code
    assert "nn.Conv2d(hidden, out_channels, kernel_size=1, bias=False)" in source_code
    assert not [line for line in source_code.splitlines() if "nn." in line and "192" in line]  # the default only

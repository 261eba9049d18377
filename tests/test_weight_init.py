"""Weight initialisation as a layer's choice: the generated init_weights gives the values torch.nn.init gives
by hand, projects that never chose one save and generate as before, and the choice is what keeps a deep plain
network's gradients alive."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch import nn

from netbuilder.analysis import analyze
from netbuilder.blocks import catalogue
from netbuilder.blocks.shared_params import INIT_PARAMS, WEIGHT_INITS
from netbuilder.codegen.model_code import CodegenError, generate_model
from netbuilder.graph import Graph
from netbuilder.graph.definitions import Exposed
from netbuilder.graph.grouping import group
from netbuilder.project import Project, load_project, save_project
from netbuilder.runtime.build import build_model
from netbuilder.training.engine import with_settings
from netbuilder.training.program import load_program
from tests.test_starting_weights import _import, _make_trainable, _pretrained_weights

SAMPLES = Path(__file__).parent.parent / "sample_projects"

# block, its input shape (without N), its values, and the torch module a person would build by hand
LAYERS: dict[str, tuple[tuple[int, ...], dict, Callable[[], nn.Module]]] = {
    "Linear": ((8,), {"out_features": 5}, lambda: nn.Linear(8, 5)),
    "Conv1d": ((3, 12), {"out_channels": 4, "kernel_size": 3}, lambda: nn.Conv1d(3, 4, kernel_size=3)),
    "Conv2d": ((3, 8, 8), {"out_channels": 4, "kernel_size": 3}, lambda: nn.Conv2d(3, 4, kernel_size=3)),
    "ConvTranspose2d": (
        (3, 4, 4),
        {"out_channels": 4, "kernel_size": 2, "stride": 2},
        lambda: nn.ConvTranspose2d(3, 4, kernel_size=2, stride=2),
    ),
    "RNN": ((6, 8), {"hidden_size": 5}, lambda: nn.RNN(8, 5, batch_first=True)),
    "LSTM": ((6, 8), {"hidden_size": 5, "num_layers": 2}, lambda: nn.LSTM(8, 5, num_layers=2, batch_first=True)),
    "GRU": (
        (6, 8),
        {"hidden_size": 5, "bidirectional": True},
        lambda: nn.GRU(8, 5, bidirectional=True, batch_first=True),
    ),
    "MultiheadAttention": ((6, 8), {"num_heads": 2}, lambda: nn.MultiheadAttention(8, 2, batch_first=True)),
    "Embedding": (
        (6,),
        {"num_embeddings": 20, "embedding_dim": 6, "padding_idx": 3},
        lambda: nn.Embedding(20, 6, padding_idx=3),
    ),
    "TransformerEncoderLayer": (
        (6, 8),
        {"nhead": 2, "dim_feedforward": 16},
        lambda: nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True),
    ),
}


# no bias_init: an Embedding has no bias, a TransformerEncoderLayer's biases include its layer norms'
WITHOUT_BIAS_INIT = ("Embedding", "TransformerEncoderLayer")


def one_layer(block: str, **values) -> Graph:
    shape, params, _ = LAYERS[block]
    g = Graph()
    data = g.add_node("Input", params={"shape": shape, "dtype": "int64" if block == "Embedding" else "float32"}).id
    layer = g.add_node(block, label="layer", params={**params, **values}).id
    g.connect(data, "x", layer, "x")
    return g


def generated(g: Graph, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return build_model(generate_model(g, analyze(g)))


def by_hand(block: str, init: str, nonlinearity: str, bias: str, value: float, seed: int = 0) -> nn.Module:
    """The layer built and initialised with torch.nn.init, as a person would write it."""
    torch.manual_seed(seed)
    module = LAYERS[block][2]()
    weight_init = {
        "kaiming_normal": lambda t: nn.init.kaiming_normal_(t, nonlinearity=nonlinearity),
        "kaiming_uniform": lambda t: nn.init.kaiming_uniform_(t, nonlinearity=nonlinearity),
        "xavier_normal": nn.init.xavier_normal_,
        "xavier_uniform": nn.init.xavier_uniform_,
        "orthogonal": nn.init.orthogonal_,
    }.get(init)
    bias_init = {"zeros": nn.init.zeros_, "constant": lambda t: nn.init.constant_(t, value)}.get(bias)
    if block in WITHOUT_BIAS_INIT:
        bias_init = None
    packed = catalogue.get(block).packed_weights
    for name, tensor in module.named_parameters():
        is_weight = tensor.dim() > 1 if packed else name == "weight"
        is_bias = "bias" in name if packed else name == "bias"
        if is_weight and weight_init:
            weight_init(tensor)
        elif is_bias and bias_init:
            bias_init(tensor)
    if isinstance(module, nn.Embedding) and weight_init:
        nn.init.zeros_(module.weight[module.padding_idx])  # the padding row stays zero, as torch keeps it
    return module


def same_values(a: nn.Module, b: nn.Module) -> bool:
    ours, theirs = list(a.state_dict().values()), list(b.state_dict().values())
    return len(ours) == len(theirs) and all(torch.equal(x, y) for x, y in zip(ours, theirs, strict=True))


CHOICES = [
    (init, nonlinearity, bias)
    for init in WEIGHT_INITS
    for nonlinearity in (["relu", "tanh"] if init.startswith("kaiming") else ["relu"])
    for bias in ("default", "zeros", "constant")
]


@pytest.mark.parametrize("block", LAYERS)
@pytest.mark.parametrize(("init", "nonlinearity", "bias"), CHOICES)
def test_the_generated_init_equals_torch_nn_init_by_hand(block, init, nonlinearity, bias):
    values = {"init": init, "init_nonlinearity": nonlinearity, "bias_init": bias, "bias_value": 0.25}
    if block in WITHOUT_BIAS_INIT:
        values = {"init": init, "init_nonlinearity": nonlinearity}
    model = generated(one_layer(block, **values))
    assert same_values(model, by_hand(block, init, nonlinearity, bias, 0.25))
    # torch starts attention's biases at zero already; every other choice changes the values, so the check above
    # would have caught a missing init_weights
    bias_changes = bias == "constant" or (bias == "zeros" and block != "MultiheadAttention")
    if init != "default" or (bias_changes and block not in WITHOUT_BIAS_INIT):
        assert not same_values(model, by_hand(block, "default", "relu", "default", 0.0))


def test_the_init_weights_method_reads_as_a_person_would_write_it():
    g = one_layer("Linear", init="kaiming_normal", bias_init="constant", bias_value=0.1)
    source = generate_model(g, analyze(g)).source
    assert "        self.init_weights()\n\n    def init_weights(self) -> None:\n" in source
    assert "nn.init.kaiming_normal_(self.layer.weight, nonlinearity='relu')\n" in source
    assert "nn.init.constant_(self.layer.bias, 0.1)\n" in source
    lstm = one_layer("LSTM", init="orthogonal", bias_init="zeros")
    assert (
        "        for name, tensor in self.layer.named_parameters():\n"
        "            if tensor.dim() > 1:\n"
        "                nn.init.orthogonal_(tensor)\n"
        '            elif "bias" in name:\n'
        "                nn.init.zeros_(tensor)\n"
    ) in generate_model(lstm, analyze(lstm)).source


def test_a_bias_init_without_a_bias_or_an_unused_nonlinearity_writes_nothing():
    for values in (
        {"bias": False, "bias_init": "zeros"},
        {"init_nonlinearity": "tanh"},
        {"bias_value": 3.0},
    ):
        g = one_layer("Linear", **values)
        assert "init_weights" not in generate_model(g, analyze(g)).source, values


def block_twice(labels: tuple[str, str] = ("fc", "act")) -> tuple[Graph, str, str]:
    """Input -> [Linear(xavier_uniform) -> Tanh] grouped as Block, then a second Block; returns the graph, the
    inner Linear and the second instance."""
    g = Graph()
    data = g.add_node("Input", params={"shape": (8,)}).id
    fc = g.add_node("Linear", label=labels[0], params={"out_features": 8, "init": "xavier_uniform"}).id
    act = g.add_node("Tanh", label=labels[1]).id
    g.connect(data, "x", fc, "x")
    g.connect(fc, "y", act, "x")
    first = group(g, [fc, act], "Block")
    second = g.add_node("Block").id
    g.connect(first, "y", second, "x")
    return g, fc, second


def two_linears_by_hand(*, each_class_on_its_own: bool) -> list[torch.Tensor]:
    """Two Linear(8, 8) with Xavier weights: each initialised as it is built (what each class's init_weights
    does), or both built first and then initialised (the model's init_weights, for nn.Sequential blocks)."""
    torch.manual_seed(0)
    layers = []
    for _ in range(2):
        layers.append(nn.Linear(8, 8))
        if each_class_on_its_own:
            nn.init.xavier_uniform_(layers[-1].weight)
    if not each_class_on_its_own:
        for layer in layers:
            nn.init.xavier_uniform_(layer.weight)
    return [value for layer in layers for value in layer.state_dict().values()]


def test_each_composite_class_initialises_its_own_layers():
    g, _, _ = block_twice()
    source = generate_model(g, analyze(g)).source
    block_class = source[source.index("class Block(nn.Module):") : source.index("class Model(nn.Module):")]
    assert "        self.init_weights()\n" in block_class
    assert "nn.init.xavier_uniform_(self.fc.weight)" in block_class
    assert source.count("def init_weights") == 1  # the model's own layers keep torch's default
    model = generated(g)
    assert all(
        torch.equal(a, b)
        for a, b in zip(model.state_dict().values(), two_linears_by_hand(each_class_on_its_own=True), strict=True)
    )


def test_layers_inside_an_nn_sequential_are_initialised_by_the_class_holding_it():
    g, _, _ = block_twice(("0", "1"))
    source = generate_model(g, analyze(g)).source
    assert "nn.Sequential(nn.Linear(8, 8), nn.Tanh())" in source
    assert "nn.init.xavier_uniform_(self.block1[0].weight)" in source
    assert "nn.init.xavier_uniform_(self.block2[0].weight)" in source
    model = generated(g)
    assert all(
        torch.equal(a, b)
        for a, b in zip(model.state_dict().values(), two_linears_by_hand(each_class_on_its_own=False), strict=True)
    )


def test_uses_of_a_composite_that_start_differently_are_refused_with_what_to_do():
    g, fc, second = block_twice()
    g.expose("Block", Exposed("start", ((fc, "init"),)))
    source = generate_model(g, analyze(g)).source
    assert "start" not in source  # the same in both uses: written inside the class, not an argument
    g.set_param(second, "start", "orthogonal")
    with pytest.raises(CodegenError, match=r"starts its weights differently .* make those uses unique"):
        generate_model(g, analyze(g))


def test_projects_that_never_chose_an_init_are_saved_without_one_and_write_no_init_weights(tmp_path):
    for original in sorted(SAMPLES.glob("*.nbproj")):
        project = load_project(original)
        saved = save_project(project, tmp_path / original.name).read_text()
        assert not any(f'"{name}":' in saved for name in INIT_PARAMS), original.name
        analysis = analyze(project.graph)
        assert "init_weights" not in generate_model(project.graph, analysis, name=project.name).source


def test_a_chosen_init_round_trips_through_the_project_file(tmp_path):
    project = Project.new("init")
    g = project.graph
    data = g.add_node("Input", params={"shape": (6, 8)}).id
    lstm = g.add_node(
        "LSTM", params={"init": "kaiming_uniform", "init_nonlinearity": "tanh", "bias_init": "constant"}
    ).id
    g.set_param(lstm, "bias_value", -0.5)
    g.connect(data, "x", lstm, "x")
    before = generate_model(g, analyze(g)).source
    path = save_project(project, tmp_path / "init.nbproj")
    assert '"init": "kaiming_uniform"' in path.read_text()
    loaded = load_project(path)
    params = loaded.graph.nodes[lstm].params
    assert {name: params[name] for name in INIT_PARAMS} == {
        "init": "kaiming_uniform",
        "init_nonlinearity": "tanh",
        "bias_init": "constant",
        "bias_value": -0.5,
    }
    assert generate_model(loaded.graph, analyze(loaded.graph)).source == before


def test_an_init_the_file_does_not_know_is_refused_naming_the_field(tmp_path):
    project = Project.new("bad")
    data = project.graph.add_node("Input", params={"shape": (8,)}).id
    fc = project.graph.add_node("Linear", params={"init": "xavier_normal"}).id
    project.graph.connect(data, "x", fc, "x")
    path = save_project(project, tmp_path / "bad.nbproj")
    path.write_text(path.read_text().replace('"xavier_normal"', '"import os"'))
    with pytest.raises(Exception, match=r"params\.init: expected one of"):
        load_project(path)


# ------------------------------------------------------------------------------------------ vanishing gradients

DEPTH, WIDTH = 20, 64
# A plain network passes the gradient back through every layer: where each layer shrinks it by a factor f, the
# first layer gets f**19 of the last one's. torch's default init for Linear draws U(-1/sqrt(fan_in), 1/sqrt(fan_in))
# weights, a standard deviation of 1/sqrt(3 fan_in): f is about 1/sqrt(3) for Tanh (measured: ratios near 1e-5)
# and below it for ReLU (near 5e-8). Xavier and Kaiming scale the weights so that f stays near 1 (measured: 0.07 to
# 2.5). A ratio under 1e-3 (f under 0.7: each layer loses a third of the gradient) is vanishing; the good inits
# stay above 1e-2, a factor of ten clear of it on every seed tried.
VANISHING = 1e-3
HEALTHY = 1e-2


def deep_plain_network(activation: str, init: str, nonlinearity: str = "relu") -> Graph:
    g = Graph()
    previous, port = g.add_node("Input", params={"shape": (WIDTH,)}).id, "x"
    for _ in range(DEPTH):
        fc = g.add_node("Linear", params={"out_features": WIDTH, "init": init, "init_nonlinearity": nonlinearity}).id
        act = g.add_node(activation).id
        g.connect(previous, port, fc, "x")
        g.connect(fc, "y", act, "x")
        previous, port = act, "y"
    return g


def first_to_last_gradient(g: Graph, seed: int) -> float:
    model = generated(g, seed)
    x = torch.randn(256, WIDTH, generator=torch.Generator().manual_seed(seed))
    model(x).pow(2).mean().backward()
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return (linears[0].weight.grad.norm() / linears[-1].weight.grad.norm()).item()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    ("activation", "good"),
    [("Tanh", ("kaiming_normal", "tanh")), ("Tanh", ("xavier_normal", "relu")), ("ReLU", ("kaiming_normal", "relu"))],
)
def test_a_deep_plain_network_vanishes_with_torchs_default_and_not_with_kaiming_or_xavier(activation, good, seed):
    assert first_to_last_gradient(deep_plain_network(activation, "default"), seed) < VANISHING
    assert first_to_last_gradient(deep_plain_network(activation, *good), seed) > HEALTHY


def test_starting_weights_win_over_a_chosen_init(tmp_path):
    """An imported model's weights are loaded after the network is built, so its init_weights only decides the
    layers whose weights no longer fit (a head with another class count)."""
    weights = _pretrained_weights()
    path = _import(tmp_path, weights)
    _make_trainable(path, classes=10)
    project = load_project(path)
    g = project.graph
    for label in ("fc1", "classifier"):
        g.set_param(g.by_label(label).id, "init", "orthogonal")
    program = load_program(with_settings(project, device="cpu"))
    assert "nn.init.orthogonal_(self.fc1.weight)" in program.model_source
    model = program.new_model()
    assert torch.equal(model.fc1.weight, weights["fc1.weight"])
    classifier = model.classifier.weight
    assert torch.allclose(classifier @ classifier.T, torch.eye(10), atol=1e-5)  # orthogonal rows: the init


def test_other_blocks_own_init_parameters_are_left_as_they_were(tmp_path):
    """PReLU's `init` is its starting slope, a constructor argument; a Parameter's says how its tensor is made:
    neither is a weight init, so both stay in the code and in the file at their defaults."""
    project = Project.new("others")
    g = project.graph
    data = g.add_node("Input", params={"shape": (4,)}).id
    prelu = g.add_node("PReLU", params={"init": 0.1}).id
    g.add_node("Parameter", params={"shape": (1, 4)})
    g.connect(data, "x", prelu, "x")
    assert "nn.PReLU(init=0.1)" in generate_model(g, analyze(g)).source
    g.set_param(prelu, "init", 0.25)
    nodes = json.loads(save_project(project, tmp_path / "others.nbproj").read_text())["graph"]["nodes"]
    assert [("init" in node["params"]) for node in nodes] == [False, True, True]


def test_models_with_init_weights_pass_ruff(tmp_path):
    """The method is code a person keeps: ruff finds nothing in it, in the model and in composite classes."""
    graphs = {
        "layers": [
            one_layer(block, init="kaiming_uniform", **({} if block in WITHOUT_BIAS_INIT else {"bias_init": "zeros"}))
            for block in LAYERS
        ],
        "weights_only": [one_layer(block, init="orthogonal") for block in ("LSTM", "Linear")],
        "biases_only": [one_layer(block, bias_init="constant", bias_value=-1.0) for block in ("GRU", "Conv2d")],
        "composites": [block_twice()[0], block_twice(("0", "1"))[0]],
    }
    for kind, members in graphs.items():
        for i, g in enumerate(members):
            (tmp_path / f"{kind}_{i}.py").write_text(generate_model(g, analyze(g)).source)
    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run(
        [str(ruff), "check", "--isolated", "--select", "E,F,W,I,B,UP", "--line-length", "120", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout

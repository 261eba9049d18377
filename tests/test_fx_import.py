"""Importing PyTorch modules through torch.fx: the regenerated model, given the original weights, computes
what the original computes; what does not map is named with its source line and the rest still imports."""

from __future__ import annotations

import inspect
import textwrap
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from netbuilder.analysis import analyze
from netbuilder.cli import main
from netbuilder.codegen.model_code import generate_model
from netbuilder.graph.definitions import expanded
from netbuilder.importers import ImportFailure, ImportResult, WeightsError, import_module, load_weights
from netbuilder.project import load_project
from netbuilder.runtime.build import load_module


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(6, 32)
        self.drop = nn.Dropout(0.2)
        self.fc2 = nn.Linear(32, 16)
        self.norm = nn.LayerNorm(16)
        self.head = nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(torch.relu(self.fc1(x)))
        x = F.gelu(self.fc2(x))
        return F.log_softmax(self.head(self.norm(x)), dim=1)


class SmallCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, kernel_size=3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.gap = nn.AdaptiveAvgPool2d((2, 2))
        self.fc = nn.Linear(64, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = F.avg_pool2d(F.relu(self.bn2(self.conv2(x))), 1)
        x = self.gap(x)
        return self.fc(x.view(x.size(0), -1))


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += x
        return self.relu(out)


class Branches(nn.Module):
    """Concat of two branches, a permute to channels-last and a product gate."""

    def __init__(self) -> None:
        super().__init__()
        self.left = nn.Conv1d(3, 4, 3, padding=1)
        self.right = nn.Conv1d(3, 6, 5, padding=2)
        self.gate = nn.Linear(10, 10)
        self.fc = nn.Linear(10, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        joined = torch.cat([self.left(x), self.right(x)], dim=1)
        steps = joined.permute(0, 2, 1)
        gated = steps * torch.sigmoid(self.gate(steps))
        return self.fc(torch.flatten(gated.logsumexp(dim=1, keepdim=True), 1))


class ChannelsLast(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.left = nn.Conv1d(3, 4, 3, padding=1)
        self.right = nn.Conv1d(3, 6, 5, padding=2)
        self.gate = nn.Linear(10, 10)
        self.fc = nn.Linear(80, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        joined = torch.cat([self.left(x), self.right(x)], dim=1)
        steps = joined.permute(0, 2, 1)
        gated = steps * torch.sigmoid(self.gate(steps))
        return self.fc(torch.flatten(gated, 1))


class LSTMClassifier(nn.Module):
    """Token ids -> embedding -> two stacked LSTM layers -> the top layer's final state -> classes."""

    def __init__(self, vocabulary: int = 50, bidirectional: bool = False) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocabulary, 16, padding_idx=0)
        self.lstm = nn.LSTM(16, 24, num_layers=2, batch_first=True, dropout=0.1, bidirectional=bidirectional)
        self.head = nn.Linear(48 if bidirectional else 24, 4)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self.lstm(self.embed(tokens))
        if self.lstm.bidirectional:
            return self.head(torch.cat([h[-2], h[-1]], dim=1))
        return self.head(h[-1])


class GRUTagger(nn.Module):
    """Features per step -> GRU sequence -> the last step's output and a per-step average, joined."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(6, 12, batch_first=True)
        self.head = nn.Linear(24, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(x)
        return self.head(torch.cat([out[:, -1], out.mean(dim=1)], dim=1))


class TransformerClassifier(nn.Module):
    """Features per position -> linear embedding -> a two-layer transformer encoder with a final norm ->
    the average over positions -> classes."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(5, 16)
        layer = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, dropout=0.1, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, norm=nn.LayerNorm(16), enable_nested_tensor=False)
        self.head = nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(F.gelu(self.embed(x))).mean(dim=1))


def _randomise_statistics(module: nn.Module) -> None:
    """Non-trivial BatchNorm statistics, so a weight that did not arrive shows in the outputs."""
    generator = torch.Generator().manual_seed(0)
    for sub in module.modules():
        if isinstance(sub, nn.BatchNorm1d | nn.BatchNorm2d):
            sub.running_mean.copy_(torch.randn(sub.num_features, generator=generator))
            sub.running_var.copy_(torch.rand(sub.num_features, generator=generator) + 0.5)
            sub.weight.data.copy_(torch.randn(sub.num_features, generator=generator))


def _regenerated(result: ImportResult, original: nn.Module) -> nn.Module:
    graph = result.project.graph
    code = generate_model(graph, analyze(graph), name=result.project.name)
    model = getattr(load_module(code.source), code.class_name)()
    model.load_state_dict(load_weights(result, original.state_dict()))
    return model.eval()


def _assert_round_trip(original: nn.Module, shape: tuple[int, ...], *, dtype: str = "float32") -> ImportResult:
    torch.manual_seed(0)
    _randomise_statistics(original)
    result = import_module(original, shape, type(original).__name__, dtype=dtype)
    assert result.unmapped == ()
    assert not analyze(result.project.graph).has_errors(training=False)
    model = _regenerated(result, original.eval())
    # another batch size than the traced one
    x = torch.randint(0, 50, (3, *shape[1:])) if dtype == "int64" else torch.randn(3, *shape[1:])
    with torch.no_grad():
        torch.testing.assert_close(model(x), original(x), atol=1e-5, rtol=1e-5)
    return result


def test_mlp_round_trip_and_layout() -> None:
    result = _assert_round_trip(MLP(), (2, 6))
    graph = result.project.graph
    blocks = sorted(node.block for node in graph.nodes.values())
    assert blocks == sorted(
        ["Input", "Linear", "ReLU", "Dropout", "Linear", "GELU", "LayerNorm", "Linear", "LogSoftmax"]
    )
    assert graph.by_label("drop").params["p"] == 0.2
    columns = {node.position[0] for node in graph.nodes.values()}
    assert len(columns) == len(graph.nodes)  # a chain laid out left to right, one column per layer
    assert graph.by_label("x").position[0] == min(columns)


def test_cnn_with_batch_norm_pooling_and_view() -> None:
    result = _assert_round_trip(SmallCNN(), (2, 3, 16, 16))
    conv2 = result.project.graph.by_label("conv2").params
    assert (conv2["kernel_size"], conv2["stride"], conv2["bias"]) == (3, 2, False)


def test_residual_block_adds_the_skip() -> None:
    result = _assert_round_trip(Residual(), (1, 4, 8, 8))
    add = next(n for n in result.project.graph.nodes.values() if n.block == "Add")
    sources = {result.project.graph.nodes[e.src].block for e in result.project.graph.inputs_of(add.id).values()}
    assert sources == {"BatchNorm2d", "Input"}
    # the ReLU called twice becomes two nodes
    assert sum(n.block == "ReLU" for n in result.project.graph.nodes.values()) == 2


def test_concat_permute_and_gate() -> None:
    result = _assert_round_trip(ChannelsLast(), (2, 3, 8))
    concat = next(n for n in result.project.graph.nodes.values() if n.block == "Concat")
    assert concat.params["dim"] == 1
    assert any(n.block == "Permute" and n.params["dims"] == (0, 2, 1) for n in result.project.graph.nodes.values())


@pytest.mark.parametrize("bidirectional", [False, True])
def test_lstm_classifier_round_trip(bidirectional: bool) -> None:
    result = _assert_round_trip(LSTMClassifier(bidirectional=bidirectional), (2, 7), dtype="int64")
    lstm = result.project.graph.by_label("lstm").params
    assert (lstm["output"], lstm["num_layers"], lstm["bidirectional"]) == ("last", 2, bidirectional)
    assert result.project.graph.by_label("embed").params["padding_idx"] == 0


def test_sequence_output_read_two_ways_round_trip() -> None:
    """out[:, -1] of a one-way layer is its final state ('last'); out itself is 'sequence': two blocks, one
    set of weights."""
    result = _assert_round_trip(GRUTagger(), (2, 9, 6))
    outputs = sorted(result.project.graph.nodes[n].params["output"] for n in result.modules["gru"])
    assert outputs == ["last", "sequence"]
    assert any(n.block == "Mean" for n in result.project.graph.nodes.values())


def test_transformer_encoder_classifier_round_trip() -> None:
    result = _assert_round_trip(TransformerClassifier(), (2, 10, 5))
    graph = result.project.graph
    encoder = graph.definition_of(graph.by_label("encoder").id).graph  # the hierarchy is kept: encoder.layers.0
    layers = encoder.definition_of(encoder.by_label("layers").id).graph
    chain = [layers.by_label("0"), layers.by_label("1"), encoder.by_label("norm")]
    assert [n.block for n in chain] == ["TransformerEncoderLayer", "TransformerEncoderLayer", "LayerNorm"]
    assert chain[0].params["norm_first"] is True and chain[0].params["dim_feedforward"] == 32
    assert graph.by_label("mean").params == {"dim": (1,), "keepdim": False}


class AttentionClassifier(nn.Module):
    """A hand-written transformer block: self-attention with a residual and a norm, then a mean over positions."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(5, 16)
        self.attn = nn.MultiheadAttention(16, 4, batch_first=True)
        self.norm = nn.LayerNorm(16)
        self.head = nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.embed(x)
        attended, _ = self.attn(x, x, x, need_weights=False)
        return self.head(self.norm(x + attended).mean(dim=1))


def test_self_attention_round_trip() -> None:
    result = _assert_round_trip(AttentionClassifier(), (2, 6, 5))
    attn = result.project.graph.by_label("attn").params
    assert (attn["num_heads"], attn["bias"]) == (4, True)


def test_cross_attention_is_named() -> None:
    class Cross(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attn = nn.MultiheadAttention(4, 2, batch_first=True)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.attn(x, torch.tanh(x), x)[0]

    (missing,) = import_module(Cross(), (2, 3, 4), "cross").unmapped
    assert missing.call == "nn.MultiheadAttention" and "query, key and value are one tensor" in missing.reason


def test_what_a_recurrent_block_cannot_give_is_named() -> None:
    class CellState(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(4, 8, batch_first=True)
            self.head = nn.Linear(16, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            _, (h, c) = self.lstm(x)
            return self.head(torch.cat([h[-1], c[-1]], dim=1))

    result = import_module(CellState(), (2, 5, 4), "cell")
    (missing,) = result.unmapped
    assert missing.call == "the output of nn.LSTM" and "cell state c_n" in missing.reason
    assert "_, (h, c) = self.lstm(x)" in missing.where
    assert result.project.graph.by_label("lstm").params["output"] == "last"


def test_sequence_first_layers_are_not_imported_as_batch_first() -> None:
    """A layer built with batch_first=False reads (L, N, E): importing it as the batch-first block would
    mix samples, so it is named instead (the encoder layer keeps batch_first on its attention only)."""

    class SequenceFirst(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = nn.TransformerEncoderLayer(8, 2, 16)
            self.gru = nn.GRU(8, 8)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.gru(self.encoder(x))[0]

    result = import_module(SequenceFirst(), (3, 4, 8), "first")
    assert {(u.call, u.reason) for u in result.unmapped} == {
        ("nn.TransformerEncoderLayer", "the TransformerEncoderLayer block always has batch_first=True"),
        ("nn.GRU", "the GRU block always has batch_first=True"),
    }


def test_resnet18_round_trip() -> None:
    torchvision = pytest.importorskip("torchvision")
    result = _assert_round_trip(torchvision.models.resnet18(weights=None), (1, 3, 32, 32))
    assert sum(n.block == "Add" for _, n in expanded(result.project.graph)) == 8


@pytest.mark.slow
@pytest.mark.parametrize(("name", "block", "count"), [("vgg11_bn", "BatchNorm2d", 8), ("mobilenet_v2", "ReLU6", 35)])
def test_torchvision_round_trips(name: str, block: str, count: int) -> None:
    torchvision = pytest.importorskip("torchvision")
    result = _assert_round_trip(getattr(torchvision.models, name)(weights=None), (1, 3, 32, 32))
    assert result.complete
    assert sum(n.block == block for _, n in expanded(result.project.graph)) == count


def test_unmapped_call_is_named_with_its_line_and_the_rest_still_imports() -> None:
    result = import_module(Branches(), (2, 3, 8), "branches")
    (missing,) = result.unmapped
    assert missing.call == "Tensor.logsumexp"
    assert "test_fx_import.py" in missing.where and "gated.logsumexp(dim=1, keepdim=True)" in missing.where
    assert "Tensor.logsumexp" in result.report()
    blocks = [n.block for n in result.project.graph.nodes.values()]
    assert blocks.count("Conv1d") == 2 and blocks.count("Linear") == 2 and "Concat" in blocks
    # the layers after the gap are not fed, so their weights have no place in the generated model: named
    with pytest.raises(WeightsError, match=r"fc\.weight, fc\.bias"):
        _regenerated(result, Branches())


def test_a_layer_called_twice_becomes_two_nodes_with_its_weights() -> None:
    class Shared(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(torch.tanh(self.fc(x)))

    result = _assert_round_trip(Shared(), (2, 4))
    assert len(result.modules["fc"]) == 2


def test_untraceable_module_says_why() -> None:
    class Branching(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x if x.sum() > 0 else -x

    with pytest.raises(ImportFailure) as failure:
        import_module(Branching(), (1, 3), "branching")
    message = str(failure.value)
    assert "\n" not in message and message.startswith("torch.fx cannot trace Branching: TraceError: ")
    assert message.endswith(f"test_fx_import.py:{_line_of('x.sum() > 0')}: return x if x.sum() > 0 else -x")


def _line_of(code: str) -> int:
    """The line of this file that holds `code` (its first occurrence)."""
    return next(i for i, line in enumerate(Path(__file__).read_text().splitlines(), 1) if code in line)


def test_a_module_that_does_not_run_on_the_input_says_where_in_one_line(capfd) -> None:
    class Mismatched(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.head = nn.Linear(5, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.fc(x))  # 4 features into a layer that takes 5

    with pytest.raises(ImportFailure) as failure:
        import_module(Mismatched(), (1, 4), "mismatched")
    message = str(failure.value)
    assert message.startswith("Mismatched does not run on an input of shape (1, 4): RuntimeError: mat1 and mat2")
    assert "\n" not in message and message.endswith("(self.head)")
    assert "Traceback" not in capfd.readouterr().err  # torch's ShapeProp prints one; the user reads one line


def test_an_unmapped_call_inside_a_submodule_is_named_as_written_at_its_own_line() -> None:
    class Clamped(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.clamp(self.fc(x), 0.0, 1.0)

    class Outer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = Clamped()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.relu(self.inner(x))

    (gap,) = import_module(Outer(), (1, 4), "outer").unmapped
    assert gap.call == "torch.clamp"
    assert gap.where.endswith(
        f"test_fx_import.py:{_line_of('torch.clamp(self.fc(x)')}: return torch.clamp(self.fc(x), 0.0, 1.0)"
    )


def test_cli_imports_a_class_from_a_file(tmp_path, capsys) -> None:
    source = tmp_path / "tiny.py"
    source.write_text(
        textwrap.dedent(
            """
            import torch
            from torch import nn

            class Tiny(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 3)

                def forward(self, x):
                    return torch.relu(self.fc(x))

            class Cumulative(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 3)

                def forward(self, x):
                    return self.fc(x).cumsum(1)
            """
        )
    )
    out = tmp_path / "tiny.nbproj"
    assert main(["import", f"{source}:Tiny", "--input-shape", "1,4", "-o", str(out)]) == 0
    project = load_project(out)
    assert project.name == "Tiny"
    assert sorted(n.block for n in project.graph.nodes.values()) == ["Input", "Linear", "ReLU"]
    assert project.graph.by_label("fc").params["out_features"] == 3

    partial = tmp_path / "cumulative.nbproj"
    assert main(["import", f"{source}:Cumulative", "--input-shape", "1,4", "-o", str(partial)]) == 1
    assert "Tensor.cumsum" in capsys.readouterr().err and partial.is_file()

    assert main(["import", f"{source}:Missing", "--input-shape", "1,4", "-o", str(partial)]) == 2
    assert "no nn.Module class 'Missing'" in capsys.readouterr().err
    assert main(["import", f"{source}:Tiny", "--input-shape", "1,x", "-o", str(partial)]) == 2


class TrainingOnly(nn.Module):
    """A branch that only training runs, as GoogLeNet's auxiliary heads are."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.head = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.fc(x)
        if self.training:
            x = torch.relu(x)
        return self.head(x)


def _outputs(result: ImportResult) -> tuple:
    graph = result.project.graph
    return generate_model(graph, analyze(graph), name=result.project.name).outputs


def test_googlenet_imports_with_one_output_and_without_its_auxiliary_heads() -> None:
    torchvision = pytest.importorskip("torchvision")
    original = torchvision.models.googlenet(weights=None, init_weights=False)
    assert original.training and original.aux1 is not None
    training = import_module(original, (1, 3, 64, 64), "GoogLeNet", training=True)
    assert len(_outputs(training)) == 3
    assert {"aux1.fc2", "aux2.fc2"} <= set(training.modules) and training.untraced == ()
    assert original.training

    # the whole state_dict, auxiliary heads included, loads: their weights are left out, and the report says so
    result = _assert_round_trip(original, (1, 3, 64, 64))
    assert len(_outputs(result)) == 1
    assert not [path for path in result.modules if path.startswith(("aux1", "aux2"))]
    assert result.untraced == ("aux1", "aux2")
    assert result.report().endswith(
        "left out with their weights (forward() does not run them in the mode traced, "
        "eval unless training is asked for): aux1, aux2"
    )


def test_a_layer_forward_never_runs_is_named_and_its_weights_left_out() -> None:
    class Unused(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 3)
            self.spare = nn.Sequential(nn.Linear(3, 3), nn.ReLU())
            self.scale = nn.Linear(3, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(x)

    original = Unused()
    result = import_module(original, (1, 4), "unused")
    assert result.untraced == ("spare", "scale")
    assert set(load_weights(result, original.state_dict())) == {"fc.weight", "fc.bias"}

    class ReadsAWeight(Unused):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return F.linear(self.fc(x), self.scale.weight)  # scale is reached, though not called

    assert import_module(ReadsAWeight(), (1, 4), "reads").untraced == ("spare",)


def test_an_import_leaves_the_module_and_each_submodule_in_its_own_mode() -> None:
    original = TrainingOnly()
    original.head.eval()  # a frozen part of a model being trained
    import_module(original, (1, 4), "kept")
    assert (original.training, original.fc.training, original.head.training) == (True, True, False)

    original.eval()
    import_module(original, (1, 4), "kept", training=True)
    assert not any(sub.training for sub in original.modules())

    original.train()
    with pytest.raises(ImportFailure):
        import_module(original, (1, 5), "wrong input")
    assert all(sub.training for sub in original.modules())


def test_cli_imports_the_eval_network_unless_asked_for_training(tmp_path, monkeypatch) -> None:
    import netbuilder.importers.sources as sources

    monkeypatch.setattr(sources, "model_from_source", lambda source: (TrainingOnly(), "TrainingOnly"))
    out = tmp_path / "branch.nbproj"
    assert main(["import", "any:TrainingOnly", "--input-shape", "1,4", "-o", str(out)]) == 0
    assert sorted(n.block for n in load_project(out).graph.nodes.values()) == ["Input", "Linear", "Linear"]
    assert main(["import", "any:TrainingOnly", "--input-shape", "1,4", "--training", "-o", str(out)]) == 0
    assert "ReLU" in {n.block for n in load_project(out).graph.nodes.values()}


@pytest.mark.slow
def test_densenet121_imports_whole_with_its_concats_of_one_to_twenty_five_inputs() -> None:
    torchvision = pytest.importorskip("torchvision")
    result = _assert_round_trip(torchvision.models.densenet121(weights=None), (1, 3, 32, 32))
    widths = [n.params["inputs"] for _, n in expanded(result.project.graph) if n.block == "Concat"]
    assert (len(widths), min(widths), max(widths)) == (62, 1, 25)


def test_efficientnets_widest_depthwise_conv_imports_with_all_its_groups() -> None:
    depthwise = nn.Sequential(nn.Conv2d(1536, 1536, 3, padding=1, groups=1536, bias=False), nn.BatchNorm2d(1536))
    result = _assert_round_trip(depthwise, (1, 1536, 4, 4))
    assert [n.params["groups"] for n in result.project.graph.nodes.values() if n.block == "Conv2d"] == [1536]


class Gapped(nn.Module):
    """A layer before a call with no block (logsumexp) and a layer after it."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(x).logsumexp(dim=2))


def test_a_partial_import_with_weights_keeps_those_of_the_layers_that_imported(tmp_path, capsys) -> None:
    from netbuilder.runtime.starting_weights import read_starting_weights

    source = tmp_path / "gapped.py"
    source.write_text("import torch\nfrom torch import nn\n\n\n" + textwrap.dedent(inspect.getsource(Gapped)))
    original = _load_class(source, "Gapped")()
    weights = tmp_path / "gapped.pt"
    torch.save({**original.state_dict(), "extra.weight": torch.zeros(2)}, weights)
    out = tmp_path / "gapped.nbproj"
    status = main(["import", f"{source}:Gapped", "--input-shape", "1,3,8", "-o", str(out), "--weights", str(weights)])
    assert status == 1  # in part: the gap stands
    printed = capsys.readouterr().out
    assert "4 tensors from" in printed and "left out, as no imported layer holds them: extra.weight" in printed
    project = load_project(out)
    kept = read_starting_weights(project.weights)
    by_label = {node.label: node.id for node in project.graph.nodes.values()}
    for key, tensor in original.state_dict().items():
        layer, name = key.split(".")
        torch.testing.assert_close(kept[f"{by_label[layer]}.{name}"], tensor)


def _load_class(path: Path, name: str) -> type[nn.Module]:
    from netbuilder.importers.sources import model_from_source

    return type(model_from_source(f"{path}:{name}")[0])


class Pieces(nn.Module):
    """What torchvision's classifiers do between layers: chunks and slices, learned tensors used directly,
    a class token expanded to the batch, reductions over several dimensions, a functional layer norm with a
    module's own weights, padding, and dimensions added and removed."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(8, 4, 1)
        self.token = nn.Parameter(torch.zeros(1, 1, 4))
        self.position = nn.Parameter(0.02 * torch.randn(1, 5, 4))
        self.scale = nn.Parameter(torch.full((4, 1, 1), 1e-6))
        self.weight = nn.Parameter(torch.randn(4))
        self.bias = nn.Parameter(torch.randn(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, _ = x.chunk(2, dim=1)
        c, d = torch.split(x, [3, 5], dim=1)
        y = torch.cat([a, self.conv(x) * self.scale, c], 1).transpose(1, 2).contiguous().permute(0, 2, 3, 1)
        y = F.layer_norm(y[..., :4], (4,), self.weight, self.bias, 1e-6)
        values = y.max(dim=2).values
        pooled = x.mean([2, 3]) + x.amax((2, 3))
        tokens = pooled[:, :4].reshape(x.size(0), 1, 4).expand(-1, 4, -1)
        z = torch.cat([self.token.expand(x.shape[0], -1, -1), tokens], 1) + self.position
        seq = F.pad(values.reshape(values.shape[0], 4, -1)[:, :, ::2], (1, 1), mode="reflect")[:, 0]
        corner = d.amin((1, 2, 3), keepdim=True)[:, 0, 0].unsqueeze(1).squeeze(1)
        return z[:, 0] + seq.sum(1, keepdim=True) + corner


def test_slices_learned_tensors_and_reductions_round_trip() -> None:
    result = _assert_round_trip(Pieces(), (1, 8, 6, 6))
    blocks = {node.block for _, node in expanded(result.project.graph)}
    assert {"Slice", "Select", "Parameter", "Expand", "Max", "Min", "Mean", "Pad", "Unsqueeze", "Squeeze"} <= blocks
    # the learned tensors keep their names, so the original's state_dict loads under its own keys
    assert {n.label for n in result.project.graph.nodes.values()} >= {"token", "position", "scale", "weight", "bias"}


def test_the_indices_of_max_have_no_block_and_are_named() -> None:
    class ArgMax(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            best = x.max(dim=1)
            return best.values + best.indices

    (gap,) = import_module(ArgMax(), (1, 4, 3), "argmax").unmapped
    assert gap.call == "the indices of Tensor.max" and "no netbuilder block gives them" in gap.reason


class FunctionalActivations(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.hardtanh(x, -2.0, 2.0) + F.softplus(x, 2.0, 10.0) + F.celu(x, 0.5) + F.selu(x) + torch.selu(x)
        y = y + F.hardsigmoid(x) + F.logsigmoid(x) + F.softsign(x) + F.tanhshrink(x) + F.softmin(x, 1)
        y = y + F.threshold(x, 0.1, -1.0) + F.softshrink(x, 0.3) + F.hardshrink(x, 0.2)
        return F.glu(y, -1)


def test_functional_activations_round_trip() -> None:
    result = _assert_round_trip(FunctionalActivations(), (1, 3, 6))
    blocks = {node.block for node in result.project.graph.nodes.values()}
    assert {"Hardtanh", "Softplus", "CELU", "SELU", "Hardsigmoid", "Threshold", "GLU", "Softmin"} <= blocks

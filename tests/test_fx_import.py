"""Importing PyTorch modules through torch.fx: the regenerated model, given the original weights, computes
what the original computes; what does not map is named with its source line and the rest still imports."""

from __future__ import annotations

import textwrap

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from netbuilder.analysis import analyze
from netbuilder.cli import main
from netbuilder.codegen.model_code import generate_model
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
        return self.fc(torch.flatten(gated.mean(dim=1, keepdim=True), 1))


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


def _assert_round_trip(original: nn.Module, shape: tuple[int, ...]) -> ImportResult:
    torch.manual_seed(0)
    _randomise_statistics(original)
    result = import_module(original, shape, type(original).__name__)
    assert result.unmapped == ()
    assert not analyze(result.project.graph).has_errors(training=False)
    model = _regenerated(result, original.eval())
    x = torch.randn(3, *shape[1:])  # another batch size than the traced one
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


def test_resnet18_round_trip() -> None:
    torchvision = pytest.importorskip("torchvision")
    result = _assert_round_trip(torchvision.models.resnet18(weights=None), (1, 3, 32, 32))
    assert sum(n.block == "Add" for n in result.project.graph.nodes.values()) == 8


@pytest.mark.slow
@pytest.mark.parametrize(("name", "block", "count"), [("vgg11_bn", "BatchNorm2d", 8), ("mobilenet_v2", "ReLU6", 35)])
def test_torchvision_round_trips(name: str, block: str, count: int) -> None:
    torchvision = pytest.importorskip("torchvision")
    result = _assert_round_trip(getattr(torchvision.models, name)(weights=None), (1, 3, 32, 32))
    assert result.complete
    assert sum(n.block == block for n in result.project.graph.nodes.values()) == count


def test_unmapped_call_is_named_with_its_line_and_the_rest_still_imports() -> None:
    result = import_module(Branches(), (2, 3, 8), "branches")
    (missing,) = result.unmapped
    assert missing.call == "Tensor.mean"
    assert "test_fx_import.py" in missing.where and "gated.mean(dim=1, keepdim=True)" in missing.where
    assert "Tensor.mean" in result.report()
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

    with pytest.raises(ImportFailure, match="cannot trace Branching"):
        import_module(Branching(), (1, 3), "branching")


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

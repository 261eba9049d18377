"""Int8 quantization of trained sample networks on their own validation data: each method computes nearly as
the float network does, really holds int8 weights, and its saved file runs in torch's loaders with the same
outputs at any batch size."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
import torchao
from torch import nn

from netbuilder.project import load_project
from netbuilder.training.compression import quantization
from netbuilder.training.compression.quantization import DYNAMIC, METHODS, STATIC, WEIGHT_ONLY
from netbuilder.training.engine import Trainer, with_settings
from netbuilder.training.evaluation import TRAINING, VALIDATION, split_data
from netbuilder.training.program import load_program

SAMPLES = Path(__file__).parent.parent / "sample_projects"


def trained(name: str, epochs: int) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """(network trained a few epochs, its validation inputs, some training inputs) of a sample project."""
    project = with_settings(load_project(SAMPLES / f"{name}.nbproj"), device="cpu", epochs=epochs, seed=1)
    trainer = Trainer(project)
    trainer.run()
    program = load_program(project)
    validation = split_data(project, program, VALIDATION)[0]
    training = split_data(project, program, TRAINING)[0]
    return trainer.model.cpu().eval(), validation, training[:256]


@pytest.fixture(scope="module")
def cnn():
    return trained("digits_cnn", 2)


@pytest.fixture(scope="module")
def lstm():
    return trained("lstm_classifier", 2)


def agreement(model: nn.Module, other: nn.Module, x: torch.Tensor) -> tuple[float, float]:
    """(share of samples with the same predicted class, largest output difference over the output range)."""
    with torch.no_grad():
        a, b = model(x), other(x)
    return (a.argmax(1) == b.argmax(1)).float().mean().item(), ((a - b).abs().max() / (a.max() - a.min())).item()


@pytest.mark.parametrize("method", METHODS)
def test_each_method_computes_nearly_as_the_float_network(cnn, method):
    model, validation, training = cnn
    before = copy.deepcopy(model.state_dict())
    quantized = quantization.quantize(
        model,
        method,
        example_inputs=(validation[:4],),
        calibration=[(training[i : i + 64],) for i in range(0, 256, 64)],
    )
    same, difference = agreement(model, quantized, validation)
    assert same >= 0.97
    assert difference < 0.05
    assert not quantized.training
    for key, tensor in model.state_dict().items():  # the float network is left as it was
        assert type(tensor) is torch.Tensor and torch.equal(tensor, before[key])


def test_the_weights_really_are_int8(cnn, lstm):
    model, validation, _ = cnn
    for method in (DYNAMIC, WEIGHT_ONLY):
        quantized = quantization.quantize(model, method, example_inputs=(validation[:4],))
        assert isinstance(quantized.fc.weight, torchao.quantization.Int8Tensor)
        assert quantized.fc.weight.qdata.dtype == torch.int8
        assert type(quantized.conv1.weight) is nn.Parameter  # torchao quantizes Linear layers only
    static = quantization.quantize(model, STATIC, example_inputs=(validation[:4],))
    tensors = {name: tensor.dtype for name, tensor in [*static.named_parameters(), *static.named_buffers()]}
    assert list(tensors.values()).count(torch.int8) == 2  # the convolution's and the Linear layer's weights
    assert "conv1.weight" not in tensors and "fc.weight" not in tensors  # the float copies dropped
    calls = {str(node.target) for node in static.graph.nodes if node.op == "call_function"}
    assert "quantized_decomposed.quantize_per_tensor.default" in calls  # activations quantized too

    recurrent, sequences, _ = lstm
    quantized = quantization.quantize(recurrent, DYNAMIC, example_inputs=(sequences[:4],))
    assert isinstance(quantized.lstm, torch.ao.nn.quantized.dynamic.LSTM)
    assert {dtype for dtype in (w.dtype for w in quantized.lstm.get_weight().values())} == {torch.qint8}
    assert quantized.fc.weight().dtype == torch.qint8
    same, difference = agreement(recurrent, quantized, sequences)
    assert same >= 0.97 and difference < 0.05


def test_why_not_says_which_method_fits_which_network(cnn):
    model = cnn[0]
    assert [quantization.why_not(model, method) for method in METHODS] == ["", "", ""]
    mlp = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    assert quantization.why_not(mlp, DYNAMIC) == quantization.why_not(mlp, WEIGHT_ONLY) == ""
    assert "convolution" in quantization.why_not(mlp, STATIC)
    convolutions = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 2, 3))
    assert "Linear, LSTM and GRU" in quantization.why_not(convolutions, DYNAMIC)
    assert "Linear" in quantization.why_not(convolutions, WEIGHT_ONLY)
    assert quantization.why_not(convolutions, STATIC) == ""
    assert "LSTM" in quantization.why_not(nn.Sequential(nn.Conv1d(2, 2, 3), nn.GRU(2, 2)), STATIC)
    assert "Linear" in quantization.why_not(nn.GRU(2, 2), WEIGHT_ONLY)
    with pytest.raises(ValueError, match="convolution"):
        quantization.quantize(mlp, STATIC, example_inputs=(torch.zeros(2, 4),))
    with pytest.raises(ValueError, match="unknown quantization"):
        quantization.why_not(mlp, "int4")


@pytest.mark.parametrize("method", [None, *METHODS])
def test_the_saved_program_runs_as_the_network_at_any_batch_size(cnn, tmp_path, method):
    model, validation, _ = cnn
    network = model if method is None else quantization.quantize(model, method, example_inputs=(validation[:4],))
    path = quantization.save_model(network, (validation[:1],), tmp_path / f"model.{method}")
    assert path == tmp_path / f"model.{method}.pt2"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left
    network.to(torch.device("cpu"))  # as evaluation does: saving left nothing that stops torchao's weights moving
    loaded = torch.export.load(path).module()
    for batch in (validation[:3], validation[:50]):
        with torch.no_grad():
            torch.testing.assert_close(loaded(batch), network(batch), rtol=1e-5, atol=1e-5)


@pytest.mark.filterwarnings("ignore:.*torch.jit.load.*:FutureWarning")
def test_an_int8_lstm_is_saved_as_torchscript(lstm, tmp_path):
    model, sequences, _ = lstm
    quantized = quantization.quantize(model, DYNAMIC, example_inputs=(sequences[:4],))
    path = quantization.save_model(quantized, (sequences[:4],), tmp_path / "model.pt2")
    assert path == tmp_path / "model.ts"
    loaded = torch.jit.load(path)
    for batch in (sequences[:1], sequences[:40]):
        with torch.no_grad():
            torch.testing.assert_close(loaded(batch), quantized(batch), rtol=0, atol=0)
    assert quantization.save_model(model, (sequences[:4],), tmp_path / "float").suffix == ".pt2"  # float LSTM exports


@pytest.mark.heavy
def test_compiled_static_int8_computes_as_the_eager_one(cnn):
    model, validation, training = cnn
    quantized = quantization.quantize(model, STATIC, example_inputs=(validation[:4],), calibration=[(training,)])
    with torch.no_grad():
        torch.testing.assert_close(
            quantization.compiled(quantized)(validation), quantized(validation), rtol=0, atol=0.05
        )

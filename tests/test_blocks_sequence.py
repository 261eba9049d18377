"""Sequence blocks beyond the oracle: refusals stricter than torch, the messages and fixes a user sees, the code
they get, and the counts shown on the node."""

from __future__ import annotations

import inspect

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from netbuilder.blocks import catalogue
from netbuilder.blocks.errors import InsertBefore, SetOwnParam, ShapeError
from netbuilder.blocks.spec import ForwardContext, RuleContext
from netbuilder.blocks.tensor_type import LONG, TensorType, batched
from netbuilder.codegen.render import constructor, forward_lines

RECURRENT = ("RNN", "LSTM", "GRU")
ATTENTION = (("MultiheadAttention", "embed_dim", "num_heads"), ("TransformerEncoderLayer", "d_model", "nhead"))


def run_rule(block: str, x: TensorType, **params) -> tuple[dict, dict[str, TensorType], list[ShapeError]]:
    spec = catalogue.get(block)
    p = {**spec.defaults(), **params}
    p = {name: spec.param(name).validate(value) for name, value in p.items()}
    ctx = RuleContext(block, p, {"x": x})
    outputs = spec.rule(ctx)
    return ctx.p, outputs, ctx.warnings


def refusal(block: str, x: TensorType, **params) -> ShapeError:
    with pytest.raises(ShapeError) as caught:
        run_rule(block, x, **params)
    return caught.value


def code(block: str, x: TensorType, **params) -> tuple[str, list[str]]:
    spec = catalogue.get(block)
    p, _, _ = run_rule(block, x, **params)
    ctx = ForwardContext(p, f"self.{spec.default_label()}", {"x": "x"}, "x", {"x": x})
    return constructor(spec, p), forward_lines(spec, ctx)


def build(block: str, x: TensorType, **params) -> tuple[nn.Module, dict, TensorType, int]:
    """The module as generated code builds it, our resolved params, our output type and our MACs."""
    spec = catalogue.get(block)
    p, outputs, _ = run_rule(block, x, **params)
    module = eval(constructor(spec, p), {"nn": nn, "torch": torch})
    return module, p, outputs["y"], spec.count_macs(p, {"x": x}, outputs)


def run_generated(block: str, module: nn.Module, p: dict, x: TensorType, value: torch.Tensor) -> torch.Tensor:
    spec = catalogue.get(block)
    namespace = {"torch": torch, "block": module, "inp": value}
    exec("\n".join(forward_lines(spec, ForwardContext(p, "block", {"x": "inp"}, "out", {"x": x}))), namespace)
    return namespace["out"]


# ---------------------------------------------------------------------------------------------- Embedding


def test_embedding_adds_a_vector_dimension_to_any_index_shape():
    assert run_rule("Embedding", batched(12, dtype=LONG), embedding_dim=8)[1]["y"] == batched(12, 8)
    assert run_rule("Embedding", batched(dtype=LONG), embedding_dim=8)[1]["y"] == batched(8)
    assert run_rule("Embedding", batched(2, 3, dtype=LONG), embedding_dim=5)[1]["y"] == batched(2, 3, 5)


def test_embedding_refuses_float_values_and_says_it_needs_token_indices():
    err = refusal("Embedding", batched(12))
    assert err.message.startswith("Embedding needs token indices (int64) but receives floating-point values (N, 12)")
    assert err.port == "x"
    with pytest.raises(RuntimeError):  # torch refuses too, with a message about scalar types
        nn.Embedding(10, 4)(torch.randn(3, 12))


def test_embedding_padding_row_must_be_in_the_table():
    err = refusal("Embedding", batched(6, dtype=LONG), num_embeddings=10, padding_idx=10)
    assert err.message == ("Embedding padding_idx 10 must be a row of the table: from -10 to 9 with num_embeddings 10")
    assert err.param == "padding_idx" and err.hint == SetOwnParam("padding_idx", None)
    run_rule("Embedding", batched(6, dtype=LONG), num_embeddings=10, padding_idx=-10)


def test_embedding_smaller_than_a_known_vocabulary_suggests_the_size():
    tokens = TensorType(("N", 6), LONG, classes=50)
    err = refusal("Embedding", tokens, num_embeddings=40)
    assert err.message == "Embedding has 40 rows (num_embeddings) but receives indices up to 49"
    assert err.hint == SetOwnParam("num_embeddings", 50)
    run_rule("Embedding", tokens, num_embeddings=50)


def test_embedding_code_and_counts():
    x = batched(7, dtype=LONG)
    assert code("Embedding", x, num_embeddings=100, embedding_dim=16) == (
        "nn.Embedding(100, 16)",
        ["x = self.embed(x)"],
    )
    assert code("Embedding", x, num_embeddings=100, embedding_dim=16, padding_idx=0)[0] == (
        "nn.Embedding(100, 16, padding_idx=0)"
    )
    spec = catalogue.get("Embedding")
    p, outputs, _ = run_rule("Embedding", x, num_embeddings=100, embedding_dim=16)
    assert spec.count_params(p, {"x": x}, outputs) == 1600
    assert spec.count_macs(p, {"x": x}, outputs) == 0


# ------------------------------------------------------------------------------------- RNN, LSTM and GRU


def apply_reshape(hint: InsertBefore, x: TensorType) -> TensorType:
    """The type a suggested Reshape produces, by the Reshape block's own rule."""
    assert hint.block == "Reshape"
    return run_rule("Reshape", x, **hint.params)[1]["y"]


@pytest.mark.parametrize("block", RECURRENT)
def test_recurrent_refuses_one_vector_per_sample_which_torch_would_read_as_a_sequence(block):
    err = refusal(block, batched(32))
    assert err.message == (
        f"{block} expects (N, sequence length, features) but receives (N, 32), one vector per sample (torch would "
        "read the batch as one sequence): insert a Reshape to (N, 32, 1) to read its values one per step, "
        "or use Linear"
    )
    assert apply_reshape(err.hint, batched(32)) == batched(32, 1)
    run_rule(block, batched(32, 1))
    # torch accepts it: the 3 samples of the batch become the 3 steps of one unbatched sequence
    out = getattr(nn, block)(32, 7, batch_first=True)(torch.randn(3, 32))[0]
    assert out.shape == (3, 7)


@pytest.mark.parametrize("block", [*RECURRENT, "MultiheadAttention", "TransformerEncoderLayer"])
def test_images_become_sequences_of_rows(block):
    image = batched(1, 28, 28)
    err = refusal(block, image)
    assert err.message.endswith("but receives (N, 1, 28, 28): insert a Reshape to (N, 28, 28)")
    assert apply_reshape(err.hint, image) == batched(28, 28)
    run_rule(block, batched(28, 28))


@pytest.mark.parametrize("block", RECURRENT)
def test_recurrent_on_token_indices_suggests_an_embedding(block):
    err = refusal(block, batched(10, 1, dtype=LONG))
    assert err.message.startswith(f"{block} needs floating-point values but receives integer indices (N, 10, 1)")
    assert err.hint == InsertBefore("x", "Embedding")


def test_recurrent_pinned_input_size_names_both_sizes_and_offers_auto():
    err = refusal("LSTM", batched(5, 8), input_size=6)
    assert err.message == "LSTM has input_size pinned to 6 but the input (N, 5, 8) has 8 features per step"
    assert err.hint == SetOwnParam("input_size", None)


@pytest.mark.parametrize("block", RECURRENT)
def test_recurrent_dropout_on_a_single_layer_is_a_warning_as_in_torch(block):
    _, _, warnings = run_rule(block, batched(5, 8), dropout=0.3)
    assert len(warnings) == 1
    assert "does nothing" in warnings[0].message and warnings[0].hint == SetOwnParam("dropout", 0.0)
    assert run_rule(block, batched(5, 8), dropout=0.3, num_layers=2)[2] == []


@pytest.mark.parametrize(
    ("output", "bidirectional", "shape"),
    [("sequence", False, (5, 16)), ("sequence", True, (5, 32)), ("last", False, (16,)), ("last", True, (32,))],
)
def test_recurrent_output_shapes(output, bidirectional, shape):
    p, outputs, _ = run_rule(
        "GRU", batched(5, 8), hidden_size=16, output=output, bidirectional=bidirectional, num_layers=2
    )
    assert outputs["y"] == batched(*shape)
    assert p["input_size"] == 8


def test_recurrent_code_omits_defaults_and_the_output_choice():
    x = batched(5, 8)
    assert code("LSTM", x, hidden_size=16, output="sequence") == (
        "nn.LSTM(8, 16, batch_first=True)",
        ["x, _ = self.lstm(x)"],
    )
    assert code("LSTM", x, hidden_size=16, output="last") == (
        "nn.LSTM(8, 16, batch_first=True)",
        ["_, (x, _) = self.lstm(x)", "x = x[-1]"],
    )
    assert code("GRU", x, hidden_size=16, num_layers=2, dropout=0.2, bidirectional=True)[1] == [
        "_, x = self.gru(x)",
        "x = torch.cat([x[-2], x[-1]], dim=1)",
    ]
    assert code("RNN", x, hidden_size=16, nonlinearity="relu", bias=False)[0] == (
        "nn.RNN(8, 16, nonlinearity='relu', bias=False, batch_first=True)"
    )


@pytest.mark.parametrize("block", RECURRENT)
def test_last_bidirectional_is_both_final_states_not_the_last_step(block):
    x = batched(6, 4)
    module, p, _, _ = build(block, x, hidden_size=5, num_layers=2, bidirectional=True, output="last")
    value = torch.randn(3, 6, 4)
    last = run_generated(block, module, p, x, value)
    sequence = module(value)[0]
    assert last.shape == (3, 10)
    assert torch.allclose(last[:, :5], sequence[:, -1, :5])  # forward direction: after the last step
    assert torch.allclose(last[:, 5:], sequence[:, 0, 5:])  # backward direction: after reading back to step 0
    assert not torch.allclose(last, sequence[:, -1])


@pytest.mark.parametrize("block", RECURRENT)
def test_recurrent_defaults_are_torchs(block):
    """Codegen leaves out parameters at our default, so each default must be what torch does anyway."""
    module, _, _, _ = build(block, batched(5, 8), hidden_size=16)
    assert (module.num_layers, module.bias, module.dropout, module.bidirectional) == (1, True, 0.0, False)
    if block == "RNN":
        assert module.nonlinearity == "tanh"


@pytest.mark.parametrize(("block", "gates"), [("RNN", 1), ("GRU", 3), ("LSTM", 4)])
def test_recurrent_macs(block, gates):
    x = batched(5, 8)
    _, _, _, macs = build(block, x, hidden_size=16, num_layers=2, bidirectional=True)
    per_step = gates * 16 * (8 + 16) + gates * 16 * (32 + 16)
    assert macs == 2 * per_step * 5


@pytest.mark.parametrize("block", ["RNN", "GRU"])
def test_recurrent_macs_match_torchs_flop_counter(block):
    """FlopCounterMode counts RNN and GRU on the CPU exactly; it counts nothing for LSTM's fused kernel."""
    x = batched(5, 8)
    module, _, _, macs = build(block, x, hidden_size=6, num_layers=3, bidirectional=True)
    with FlopCounterMode(display=False) as counter:
        module(torch.randn(1, 5, 8))
    assert counter.get_total_flops() == 2 * macs


# ------------------------------------------------------------------------ MultiheadAttention, encoder layer


@pytest.mark.parametrize(("block", "size", "heads"), ATTENTION)
def test_attention_refuses_one_vector_per_sample(block, size, heads):
    err = refusal(block, batched(32))
    assert err.message.startswith(f"{block} expects (N, sequence length, embedding) but receives (N, 32)")
    assert "Embedding" in err.message and err.hint is None
    assert refusal(block, batched()).message == f"{block} expects (N, sequence length, embedding) but receives (N,)"


@pytest.mark.parametrize(("block", "size", "heads"), ATTENTION)
def test_heads_must_divide_the_embedding_and_the_fix_is_the_nearest_count_that_does(block, size, heads):
    err = refusal(block, batched(7, 10), **{heads: 4})
    assert err.message == (f"{block} splits {size} 10 into {heads} 4 equal heads, but 10 is not divisible by 4")
    assert err.param == heads and err.hint == SetOwnParam(heads, 2)


@pytest.mark.parametrize(("block", "size", "heads"), ATTENTION)
def test_attention_keeps_the_shape_and_infers_the_embedding(block, size, heads):
    p, outputs, _ = run_rule(block, batched(7, 12))
    assert outputs["y"] == batched(7, 12)
    assert p[size] == 12


def test_attention_code():
    x = batched(7, 32)
    assert code("MultiheadAttention", x) == (
        "nn.MultiheadAttention(32, 4, batch_first=True)",
        ["x, _ = self.attn(x, x, x, need_weights=False)"],
    )
    assert code("TransformerEncoderLayer", x, activation="gelu", norm_first=True) == (
        "nn.TransformerEncoderLayer(32, 4, dim_feedforward=256, activation='gelu', norm_first=True, batch_first=True)",
        ["x = self.encoder(x)"],
    )


@pytest.mark.parametrize("cls", [nn.Embedding, nn.MultiheadAttention, nn.TransformerEncoderLayer])
def test_attention_and_embedding_defaults_are_torchs(cls):
    """Every default we leave out of the code is torch's, except dim_feedforward, which is always written."""
    block = {nn.Embedding: "Embedding"}.get(cls, cls.__name__)
    spec = catalogue.get(block)
    signature = inspect.signature(cls.__init__).parameters
    for param in spec.params:
        if param.name in (*spec.module.positional, *spec.module.always, *spec.module.omit):
            continue  # written always, or never passed to the constructor (an init: init_weights)
        if param.name == "activation":
            assert param.default == "relu" and signature["activation"].default is torch.nn.functional.relu
            continue
        assert signature[param.name].default == param.default, param.name


@pytest.mark.parametrize("bias", [True, False])
def test_encoder_layer_counts(bias):
    x = batched(6, 16)
    module, p, y, macs = build("TransformerEncoderLayer", x, nhead=2, dim_feedforward=24, bias=bias)
    spec = catalogue.get("TransformerEncoderLayer")
    assert spec.count_params(p, {"x": x}, {"y": y}) == sum(t.numel() for t in module.parameters())
    assert macs == 4 * 6 * 16 * 16 + 2 * 6 * 6 * 16 + 2 * 6 * 16 * 24
    with FlopCounterMode(display=False) as counter:  # dropout > 0 while training: the counted math path
        module(torch.randn(1, 6, 16))
    assert counter.get_total_flops() == 2 * macs


def test_multihead_attention_macs_match_the_flop_counter_on_the_math_path():
    x = batched(5, 8)
    module, _, _, macs = build("MultiheadAttention", x, num_heads=2, dropout=0.1)
    with FlopCounterMode(display=False) as counter:
        module(*(torch.randn(1, 5, 8),) * 3, need_weights=False)
    assert counter.get_total_flops() == 2 * macs

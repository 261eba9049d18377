"""Sequence blocks: the Embedding lookup table and the recurrent layers RNN, LSTM and GRU.

Inputs are always batched with the batch first: recurrent layers take (N, sequence length, features) and run
with batch_first=True. A 2-D input (N, features) is refused although torch accepts it: torch would read it as
one unbatched sequence whose steps are the samples of the batch, mixing samples silently.

MACs count the matrix products of every gate, time step, layer and direction. torch's FlopCounterMode counts
RNN and GRU exactly on the CPU (they run as one addmm per step and gate group) but counts 0 for LSTM, whose
CPU kernel (mkldnn_rnn_layer) and cuDNN kernel have no formula in the counter.
"""

from __future__ import annotations

import math

from netbuilder.blocks.errors import InsertBefore, SetOwnParam, ShapeError
from netbuilder.blocks.shared_params import INIT_PARAMS, bias, inferred_size, probability, size, weight_init
from netbuilder.blocks.spec import BlockSpec, ForwardContext, ModuleCode, ParamSpec, RuleContext
from netbuilder.blocks.tensor_type import FLOAT, LONG, TensorType

# ---------------------------------------------------------------------------------------------- Embedding


def _embedding_rule(ctx: RuleContext) -> dict[str, TensorType]:
    x = ctx.inputs["x"]
    rows = ctx.p["num_embeddings"]
    if x.dtype != LONG:
        raise ctx.fail(
            f"Embedding needs token indices (int64) but receives floating-point values {x}: feed it token ids "
            "(an int64 Input), or use Linear to map real-valued features",
            port="x",
        )
    padding = ctx.p["padding_idx"]
    if padding is not None and not -rows <= padding < rows:
        raise ctx.fail(
            f"Embedding padding_idx {padding} must be a row of the table: from {-rows} to {rows - 1} with "
            f"num_embeddings {rows}",
            param="padding_idx",
            hint=SetOwnParam("padding_idx", None),
        )
    if x.classes is not None and x.classes > rows:
        raise ctx.fail(
            f"Embedding has {rows} rows (num_embeddings) but receives indices up to {x.classes - 1}",
            port="x",
            param="num_embeddings",
            hint=SetOwnParam("num_embeddings", x.classes),
        )
    return {"y": TensorType((*x.shape, ctx.p["embedding_dim"]), FLOAT)}


EMBEDDING = BlockSpec(
    type="Embedding",
    category="Recurrent",
    doc="Lookup table: turns each integer token index into a learned vector of embedding_dim values.\n"
    "The first layer for text and other token sequences: (N, L) indices become (N, L, embedding_dim).",
    params=(
        size("num_embeddings", 1000, "Number of rows: the vocabulary size (indices run from 0 to this minus 1)."),
        size("embedding_dim", 64, "Length of each learned vector."),
        ParamSpec(
            "padding_idx",
            "int",
            None,
            "Index of the padding token, whose vector stays zero and is never trained.",
            min=-1_000_000,
            max=999_999,
            optional=True,
            none_label="none",
        ),
        *weight_init(biases=False),
    ),
    rule=_embedding_rule,
    count_params=lambda p, i, o: p["num_embeddings"] * p["embedding_dim"],
    module=ModuleCode("nn.Embedding", positional=("num_embeddings", "embedding_dim"), omit=INIT_PARAMS),
    size_param="embedding_dim",
    label_prefix="embed",
)

# ------------------------------------------------------------------------------------- RNN, LSTM and GRU

_GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}
_SEQUENCE = "(N, sequence length, features)"


def _directions(p) -> int:
    return 2 if p["bidirectional"] else 1


def wrong_rank(ctx: RuleContext, x: TensorType, layout: str) -> ShapeError:
    """Any rank but 3: for (N, a, b, ..., features), suggest a Reshape that keeps the features per step."""
    if x.rank < 4:
        return ctx.fail(f"{ctx.block} expects {layout} but receives {x}", port="x")
    steps = math.prod(x.features[:-1])
    return ctx.fail(
        f"{ctx.block} expects {layout} but receives {x}: insert a Reshape to (N, {steps}, {x.shape[-1]})",
        port="x",
        hint=InsertBefore("x", "Reshape", {"shape": (-1, x.shape[-1])}),
    )


def require_floats(ctx: RuleContext) -> None:
    """Sequence layers read vectors: integer token indices need an Embedding first (torch raises too)."""
    x = ctx.inputs["x"]
    if x.dtype != FLOAT:
        raise ctx.fail(
            f"{ctx.block} needs floating-point values but receives integer indices {x}: put an Embedding before "
            "it to turn tokens into vectors",
            port="x",
            hint=InsertBefore("x", "Embedding"),
        )


def _recurrent_rule(ctx: RuleContext) -> dict[str, TensorType]:
    x = ctx.inputs["x"]
    name = ctx.block
    require_floats(ctx)
    if x.rank == 2:
        raise ctx.fail(
            f"{name} expects {_SEQUENCE} but receives {x}, one vector per sample (torch would read the batch as "
            f"one sequence): insert a Reshape to (N, {x.shape[1]}, 1) to read its values one per step, "
            "or use Linear",
            port="x",
            hint=InsertBefore("x", "Reshape", {"shape": (-1, 1)}),
        )
    if x.rank != 3:
        raise wrong_rank(ctx, x, _SEQUENCE)
    ctx.resolve("input_size", x.shape[-1], "features per step")
    if ctx.p["dropout"] > 0 and ctx.p["num_layers"] == 1:
        ctx.warn(
            f"{name} dropout only acts between stacked layers, so with num_layers 1 it does nothing: "
            "raise num_layers, or put a Dropout block after it",
            param="dropout",
            hint=SetOwnParam("dropout", 0.0),
        )
    features = _directions(ctx.p) * ctx.p["hidden_size"]
    if ctx.p["output"] == "last":
        return {"y": x.with_shape(features)}
    return {"y": x.with_shape(x.shape[1], features)}


def _layer_inputs(p) -> list[int]:
    """The input width of each stacked layer: the features, then both directions of the layer below."""
    return [p["input_size"]] + [_directions(p) * p["hidden_size"]] * (p["num_layers"] - 1)


def _recurrent_counter(gates: int):
    def count_params(p, inputs, outputs) -> int:
        hidden = p["hidden_size"]
        per_direction = sum(gates * hidden * (width + hidden) for width in _layer_inputs(p))
        if p["bias"]:
            per_direction += p["num_layers"] * 2 * gates * hidden
        return _directions(p) * per_direction

    def count_macs(p, inputs, outputs) -> int:
        hidden = p["hidden_size"]
        steps = int(inputs["x"].shape[1])
        per_step = sum(gates * hidden * (width + hidden) for width in _layer_inputs(p))
        return _directions(p) * per_step * steps

    return count_params, count_macs


def _recurrent_forward(state: str):
    """`state` unpacks the (output, final state) pair so that ctx.out holds h_n: "(out, _)" for LSTM's (h, c)."""

    def forward(ctx: ForwardContext) -> list[str]:
        out, call = ctx.out, f"{ctx.attr}({ctx.args['x']})"
        if ctx.p["output"] == "sequence":
            return [f"{out}, _ = {call}"]
        lines = [f"_, {state.format(out=out)} = {call}"]
        if ctx.p["bidirectional"]:
            return [*lines, f"{out} = torch.cat([{out}[-2], {out}[-1]], dim=1)"]
        return [*lines, f"{out} = {out}[-1]"]

    return forward


_LAST_DOC = (
    "output 'last' gives the top layer's final hidden state, one vector per sample; with bidirectional it joins "
    "the forward direction's state after the last step to the backward direction's state after the first step "
    "(that direction reads the sequence in reverse), which is not the output at the last step."
)


def _recurrent(type_: str, doc: str, *extra: ParamSpec) -> BlockSpec:
    gates = _GATES[type_]
    count_params, count_macs = _recurrent_counter(gates)
    state = "({out}, _)" if type_ == "LSTM" else "{out}"
    return BlockSpec(
        type=type_,
        category="Recurrent",
        doc=f"{doc}\nInput (N, sequence length, features); {_LAST_DOC}",
        params=(
            inferred_size("input_size", "features per step"),
            size("hidden_size", 64, "Size of the hidden state (features per step in the output)."),
            ParamSpec(
                "output",
                "choice",
                "last",
                "'last': the final hidden state, one vector per sample (for classifying a sequence); "
                "'sequence': the output at every step (to stack another layer on top).",
                choices=("last", "sequence"),
            ),
            ParamSpec("num_layers", "int", 1, "Number of recurrent layers stacked on each other.", min=1, max=32),
            *extra,
            bias(),
            probability("dropout", 0.0, "Dropout between stacked layers (needs num_layers of 2 or more)."),
            ParamSpec("bidirectional", "bool", False, "Also read the sequence backwards; doubles the features."),
            *weight_init(),
        ),
        rule=_recurrent_rule,
        count_params=count_params,
        count_macs=count_macs,
        module=ModuleCode(
            f"nn.{type_}",
            positional=("input_size", "hidden_size"),
            fixed={"batch_first": True},
            omit=("output", *INIT_PARAMS),
        ),
        forward=_recurrent_forward(state),
        packed_weights=True,
        size_param="hidden_size",
        size_multiplier=lambda p: 2 if p["bidirectional"] else 1,
        label_prefix=type_.lower(),
    )


SPECS = (
    EMBEDDING,
    _recurrent(
        "RNN",
        "Elman recurrent layer: h_t = tanh(W x_t + U h_(t-1) + b), step by step along the sequence.\n"
        "The simplest recurrent layer, for short sequences; prefer LSTM or GRU for long ones.",
        ParamSpec(
            "nonlinearity",
            "choice",
            "tanh",
            "Activation of the hidden state.",
            choices=("tanh", "relu"),
        ),
    ),
    _recurrent(
        "LSTM",
        "Long short-term memory layer: gated memory cells that keep information over long sequences.\n"
        "The classic choice for text, time series and other sequences.",
    ),
    _recurrent(
        "GRU",
        "Gated recurrent unit: an LSTM-like layer with fewer gates and no separate cell state.\n"
        "Often as good as LSTM with a quarter fewer parameters.",
    ),
)

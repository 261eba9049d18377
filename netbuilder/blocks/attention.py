"""Attention blocks: multi-head self-attention and the transformer encoder layer, over (N, L, E) inputs.

Both run with batch_first=True and refuse a 2-D input (N, E), which torch would take as one unbatched sequence
whose positions are the samples of the batch: attention would then mix samples.

MACs per sample: the query, key, value and output projections (4 L E^2), the scores and the weighted sum
(2 L^2 E), and for the encoder layer its feed-forward network (2 L E F). torch's FlopCounterMode counts the
projections and the feed-forward always, but the attention itself only where scaled_dot_product_attention
runs its math path (dropout above 0 while training): the CPU flash kernel it uses otherwise has no formula.

Both take the token indices at an optional second input, `tokens`: the steps whose token is 0 (padding, as the
text dataset pads) are then left out as keys (`key_padding_mask=tokens == 0`), so no real token attends to the
padding. Where a sequence is padding only, torch's evaluation fast path gives NaN at its steps (training gives
zeros): TokenPool leaves those steps out, a plain Mean would not.
"""

from __future__ import annotations

from netbuilder.blocks.errors import SetOwnParam
from netbuilder.blocks.recurrent import require_floats, wrong_rank
from netbuilder.blocks.shared_params import INIT_PARAMS, bias, inferred_size, probability, size, weight_init
from netbuilder.blocks.spec import BlockSpec, ForwardContext, ModuleCode, ParamSpec, PortSpec, RuleContext
from netbuilder.blocks.tensor_type import LONG, TensorType

_SEQUENCE = "(N, sequence length, embedding)"
PADDING = 0
"""The token index of padding, which the text dataset pads with: the mask is `tokens == 0`."""

_INPUTS = (
    PortSpec("x", doc="The sequence (N, L, E)."),
    PortSpec(
        "tokens",
        optional=True,
        doc="Optional: the token indices (N, L) that fed the Embedding; steps whose token is 0 (padding) are not "
        "attended to.",
    ),
)


def _self_attention_rule(size_name: str, heads_name: str):
    """The checks torch makes (embedding size, heads dividing it), plus refusing unbatched 2-D inputs."""

    def rule(ctx: RuleContext) -> dict[str, TensorType]:
        x = ctx.inputs["x"]
        name = ctx.block
        require_floats(ctx)
        if x.rank == 2:
            raise ctx.fail(
                f"{name} expects {_SEQUENCE} but receives {x}, one vector per sample (torch would attend across "
                "the batch): give it several positions per sample, such as an Embedding's (N, L, E)",
                port="x",
            )
        if x.rank != 3:
            raise wrong_rank(ctx, x, _SEQUENCE)
        width = ctx.resolve(size_name, x.shape[-1], "features per position")
        heads = ctx.p[heads_name]
        if width % heads:
            fitting = max(h for h in range(1, heads + 1) if width % h == 0)
            raise ctx.fail(
                f"{name} splits {size_name} {width} into {heads_name} {heads} equal heads, but {width} is not "
                f"divisible by {heads}",
                param=heads_name,
                hint=SetOwnParam(heads_name, fitting),
            )
        tokens = ctx.inputs.get("tokens")
        if tokens is not None and (tokens.dtype != LONG or tokens.rank != 2 or tokens.shape[1] != x.shape[1]):
            raise ctx.fail(
                f"{name} masks padding by the token indices (int64) of each step of {x}, (N, {x.shape[1]}), but "
                f"receives {tokens} at 'tokens': connect the indices that fed the Embedding, or disconnect it",
                port="tokens",
            )
        return {"y": x}

    return rule


def _attention_params(width: int, use_bias: bool) -> int:
    """Packed query/key/value projection (3 E x E) and output projection (E x E), with their biases."""
    return 4 * width * width + (4 * width if use_bias else 0)


def _attention_macs(width: int, steps: int) -> int:
    return 4 * steps * width * width + 2 * steps * steps * width


def _padding_mask(ctx: ForwardContext, keyword: str) -> str:
    """The mask argument where the token indices are connected: True at the steps attention leaves out."""
    tokens = ctx.args.get("tokens")
    return f", {keyword}={tokens} == {PADDING}" if tokens is not None else ""


def _self_attention_forward(ctx: ForwardContext) -> list[str]:
    x = ctx.args["x"]
    mask = _padding_mask(ctx, "key_padding_mask")
    return [f"{ctx.out}, _ = {ctx.attr}({x}, {x}, {x}{mask}, need_weights=False)"]


def _encoder_forward(ctx: ForwardContext) -> list[str]:
    return [f"{ctx.out} = {ctx.attr}({ctx.args['x']}{_padding_mask(ctx, 'src_key_padding_mask')})"]


MULTIHEAD_ATTENTION = BlockSpec(
    type="MultiheadAttention",
    category="Attention",
    doc="Multi-head self-attention: every position mixes in the others, weighted by learned similarity.\n"
    "The core of transformers; the output has the input's shape (N, L, E). Connect the token indices to its "
    "'tokens' input to keep the padding out.",
    params=(
        inferred_size("embed_dim", "features per position"),
        ParamSpec("num_heads", "int", 4, "Number of attention heads; must divide embed_dim.", min=1, max=1024),
        probability("dropout", 0.0, "Dropout on the attention weights while training."),
        bias(),
        *weight_init(),
    ),
    inputs=_INPUTS,
    rule=_self_attention_rule("embed_dim", "num_heads"),
    count_params=lambda p, i, o: _attention_params(p["embed_dim"], p["bias"]),
    count_macs=lambda p, i, o: _attention_macs(p["embed_dim"], int(i["x"].shape[1])),
    module=ModuleCode(
        "nn.MultiheadAttention",
        positional=("embed_dim", "num_heads"),
        fixed={"batch_first": True},
        omit=INIT_PARAMS,
    ),
    forward=_self_attention_forward,
    packed_weights=True,
    label_prefix="attn",
)


def _encoder_params(p, inputs, outputs) -> int:
    width, hidden, use_bias = p["d_model"], p["dim_feedforward"], p["bias"]
    feed_forward = 2 * width * hidden + ((hidden + width) if use_bias else 0)
    norms = 2 * (2 * width if use_bias else width)
    return _attention_params(width, use_bias) + feed_forward + norms


def _encoder_macs(p, inputs, outputs) -> int:
    steps = int(inputs["x"].shape[1])
    return _attention_macs(p["d_model"], steps) + 2 * steps * p["d_model"] * p["dim_feedforward"]


TRANSFORMER_ENCODER_LAYER = BlockSpec(
    type="TransformerEncoderLayer",
    category="Attention",
    doc="Transformer encoder layer: self-attention then a feed-forward network, each with a residual and "
    "layer norm.\nStack several to build a transformer encoder for sequences (N, L, d_model); connect the token "
    "indices to its 'tokens' input to keep the padding out.",
    params=(
        inferred_size("d_model", "features per position"),
        ParamSpec("nhead", "int", 4, "Number of attention heads; must divide d_model.", min=1, max=1024),
        size("dim_feedforward", 256, "Width of the hidden layer of the feed-forward network."),
        probability("dropout", 0.1, "Dropout on attention weights and inside and after the feed-forward network."),
        ParamSpec("activation", "choice", "relu", "Activation of the feed-forward network.", choices=("relu", "gelu")),
        ParamSpec(
            "layer_norm_eps",
            "float",
            1e-5,
            "Small number added inside layer norm to avoid dividing by zero.",
            min=1e-12,
            max=1.0,
        ),
        ParamSpec(
            "norm_first",
            "bool",
            False,
            "Layer norm before attention and feed-forward (pre-LN, trains more stably) instead of after.",
        ),
        ParamSpec("bias", "bool", True, "Learn additive biases in the linear layers and layer norms."),
        # the weight matrices only: its biases include its layer norms' offsets, which a constant would shift
        *weight_init(biases=False),
    ),
    inputs=_INPUTS,
    rule=_self_attention_rule("d_model", "nhead"),
    count_params=_encoder_params,
    count_macs=_encoder_macs,
    module=ModuleCode(
        "nn.TransformerEncoderLayer",
        positional=("d_model", "nhead"),
        always=("dim_feedforward",),
        fixed={"batch_first": True},
        omit=INIT_PARAMS,
    ),
    forward=_encoder_forward,
    packed_weights=True,
    label_prefix="encoder",
)

SPECS = (MULTIHEAD_ATTENTION, TRANSFORMER_ENCODER_LAYER)

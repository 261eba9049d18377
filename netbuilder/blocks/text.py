"""Blocks for sequences of tokens: where each step is (a learned position embedding) and which steps are real
(pooling that leaves the padding out).

A text dataset gives each sample as (L,) token indices, right-padded with the padding index (0) up to the longest
length. Attention has no idea of order, so a transformer adds a learned vector per position, as BERT and ViT do;
and a mean over all L steps would count the padding too, pulling a short text's vector toward the padding's.
torch has neither as a module, so model.py defines each once, written with torch alone.
"""

from __future__ import annotations

from netbuilder.blocks.errors import SetOwnParam
from netbuilder.blocks.recurrent import require_floats, wrong_rank
from netbuilder.blocks.shared_params import INIT_PARAMS, inferred_size, size, weight_init
from netbuilder.blocks.spec import BlockSpec, ForwardContext, ModuleCode, ParamSpec, PortSpec, RuleContext
from netbuilder.blocks.tensor_type import LONG, TensorType

_SEQUENCE = "(N, sequence length, features)"

# PositionalEmbedding ------------------------------------------------------------------------------------------

POSITIONAL_EMBEDDING_CLASS = '''class PositionalEmbedding(nn.Module):
    """Learned positions, as BERT and ViT learn them: adds row t of a (max_length, embedding_dim) table to step t
    of every sequence (N, L, embedding_dim), for any L up to max_length."""

    def __init__(self, max_length: int, embedding_dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(max_length, embedding_dim).normal_(std=0.02))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        steps = x.size(1)
        if steps > self.weight.size(0):
            raise ValueError(f"sequences of {steps} steps are longer than max_length {self.weight.size(0)}")
        return x + self.weight[:steps]
'''
"""A table rather than torch.nn.Embedding looked up with arange: the same `weight` in the state_dict, without
making an index tensor each step. It starts as BERT's and ViT's do (normal, std 0.02), small beside the token
vectors. The length check gives a one-line reason where slicing would broadcast a one-row table silently."""


def _positional_rule(ctx: RuleContext) -> dict[str, TensorType]:
    x = ctx.inputs["x"]
    require_floats(ctx)
    if x.rank != 3:
        raise wrong_rank(ctx, x, _SEQUENCE)
    ctx.resolve("embedding_dim", x.shape[-1], "features per step")
    steps, rows = int(x.shape[1]), ctx.p["max_length"]
    if steps > rows:
        raise ctx.fail(
            f"PositionalEmbedding has {rows} positions (max_length) but receives sequences of {steps} steps {x}: "
            f"set max_length to {steps}, the dataset's maximum length",
            port="x",
            param="max_length",
            hint=SetOwnParam("max_length", steps),
        )
    return {"y": x}


POSITIONAL_EMBEDDING = BlockSpec(
    type="PositionalEmbedding",
    category="Attention",
    doc="Adds a learned vector to each position of a sequence (N, L, E), so that attention knows the order of "
    "the tokens.\nBetween the Embedding and the first TransformerEncoderLayer, as BERT and ViT do; attention "
    "alone sees the tokens as a set.",
    params=(
        size(
            "max_length",
            512,
            "Positions in the table: the longest sequence it takes (the text dataset's maximum length).",
        ),
        inferred_size("embedding_dim", "features per step"),
        *weight_init(biases=False),
    ),
    rule=_positional_rule,
    count_params=lambda p, i, o: p["max_length"] * p["embedding_dim"],
    module=ModuleCode(
        "PositionalEmbedding",
        positional=("max_length", "embedding_dim"),
        omit=INIT_PARAMS,
        source=POSITIONAL_EMBEDDING_CLASS,
    ),
    label_prefix="pos_embedding",
)

# TokenPool ----------------------------------------------------------------------------------------------------

TOKEN_POOL_CLASS = '''class TokenPool(nn.Module):
    """One vector per sequence (N, L, D) -> (N, D) from the steps whose token is not padding: their mean ("mean"),
    their largest values ("max") or the last of them ("last"). Counting the padding would pull a short text's
    mean toward the padding's vectors; a sequence of padding only gives zeros."""

    def __init__(self, mode: str, padding_index: int = 0) -> None:
        super().__init__()
        self.mode = mode
        self.padding_index = padding_index

    def forward(self, x: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        real = tokens != self.padding_index
        any_real = real.any(dim=1, keepdim=True)
        if self.mode == "mean":
            total = x.masked_fill(~real.unsqueeze(-1), 0.0).sum(dim=1)
            return total / real.sum(dim=1, keepdim=True).clamp(min=1)
        if self.mode == "max":
            largest = x.masked_fill(~real.unsqueeze(-1), float("-inf")).amax(dim=1)
            return torch.where(any_real, largest, 0.0)
        steps = torch.arange(tokens.size(1), device=tokens.device)
        last = torch.where(real, steps, 0).amax(dim=1)
        return torch.where(any_real, x[torch.arange(x.size(0), device=x.device), last], 0.0)
'''
"""masked_fill rather than multiplying by the mask: a padded step that holds NaN or infinity (attention over a
sequence of padding only) must not reach the result. The last real step is found wherever the padding is, so
left-padded sequences pool as right-padded ones do."""


def _token_pool_rule(ctx: RuleContext) -> dict[str, TensorType]:
    x = ctx.inputs["x"]
    require_floats(ctx)
    if x.rank != 3:
        raise wrong_rank(ctx, x, _SEQUENCE)
    tokens = ctx.inputs["tokens"]
    if tokens.dtype != LONG:
        raise ctx.fail(
            f"TokenPool needs the token indices (int64) at 'tokens' but receives floating-point values {tokens}: "
            "connect the text dataset's output, the one that feeds the Embedding",
            port="tokens",
        )
    if tokens.rank != 2 or tokens.shape[1] != x.shape[1]:
        raise ctx.fail(
            f"TokenPool needs one token per step of {x}, (N, {x.shape[1]}), at 'tokens' but receives {tokens}: "
            "connect the token indices that the Embedding before it reads",
            port="tokens",
        )
    padding = ctx.p["padding_index"]
    if tokens.classes is not None and padding >= tokens.classes:
        ctx.warn(
            f"TokenPool padding_index {padding} is no token of {tokens}, whose indices run from 0 to "
            f"{tokens.classes - 1}: no step is left out; set it to the index the dataset pads with",
            param="padding_index",
            hint=SetOwnParam("padding_index", 0),
        )
    return {"y": x.with_shape(int(x.shape[2]))}


def _token_pool_forward(ctx: ForwardContext) -> list[str]:
    return [f"{ctx.out} = {ctx.attr}({ctx.args['x']}, {ctx.args['tokens']})"]


TOKEN_POOL = BlockSpec(
    type="TokenPool",
    category="Pooling",
    doc="Pools a sequence (N, L, D) into one vector per sample (N, D) over its real tokens only, leaving the "
    "padding out.\nAfter an LSTM or a transformer encoder to classify a text: a plain Mean would count the padding "
    "too and dilute short texts. Its 'tokens' input takes the token indices that fed the Embedding.",
    params=(
        ParamSpec(
            "mode",
            "choice",
            "mean",
            "mean: the average of the real steps; max: their largest value per feature; last: the last real step "
            "(after a one-direction LSTM or GRU with output 'sequence').",
            choices=("mean", "max", "last"),
        ),
        ParamSpec(
            "padding_index",
            "int",
            0,
            "The token index that marks padding (the text dataset pads with 0).",
            min=0,
            max=999_999,
        ),
    ),
    inputs=(
        PortSpec("x", doc="The sequence to pool, (N, L, D)."),
        PortSpec("tokens", doc="The token indices (N, L) of the same sequences, which say where the padding is."),
    ),
    rule=_token_pool_rule,
    module=ModuleCode("TokenPool", positional=("mode",), always=("padding_index",), source=TOKEN_POOL_CLASS),
    forward=_token_pool_forward,
    label_prefix="pool",
)

SPECS = (POSITIONAL_EMBEDDING, TOKEN_POOL)

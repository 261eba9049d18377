"""Attention's padding mask as a person writes it: `key_padding_mask=tokens == 0`.

The MultiheadAttention and TransformerEncoderLayer blocks take the token indices at their optional `tokens` input
and leave out the steps whose token is 0 (the generated code writes `tokens == 0`). An import reads the same
comparison back: its token indices feed that input, and the comparison needs no block of its own where attention
alone reads it. Any other mask (another padding index, a causal or additive mask) is named as a gap.
"""

from __future__ import annotations

import operator
from typing import Any

import torch
import torch.fx
from torch import nn

MASK_KEYWORDS: dict[type[nn.Module], str] = {
    nn.MultiheadAttention: "key_padding_mask",
    nn.TransformerEncoderLayer: "src_key_padding_mask",
}
"""The keyword each attention module the import maps with its mask takes it by. Not nn.TransformerEncoder: its
layers would read the tokens through the inlet of the composite block the stack becomes, which is then no
nn.Sequential, and its layers' weights would not keep torch's names (layers.0)."""

_EQUALS = (operator.eq, torch.eq, "eq")


def padding_tokens(mask: Any) -> torch.fx.Node | None:
    """The token indices `t` of a mask written `t == 0` (`t.eq(0)`, `torch.eq(t, 0)`), else None."""
    if not isinstance(mask, torch.fx.Node) or mask.op not in ("call_function", "call_method"):
        return None
    if mask.target not in _EQUALS or len(mask.args) != 2 or mask.kwargs:
        return None
    tokens, value = mask.args
    if not isinstance(tokens, torch.fx.Node) or type(value) is not int or value != 0:
        return None
    return tokens


def split_padding_mask(call: torch.fx.Node, keyword: str) -> tuple[torch.fx.Node | None, list[Any]]:
    """The token indices of the call's padding mask (its `keyword`) where it is written `tokens == 0`, and the
    other arguments after the input that are set (not None or False): masks or states no block takes."""
    tokens = padding_tokens(call.kwargs.get(keyword))
    others = [v for k, v in call.kwargs.items() if tokens is None or k != keyword]
    return tokens, [a for a in (*call.args[1:], *others) if a is not None and a is not False]


def read_as_padding_mask_only(root: nn.Module, node: torch.fx.Node) -> bool:
    """Whether `node` is such a mask and every call that reads it takes it as its padding mask, by keyword."""
    return padding_tokens(node) is not None and all(_takes_as_padding_mask(root, user, node) for user in node.users)


def _takes_as_padding_mask(root: nn.Module, call: torch.fx.Node, mask: torch.fx.Node) -> bool:
    if call.op != "call_module":
        return False
    keyword = MASK_KEYWORDS.get(type(root.get_submodule(str(call.target))))
    return keyword is not None and call.kwargs.get(keyword) is mask and mask not in call.args

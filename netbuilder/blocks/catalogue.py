"""The catalogue: every block type, by name and by category. Everything else looks blocks up here."""

from __future__ import annotations

from netbuilder.blocks import (
    activations,
    attention,
    conv,
    data,
    dropout,
    library_module,
    losses,
    merge,
    normalization,
    optimizers,
    parameter,
    pooling,
    recurrent,
    reduce,
    reshape,
    text,
)
from netbuilder.blocks import linear as linear_blocks
from netbuilder.blocks.spec import BlockSpec

CATEGORIES = (
    "Data",
    "Core",
    "Convolution",
    "Pooling",
    "Normalization",
    "Activation",
    "Regularization",
    "Reshape",
    "Recurrent",
    "Attention",
    "Merge",
    "Loss",
    "Optimizer",
)

_MODULES = (
    data,
    linear_blocks,
    conv,
    pooling,
    reduce,
    normalization,
    activations,
    dropout,
    reshape,
    parameter,
    recurrent,
    attention,
    text,
    merge,
    losses,
    optimizers,
    library_module,
)

BLOCKS: dict[str, BlockSpec] = {spec.type: spec for module in _MODULES for spec in module.SPECS}


class UnknownBlockError(KeyError):
    """A block type the catalogue does not have."""

    def __str__(self) -> str:
        # A file may name a block with megabytes of text: quote the start only (graph.limits.quoted's rule; the
        # catalogue sits below the graph package and cannot import it).
        shown = repr(str(self.args[0])[:61])
        return f"unknown block type {shown if len(shown) <= 60 else shown[:57] + '...'}"


def get(block_type: str) -> BlockSpec:
    """The spec of `block_type`, or UnknownBlockError."""
    try:
        return BLOCKS[block_type]
    except KeyError:
        raise UnknownBlockError(block_type) from None


def by_category() -> dict[str, list[BlockSpec]]:
    """Block specs grouped in palette order."""
    groups: dict[str, list[BlockSpec]] = {c: [] for c in CATEGORIES}
    for spec in BLOCKS.values():
        groups[spec.category].append(spec)
    return {c: specs for c, specs in groups.items() if specs}

"""netbuilder's own classes read back: model.py defines a class for each block torch lacks (PositionalEmbedding,
TokenPool, StochasticDepth), and an import of an exported model.py maps an instance of one to its block instead of
tracing into its forward(), whose steps no block is (and whose size check fx cannot trace)."""

from __future__ import annotations

import functools
import inspect

from torch import nn

from netbuilder.blocks import BLOCKS

_OWN = {spec.module.cls: spec for spec in BLOCKS.values() if spec.module is not None and spec.module.source}
"""The blocks whose class model.py defines, by that class's name."""


def own_block(module: nn.Module) -> str | None:
    """The block `module` is an instance of the class of, where that class's source is the very text model.py
    holds; None otherwise (a class of another origin that has the name is traced as any other)."""
    return _own_class_block(type(module))


@functools.cache
def _own_class_block(cls: type) -> str | None:
    spec = _OWN.get(cls.__name__)
    if spec is None:
        return None
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):  # defined where its source cannot be read back (exec'd text): traced as any other
        return None
    return spec.type if source.rstrip() == spec.module.source.rstrip() else None

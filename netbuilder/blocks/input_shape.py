"""An example input's shape as a person types it ("1,3,32,32", batch first), for importing a model: read with
bounds no real input reaches, so that a mistyped size is refused with a reason before torch builds anything.

The window's import dialog and `netbuilder import --input-shape` both read it here.
"""

from __future__ import annotations

import re

from netbuilder.quoting import quoted

MAX_DIMS = 8
MAX_ELEMENTS = 2**28
"""An import traces the model on one example of this shape (a batch of 1 is enough): 268 million values, a
gigabyte of float32, is more than any image, sequence or table a layer takes, while a typo's extra zeros
(1000000000,3,100000,100000) stop here instead of in the allocator."""

_SIZE = re.compile(r"[0-9]{1,12}")  # ASCII digits only: "１" or "²" pass str.isdigit but are no size


def parse_input_shape(text: str) -> tuple[int, ...]:
    """'1, 3, 32, 32' -> (1, 3, 32, 32); ValueError with a reason a person can act on otherwise."""
    if not text.strip():
        raise ValueError("give the input's sizes, batch first, e.g. 1,3,32,32")
    parts = [part.strip() for part in text.split(",", MAX_DIMS)]
    if len(parts) > MAX_DIMS:
        raise ValueError(f"{quoted(text)} has more than {MAX_DIMS} sizes: give at most {MAX_DIMS}, batch first")
    if any(not part for part in parts):
        raise ValueError("a size is missing between two commas")
    for part in parts:
        if not _SIZE.fullmatch(part) or int(part) < 1:
            raise ValueError(f"{quoted(part)} is not a positive whole number (digits 0-9)")
    if len(parts) < 2:
        raise ValueError("give the batch size first, then at least one size per sample, e.g. 1,20")
    shape = tuple(int(part) for part in parts)
    elements = 1
    for size in shape:
        elements *= size
    if elements > MAX_ELEMENTS:
        raise ValueError(
            f"{quoted(text)} is {elements:.3g} values, more than the {MAX_ELEMENTS:,} an example input may "
            "hold: the import traces one example, so a batch of 1 and the sizes of one sample are enough"
        )
    return shape

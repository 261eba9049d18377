"""The block catalogue: one BlockSpec per block type, the single source of truth. Pure Python."""

from netbuilder.blocks.catalogue import BLOCKS, CATEGORIES, UnknownBlockError, by_category, get
from netbuilder.blocks.errors import ParamError, ShapeError
from netbuilder.blocks.spec import BlockSpec, ParamSpec, PortSpec
from netbuilder.blocks.tensor_type import BATCH, TensorType

__all__ = [
    "BATCH",
    "BLOCKS",
    "CATEGORIES",
    "BlockSpec",
    "ParamError",
    "ParamSpec",
    "PortSpec",
    "ShapeError",
    "TensorType",
    "UnknownBlockError",
    "by_category",
    "get",
]

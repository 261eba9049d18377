"""The generated `init_weights` method: a layer's chosen starting values written as torch.nn.init calls.

A class calls it at the end of its __init__, so a seeded construction gives the same weights as building the
layers and applying torch.nn.init to them by hand. It is written only where some layer asks for more than
torch's default (the `init` and `bias_init` parameters of blocks.shared_params.weight_init), so every other
network's code stays as it was. Starting weights (an imported model's) still win: they are loaded after the
network is built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from netbuilder.blocks.shared_params import INIT_PARAMS, KAIMING, takes_weight_init
from netbuilder.blocks.spec import BlockSpec
from netbuilder.codegen.line_wrap import wrapped
from netbuilder.codegen.render import literal

_WEIGHT_FUNCTIONS = {
    "kaiming_normal": "nn.init.kaiming_normal_",
    "kaiming_uniform": "nn.init.kaiming_uniform_",
    "xavier_normal": "nn.init.xavier_normal_",
    "xavier_uniform": "nn.init.xavier_uniform_",
    "orthogonal": "nn.init.orthogonal_",
}


def init_choice(spec: BlockSpec, values: Mapping[str, Any]) -> tuple[Any, ...]:
    """What decides a layer's init_weights lines, for comparing a composite's uses: the values of the init
    parameters that matter (an unused nonlinearity or bias constant does not)."""
    if not takes_weight_init(spec):
        return ()
    return tuple(values.get(p.name) if p.relevant(values) else None for p in spec.params if p.name in INIT_PARAMS)


def init_statements(spec: BlockSpec, values: Mapping[str, Any], target: str) -> list[str]:
    """The lines that initialise the layer `target` (`self.fc1`) as `values` ask; none for torch's default."""
    if not takes_weight_init(spec):
        return []
    with_bias = "bias_init" in values and values.get("bias") is True
    if not spec.packed_weights:
        weight = _weight_call(values, f"{target}.weight")
        bias = _bias_call(values, f"{target}.bias") if with_bias else None
        # an Embedding's padding row starts at zero (torch zeroes it after its own init): the new init must too
        padding = values.get("padding_idx")
        keep = f"nn.init.zeros_({target}.weight[{literal(padding)}])" if weight and padding is not None else None
        return [call for call in (weight, keep, bias) if call]
    weight = _weight_call(values, "tensor")
    bias = _bias_call(values, "tensor") if with_bias else None
    if weight and bias:
        return [
            f"for name, tensor in {target}.named_parameters():",
            "    if tensor.dim() > 1:",
            f"        {weight}",
            '    elif "bias" in name:',
            f"        {bias}",
        ]
    if weight:
        return [f"for tensor in {target}.parameters():", "    if tensor.dim() > 1:", f"        {weight}"]
    if bias:
        return [f"for name, tensor in {target}.named_parameters():", '    if "bias" in name:', f"        {bias}"]
    return []


def init_method(statements: Sequence[str]) -> list[str]:
    """The method's source lines (indented for a class body), or none where no layer asks for an init."""
    if not statements:
        return []
    return [
        "",
        "    def init_weights(self) -> None:",
        '        """Starting weights chosen in netbuilder; the layers not named here keep torch\'s defaults."""',
        *(part for line in statements for part in wrapped(f"        {line}")),
    ]


def init_call(statements: Sequence[str]) -> list[str]:
    """The line that ends __init__ where the class has an init_weights method."""
    return ["self.init_weights()"] if statements else []


def _weight_call(values: Mapping[str, Any], tensor: str) -> str | None:
    """The call for the weights: the choice names a torch.nn.init function through the table, never by its
    text (a file's value reaches code only as something the table holds)."""
    init = values.get("init", "default")
    if init == "default":
        return None
    function = _WEIGHT_FUNCTIONS[init]
    if init in KAIMING:
        return f"{function}({tensor}, nonlinearity={literal(values['init_nonlinearity'])})"
    return f"{function}({tensor})"


def _bias_call(values: Mapping[str, Any], tensor: str) -> str | None:
    choice = values["bias_init"]
    if choice == "zeros":
        return f"nn.init.zeros_({tensor})"
    if choice == "constant":
        return f"nn.init.constant_({tensor}, {literal(values['bias_value'])})"
    return None

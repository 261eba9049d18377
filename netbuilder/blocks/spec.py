"""The shape of a block type: its parameters, ports, shape rule, counts and code template.

A BlockSpec is the single source of truth about a block type: the palette shows `doc` and `category`, the
inspector builds fields from `params`, analysis runs `rule`, `count_params` and `count_macs`, codegen renders
`code`, and the importer maps torch calls back through `code.cls`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from netbuilder.blocks.errors import Hint, ParamError, SetOwnParam, ShapeError
from netbuilder.blocks.tensor_type import TensorType, format_shape

# Port kinds: what may flow along an edge. A model tensor, a training target, or a loss value.
TENSOR = "tensor"
TARGET = "target"
LOSS = "loss"

# Block roles: how the training script and the model generator treat a node.
MODEL = "model"
DATA = "data"
LOSS_ROLE = "loss"
OPTIMIZER = "optimizer"

PARAM_KINDS = ("int", "float", "bool", "choice", "ints", "int_per_dim", "text")
MAX_TEXT = 4096


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a block: type, default, allowed values and a one-line help text.

    `optional` admits None, which means "auto" for an `inferred` size (it follows the incoming tensor) and
    otherwise what `none_label` says ("same as kernel_size"). `when` names another parameter and the values
    for which this one matters (the inspector greys it out otherwise; codegen omits it). `lengths` is how
    many integers an `ints` value may hold; an `int_per_dim` value (a convolution's kernel_size) is one
    integer for every spatial dimension or one per dimension, `lengths[0]` of them, as torch takes both, or
    one of its `choices` (a convolution's padding 'same').
    """

    name: str
    kind: str
    default: Any
    help: str
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    optional: bool = False
    inferred: bool = False
    none_label: str = "auto"
    lengths: tuple[int, ...] = ()
    when: tuple[str, tuple[Any, ...]] | None = None
    check: Callable[[Any], str | None] | None = None

    def __post_init__(self) -> None:
        if self.kind not in PARAM_KINDS:
            raise ValueError(f"{self.name}: unknown parameter kind {self.kind!r}")
        if self.inferred and not self.optional:
            raise ValueError(f"{self.name}: an inferred parameter must be optional (None = auto)")
        if self.kind == "int_per_dim" and len(self.lengths) != 1:
            raise ValueError(f"{self.name}: a value per dimension needs lengths=(dimensions,)")

    def validate(self, value: Any) -> Any:
        """Return `value` in canonical form, or raise ParamError saying what was expected."""
        if value is None:
            if self.optional:
                return None
            raise ParamError(f"expected {self.expected()}, got nothing")
        value = self._coerce(value)
        if self.check is not None:
            problem = self.check(value)
            if problem:
                raise ParamError(problem)
        return value

    def expected(self) -> str:
        """Plain words for what this parameter accepts, for error messages."""
        if self.kind == "bool":
            return "true or false"
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "text":
            return "one line of text"
        if self.kind == "ints":
            counts = " or ".join(str(n) for n in self.lengths) if self.lengths else "one or more"
            return f"{counts} integers{self._range_words(' each')}"
        if self.kind == "int_per_dim":
            forms = [f"an integer{self._range_words('')}"]
            if self.lengths[0] > 1:
                forms.append(f"{self.lengths[0]} of them (one per dimension)")
            forms += [repr(c) for c in self.choices]
            return forms[0] if len(forms) == 1 else ", ".join(forms[:-1]) + ", or " + forms[-1]
        noun = "an integer" if self.kind == "int" else "a number"
        if self.kind == "int" and self.min == 1 and self.max is None:
            return "a positive integer"
        if self.kind == "int" and self.min == 0 and self.max is None:
            return "a non-negative integer"
        return noun + self._range_words("")

    def _range_words(self, lead: str) -> str:
        if self.min is not None and self.max is not None:
            return f"{lead} from {_num(self.min)} to {_num(self.max)}"
        if self.min is not None:
            return f"{lead} at least {_num(self.min)}"
        if self.max is not None:
            return f"{lead} at most {_num(self.max)}"
        return ""

    def _coerce(self, value: Any) -> Any:
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            raise ParamError(f"expected true or false, got {_short(value)}")
        if self.kind == "text":
            if not isinstance(value, str) or len(value) > MAX_TEXT or not all(c.isprintable() for c in value):
                raise ParamError(f"expected one line of text, got {_short(value)}")
            return value
        if self.kind == "choice":
            if isinstance(value, str) and value in self.choices:
                return value
            raise ParamError(f"expected {self.expected()}, got {_short(value)}")
        if self.kind == "ints":
            if isinstance(value, int) and not isinstance(value, bool):
                value = (value,)
            if not isinstance(value, list | tuple) or not all(_is_int(v) for v in value):
                raise ParamError(f"expected {self.expected()}, got {_short(value)}")
            value = tuple(int(v) for v in value)
            if self.lengths and len(value) not in self.lengths:
                raise ParamError(f"expected {self.expected()}, got {len(value)}")
            for v in value:
                self._check_range(v, value)
            return value
        if self.kind == "int_per_dim":
            return self._per_dim(value)
        if self.kind == "int":
            if not _is_int(value):
                raise ParamError(f"expected {self.expected()}, got {_short(value)}")
            value = int(value)
        else:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ParamError(f"expected {self.expected()}, got {_short(value)}")
            try:
                value = float(value)
            except OverflowError:
                raise ParamError(f"expected {self.expected()}, got {_short(value)}") from None
            if not math.isfinite(value):
                raise ParamError(f"expected {self.expected()}, got {_short(value)}")
        self._check_range(value, value)
        return value

    def _per_dim(self, value: Any) -> int | tuple[int, ...]:
        """One int for every dimension, or one per dimension (a single-item list is the one int)."""
        if isinstance(value, str) and value in self.choices:
            return value
        values = tuple(value) if isinstance(value, list | tuple) else (value,)
        if not values or not all(_is_int(v) for v in values):
            raise ParamError(f"expected {self.expected()}, got {_short(value)}")
        if len(values) not in (1, self.lengths[0]):
            raise ParamError(f"expected {self.expected()}, got {len(values)} values")
        values = tuple(int(v) for v in values)
        for v in values:
            self._check_range(v, value)
        return per_dim_value(values)

    def _check_range(self, v: float, whole: Any) -> None:
        if (self.min is not None and v < self.min) or (self.max is not None and v > self.max):
            raise ParamError(f"expected {self.expected()}, got {_short(whole)}")

    def relevant(self, params: Mapping[str, Any]) -> bool:
        """Whether this parameter matters given the others (see `when`)."""
        if self.when is None:
            return True
        other, values = self.when
        return params.get(other) in values


def per_dim_value(values: tuple[int, ...]) -> int | tuple[int, ...]:
    """The canonical form of a value per dimension: one int when all are equal (kernel_size 3, as files and
    code have always written it), else the tuple ((1, 7))."""
    return values[0] if len(set(values)) == 1 else values


def _is_int(v: Any) -> bool:
    return (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())


def _short(value: Any) -> str:
    """repr() cut to a readable length: a file may hold a 4,000-digit number."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


@dataclass(frozen=True)
class PortSpec:
    """A named input or output. An input accepts edges whose source kind is in `accepts`."""

    name: str
    kind: str = TENSOR
    accepts: frozenset[str] = frozenset({TENSOR})
    optional: bool = False
    doc: str = ""


class RuleContext:
    """What a shape rule sees: resolved parameters (writable, to record inferred sizes) and input types.

    Rules read inputs with `input()`, settle inferred sizes with `resolve()`, fail with `fail()`
    (a ShapeError), report doubts that do not stop the model with `warn()`, and what stops training but
    not the shapes with `stop_training()`.
    """

    def __init__(
        self,
        block: str,
        params: dict[str, Any],
        inputs: Mapping[str, TensorType],
        producers: Mapping[str, str] | None = None,
    ) -> None:
        self.block = block
        self.p = params
        self.inputs = inputs
        self.producers = producers or {}
        self.warnings: list[ShapeError] = []
        self.training_problems: list[ShapeError] = []

    def input(
        self, port: str, ranks: tuple[int, ...] | None = None, layout: str = "", *, dtype: str | None = None
    ) -> TensorType:
        """The type arriving at `port`, checked to have one of `ranks` (described by `layout`)."""
        t = self.inputs[port]
        if ranks is not None and t.rank not in ranks:
            raise ShapeError(f"{self.block} expects {layout} but receives {t}", port=port)
        if dtype is not None and t.dtype != dtype:
            raise ShapeError(
                f"{self.block} expects {_dtype_words(dtype)} but receives {_dtype_words(t.dtype)} {t}",
                port=port,
            )
        return t

    def resolve(self, name: str, actual: int, what: str, port: str = "x") -> int:
        """Settle an inferred size: auto takes `actual`; a pinned value must equal it."""
        pinned = self.p.get(name)
        if pinned is None:
            self.p[name] = actual
            return actual
        if pinned != actual:
            raise ShapeError(
                f"{self.block} has {name} pinned to {pinned} but the input "
                f"{format_shape(self.inputs[port].shape)} has {actual} {what}",
                port=port,
                param=name,
                hint=SetOwnParam(name, None),
            )
        return pinned

    def producer(self, port: str) -> str | None:
        """The block type of the node feeding `port`, where the analysis knows it."""
        return self.producers.get(port)

    def fail(
        self, message: str, *, port: str | None = None, param: str | None = None, hint: Hint | None = None
    ) -> ShapeError:
        """Build the error to raise: `raise ctx.fail(...)` keeps control flow visible in the rule."""
        return ShapeError(message, port=port, param=param, hint=hint)

    def warn(
        self, message: str, *, port: str | None = None, param: str | None = None, hint: Hint | None = None
    ) -> None:
        self.warnings.append(ShapeError(message, port=port, param=param, hint=hint))

    def stop_training(self, message: str, *, param: str | None = None) -> None:
        """Report an error that keeps the network from training while its shapes are known: a dataset whose
        files are not on disk yet still has the catalogue's shape, so a network can be designed before its
        data arrives (and exported as a model)."""
        self.training_problems.append(ShapeError(message, param=param))


def _dtype_words(dtype: str) -> str:
    return "integer indices" if dtype.startswith("int") else "floating-point values"


Rule = Callable[[RuleContext], dict[str, TensorType]]
Counter = Callable[[Mapping[str, Any], Mapping[str, TensorType], Mapping[str, TensorType]], int]


def _zero(p: Mapping[str, Any], inputs: Mapping[str, TensorType], outputs: Mapping[str, TensorType]) -> int:
    return 0


@dataclass(frozen=True)
class ModuleCode:
    """How a block becomes a constructor call: `cls(<leading>, <positional...>, kw=value...)`.

    Parameters in `positional` are always written, in order. Every other relevant parameter is written as a
    keyword (renamed through `rename`) when it differs from its default, or always when listed in `always`
    (where torch's default differs from ours). `derived` holds values the rule computes (PReLU's
    num_parameters) with torch's default, written when they differ from it; `fixed` keywords are always
    written; `grouped` joins parameters into one tuple keyword (betas=(beta1, beta2)); `omit` lists
    parameters that shape the forward code or the rule instead of the constructor.
    """

    cls: str
    positional: tuple[str, ...] = ()
    rename: Mapping[str, str] = field(default_factory=dict)
    always: tuple[str, ...] = ()
    derived: Mapping[str, Any] = field(default_factory=dict)
    fixed: Mapping[str, Any] = field(default_factory=dict)
    grouped: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    omit: tuple[str, ...] = ()
    leading: str = ""
    source: str = ""
    """For a class torch lacks (StochasticDepth): its source, written with torch alone, which model.py holds once,
    before the classes that build it."""
    library: Callable[[Mapping[str, Any]], LibraryCall] | None = None
    """For a class the node's own values name (LibraryModule): its import and keyword arguments, which then
    replace `cls` and the templates above."""


@dataclass(frozen=True)
class LibraryCall:
    """A constructor call of a torch or torchvision class named by a node's values: `from <module> import
    <name>` (none for torch.nn, written `nn.<name>`), then `<name>(<keyword>=<value>, ...)`; the values are
    JSON's (numbers, strings, booleans, None, lists), written through repr."""

    module: str
    name: str
    keywords: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class ForwardContext:
    """What a custom forward template sees: the submodule attribute, input variables, the output variable."""

    p: Mapping[str, Any]
    attr: str
    args: Mapping[str, str]
    out: str
    inputs: Mapping[str, TensorType]


ForwardTemplate = Callable[[ForwardContext], list[str]]
TensorTemplate = Callable[[Mapping[str, Any], Callable[[Any], str]], str]
"""How a learned tensor (a Parameter block) is created in __init__, from the node's values and the function that
writes a value as code (codegen's literal): `nn.Parameter(torch.zeros(1, 1, 768))`."""


@dataclass(frozen=True)
class BlockSpec:
    """Everything about one block type. See the module docstring for who reads what."""

    type: str
    category: str
    doc: str
    role: str = MODEL
    params: tuple[ParamSpec, ...] = ()
    inputs: tuple[PortSpec, ...] = (PortSpec("x"),)
    outputs: tuple[PortSpec, ...] = (PortSpec("y"),)
    rule: Rule | None = None
    count_params: Counter = _zero
    count_macs: Counter = _zero
    module: ModuleCode | None = None
    forward: ForwardTemplate | None = None
    size_param: str | None = None
    size_multiplier: Callable[[Mapping[str, Any]], int] | None = None
    """How many output features each unit of `size_param` gives (2 for a bidirectional RNN)."""
    variadic: str | None = None
    label_prefix: str = ""
    shown_type: Callable[[Mapping[str, Any]], str] | None = None
    """What a card and the summary call a node of this type, where its values say more than the type
    (a LibraryModule: the class it builds); the type itself when None (see `type_name`)."""
    state_per_parameter: int = 0
    """For an optimizer: the values it keeps per parameter at most (SGD's momentum buffer, Adam's two moving
    averages), which the training-memory estimate counts."""
    tensor: TensorTemplate | None = None
    """For a learned tensor (Parameter), which is no module: its creation in __init__; forward() then uses the
    attribute itself as the tensor (`x + self.pos_embedding`)."""
    takes_unbatched: bool = False
    """Whether its inputs may be tensors without the batch dimension (a Parameter's): Add and Multiply broadcast
    them over the batch, Concat joins them, Expand gives them one; every other block refuses them (`infer`)."""
    packed_weights: bool = False
    """Whether its weights are several tensors (a recurrent layer's per layer and direction, attention's
    projections) rather than one `weight` and one `bias`: the generated init_weights then loops over its
    parameters, initialising the matrices as weights and the tensors named bias as biases."""
    batch_statistics: bool = False
    """Whether it normalises with statistics taken over the batch while training (batch norm): where several
    processes share each batch, each sees only its share unless the statistics are synchronised (the training
    setting sync_batchnorm, which means something only for a network with such a block)."""

    @property
    def summary(self) -> str:
        """The first line of the doc: the tooltip's headline and the palette's description."""
        return self.doc.strip().splitlines()[0]

    def infer(self, ctx: RuleContext) -> dict[str, TensorType]:
        """The output types for the inputs in `ctx`: the rule's, after refusing a tensor without the batch
        dimension (a learned Parameter) where this block takes none (a layer would read its first size as the
        batch's)."""
        if not self.takes_unbatched:
            for port, t in ctx.inputs.items():
                if t.rank and not t.batched:  # rank 0 is a loss's value, which an optimizer takes
                    raise ShapeError(
                        f"{self.type} needs a tensor with the batch dimension but receives the learned tensor {t}: "
                        "Expand it to the batch first, or feed it to Add, Multiply or Concat",
                        port=port,
                    )
        return self.rule(ctx) if self.rule else {}

    def type_name(self, params: Mapping[str, Any]) -> str:
        """The name a person reads for a node of this type with `params` (its card, the summary)."""
        return self.shown_type(params) if self.shown_type is not None else self.type

    def param(self, name: str) -> ParamSpec:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"{self.type} has no parameter {name!r}")

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def input_ports(self, params: Mapping[str, Any]) -> tuple[PortSpec, ...]:
        """The input ports for these parameters: a variadic block (Add, Concat) has one port per input."""
        if self.variadic is None:
            return self.inputs
        template = self.inputs[0]
        count = int(params.get(self.variadic, self.param(self.variadic).default))
        return tuple(
            PortSpec(f"in{i}", template.kind, template.accepts, template.optional, template.doc)
            for i in range(1, count + 1)
        )

    def input_port(self, name: str, params: Mapping[str, Any]) -> PortSpec | None:
        for port in self.input_ports(params):
            if port.name == name:
                return port
        return None

    def output_port(self, name: str) -> PortSpec | None:
        for port in self.outputs:
            if port.name == name:
                return port
        return None

    def default_label(self) -> str:
        """The stem of a new node's label: conv, fc, relu ... (numbered by the graph)."""
        return self.label_prefix or self.type.lower()

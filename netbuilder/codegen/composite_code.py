"""Composite blocks as code: one nn.Module class per definition, written once and built per use with that use's
values, or torch's own nn.Sequential where a definition is one (a chain of modules labelled 0, 1, 2 ... as an
imported nn.Sequential is), so a regenerated model keeps the original's attribute paths and state_dict keys.

A class is written for all its uses in this network at once. A value that is the same in every use is written
as a literal; one that differs becomes a constructor argument (one per distinct series of values, so the inner
sizes that follow an exposed width share its argument); an exposed parameter is always an argument, with the
definition's value as its default. Shape comments are those of the class's first use.
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from netbuilder.analysis.node_check import NodeResult
from netbuilder.analysis.order import topological_order
from netbuilder.blocks.shared_params import INIT_PARAMS, takes_weight_init
from netbuilder.blocks.spec import BlockSpec, LibraryCall
from netbuilder.codegen.forward_body import forward_body, render_lines
from netbuilder.codegen.identifiers import Namer, class_name, safe_text
from netbuilder.codegen.init_weights import init_call, init_choice, init_method, init_statements
from netbuilder.codegen.line_wrap import wrapped
from netbuilder.codegen.render import Code, constructor, import_line, library_constructor, library_name, literal
from netbuilder.graph import Graph
from netbuilder.graph.definitions import Definition, Exposed

_REQUIRED = object()


class CompositeCodeError(Exception):
    """A composite that cannot be one class for all its uses; the message says which and what to do."""


@dataclass
class _Arg:
    name: str
    values: tuple[Any, ...]
    """Its value in each use of the class."""
    default: Any = _REQUIRED
    param: str | None = None
    """The exposed parameter it is (None for an argument made from values that differ between uses)."""


class _Slots:
    """The values one class's code needs, over its uses (see the module docstring). With one concrete use (the
    model itself) every value is a literal."""

    def __init__(self, namer: Namer, *, concrete: bool = False) -> None:
        self.concrete = concrete
        self.args: list[_Arg] = []
        self._namer = namer
        self._by_values: dict[tuple[tuple[str, str], ...], _Arg] = {}
        self.written: dict[tuple[int, str], Any] = {}
        """What was written for each layer's own size (a convolution's out_channels), by (graph, node id)."""
        self._exposed: dict[str, _Arg] = {}

    def expose(self, param: str, values: Sequence[Any], default: Any) -> None:
        arg = _Arg(self._namer.take(param, "value"), tuple(values), default, param)
        self.args.append(arg)
        self._exposed[param] = arg
        self._by_values.setdefault(_key(arg.values), arg)

    def value(self, values: Sequence[Any], hint: str, *, exposed: str | None = None, source: Any = None) -> Any:
        """What to write for a value that is `values` in the uses: a literal's value, or a Code argument.
        `exposed` names the exposed parameter that sets it; `source` is what was written for the size it
        follows (the width of the layer before), which it takes where their values agree, so a convolution's
        input channels read as the width that makes them."""
        values = tuple(values)
        if self.concrete:
            return values[0]
        arg = self._exposed.get(exposed) if exposed else None
        if arg is not None and _key(arg.values) == _key(values):
            return Code(arg.name)
        if isinstance(source, Code) and _key(self._named(source).values) == _key(values):
            return source
        same = self._by_values.get(_key(values))
        varies = len(set(_key(values))) > 1
        if same is not None and varies:
            return Code(same.name)
        if not varies:
            return values[0]
        arg = _Arg(self._namer.take(hint, "value"), values)
        self.args.append(arg)
        self._by_values[_key(values)] = arg
        return Code(arg.name)

    def _named(self, code: Code) -> _Arg:
        return next(arg for arg in self.args if arg.name == code)


def _key(values: Sequence[Any]) -> tuple[tuple[str, str], ...]:
    """Values compared as written: True is not 1, nor 1.0 (== would merge a flag into a size's argument)."""
    return tuple((type(v).__name__, repr(v)) for v in values)


@dataclass
class ClassCode:
    """How one definition is written: a class (its source, its arguments) or an nn.Sequential at each use."""

    definition: Definition
    order: list[str]
    sequential: bool
    cls: str = ""
    args: list[_Arg] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    index: dict[int, int] = field(default_factory=dict)
    """The place of each use (by its NodeResult's identity) in the arguments' values."""


class Composites:
    """The code of every definition a model uses, planned from the analysis of all their uses."""

    def __init__(self, graph: Graph, members: Sequence[str], results: Mapping[str, NodeResult], taken: set[str]):
        self._uses: dict[str, list[NodeResult]] = {}
        self._first_use: dict[str, str] = {}
        self._taken = taken
        self._imported: dict[tuple[str, str], str] = {}
        """The name each library class (module, class) is imported as (LibraryModule)."""
        self._built: set[tuple[str, str]] = set()
        self._helpers: dict[str, str] = {}
        """The source of each class torch lacks that the expressions made so far build (StochasticDepth)."""
        self._collect(graph, members, results, "")
        self.classes: dict[str, ClassCode] = {}
        for definition in graph.definitions.in_dependency_order():
            if definition.name in self._uses:
                self.classes[definition.name] = self._plan(definition, taken)

    def sources(self) -> list[str]:
        """The classes' source lines: those torch lacks first, then each class after the ones it builds."""
        helpers = [line for source in self._helpers.values() for line in ["", "", *source.splitlines()]]
        return helpers + [line for code in self.classes.values() for line in code.source]

    def imports(self) -> list[str]:
        """The import statements of the library classes the expressions made so far build, in isort's order."""
        names: dict[str, list[str]] = {}
        for (module, cls), name in self._imported.items():
            names.setdefault(module, []).append(cls if name == cls else f"{cls} as {name}")
        return [import_line(module, sorted(names[module])) for module in sorted(names)]

    def library_classes(self) -> list[str]:
        """The qualified names of the library classes the expressions made so far build (torch.nn's too)."""
        return sorted({f"{module}.{cls}" for module, cls in self._built})

    def _collect(self, graph: Graph, node_ids: Sequence[str], results: Mapping[str, NodeResult], path: str) -> None:
        for node_id in node_ids:
            definition = graph.definition_of(node_id)
            if definition is not None:
                result = results[node_id]
                here = f"{path}.{graph.nodes[node_id].label}" if path else graph.nodes[node_id].label
                copies = result.copies or [result]
                for number, copy in enumerate(copies):
                    place = f"{here}.{number}" if result.copies else here
                    self._uses.setdefault(definition.name, []).append(copy)
                    self._first_use.setdefault(definition.name, place)
                    self._collect(definition.graph, list(copy.inner or {}), copy.inner or {}, place)

    def model_expr(self, graph: Graph, node_id: str, result: NodeResult) -> str | None:
        """The expression that builds `node_id` in the model itself (every value a literal)."""
        return self.module_expr(graph, node_id, [result], _Slots(Namer(), concrete=True))

    def module_expr(
        self,
        graph: Graph,
        node_id: str,
        results: Sequence[NodeResult],
        slots: _Slots,
        exposed: Mapping[tuple[str, str], str] | None = None,
        fed: Any = None,
    ) -> str | None:
        """The expression that builds `node_id` in a class whose uses give it `results` (None for a block
        without a module: its forward line does the work); `fed` is what was written for the size arriving
        through the input of the container `graph` is the inside of (an nn.Sequential written in place)."""
        exposed = exposed or {}
        definition = graph.definition_of(node_id)
        if definition is None:
            spec = graph.spec(node_id)
            if spec.tensor is not None:  # a learned tensor: its values literals, or the class's arguments
                values = {name: [r.resolved[name] for r in results] for name in results[0].resolved}
                p = {name: slots.value(v, name, exposed=exposed.get((node_id, name))) for name, v in values.items()}
                return spec.tensor(p, literal)
            if spec.module is None:
                return None
            if spec.module.library is not None:
                return self._library_expr(spec, graph, node_id, results, slots)
            if spec.module.source:
                self._helpers[spec.module.cls] = spec.module.source
            concrete = results[0].resolved
            node = graph.nodes[node_id]
            p = {}
            starts = takes_weight_init(spec)
            for name in concrete:
                if starts and name in INIT_PARAMS:  # written in init_weights (init_lines), not the constructor
                    continue
                follows = name in node.params and node.params[name] is None
                source = self._size_before(graph, node_id, slots, fed) if follows else None
                values = [r.resolved[name] for r in results]
                p[name] = slots.value(values, name, exposed=exposed.get((node_id, name)), source=source)
            if spec.size_param is not None:
                slots.written[(id(graph), node_id)] = p.get(spec.size_param)
            return constructor(spec, p, concrete)
        repeats = {len(r.copies or [r]) for r in results}
        if len(repeats) > 1:
            raise CompositeCodeError(
                f"{safe_text(graph.nodes[node_id].label, 60)} repeats {definition.name} a different number of "
                "times in the uses of the block holding it: make those uses unique"
            )
        fed = self._size_before(graph, node_id, slots, fed)
        if not any(r.copies for r in results):
            return self._instance_expr(definition, results, slots, node_id, exposed, fed)
        copies = [
            self._instance_expr(definition, [r.copies[k] for r in results], slots, node_id, exposed, fed)
            for k in range(repeats.pop())
        ]
        if len(set(copies)) == 1:
            return f"nn.Sequential(*({copies[0]} for _ in range({len(copies)})))"
        return "nn.Sequential(" + ", ".join(copies) + ")"

    def init_lines(self, graph: Graph, node_id: str, results: Sequence[NodeResult], target: str) -> list[str]:
        """The init_weights lines for `node_id`, built as `target` (`self.fc1`), in a class whose uses give it
        `results`: its chosen init, or those of the layers inside an nn.Sequential written in its place (a
        composite class initialises its own layers in its own init_weights)."""
        definition = graph.definition_of(node_id)
        if definition is None:
            spec = graph.spec(node_id)
            choices = {init_choice(spec, r.resolved) for r in results}
            if len(choices) > 1:
                raise CompositeCodeError(
                    f"{safe_text(graph.nodes[node_id].label, 60)} starts its weights differently in the uses of "
                    "the block holding it: make those uses unique"
                )
            return init_statements(spec, results[0].resolved, target)
        if any(r.copies for r in results):
            return [
                line
                for k in range(len(results[0].copies))
                for line in self.init_lines(graph, node_id, [r.copies[k] for r in results], f"{target}[{k}]")
            ]
        code = self.classes[definition.name]
        if not code.sequential:
            return []
        return [
            line
            for i, child in enumerate(code.order)
            for line in self.init_lines(definition.graph, child, [r.inner[child] for r in results], f"{target}[{i}]")
        ]

    def _library_expr(
        self,
        spec: BlockSpec,
        graph: Graph,
        node_id: str,
        results: Sequence[NodeResult],
        slots: _Slots,
    ) -> str:
        """A library class's constructor call: one class in every use, each keyword a literal or, where the
        uses differ, an argument of the class holding it (a Swin block's shift_size)."""
        assert spec.module is not None and spec.module.library is not None
        label = safe_text(graph.nodes[node_id].label, 60)
        calls = [spec.module.library(r.resolved) for r in results]
        first = calls[0]
        if any(_call_names(call) != _call_names(first) for call in calls):
            raise CompositeCodeError(
                f"{label} builds another library class, or names other arguments, in the uses of the block "
                "holding it: make those uses unique"
            )
        keywords = tuple((key, slots.value([dict(c.keywords)[key] for c in calls], key)) for key, _ in first.keywords)
        return library_constructor(LibraryCall(first.module, first.name, keywords), self._import_name(first))

    def _import_name(self, call: LibraryCall) -> str:
        """What a library class is called in the model module: its own name unless a class of this model or
        another import has it (then the module's name before it: SwinTransformerPatchMerging)."""
        key = (call.module, call.name)
        self._built.add(key)
        if call.module == "torch.nn":
            return library_name(call)
        if key not in self._imported:
            name = call.name
            if name in self._taken or name in ("torch", "nn"):
                name = _free_class_name(class_name(call.module.rpartition(".")[2]) + call.name, self._taken)
            self._taken.add(name)
            self._imported[key] = name
        return self._imported[key]

    def _instance_expr(
        self,
        definition: Definition,
        results: Sequence[NodeResult],
        slots: _Slots,
        node_id: str,
        exposed: Mapping[tuple[str, str], str],
        fed: Any,
    ) -> str:
        """The expression that builds one copy of an instance of `definition`, `fed` what was written for the
        size arriving at its input."""
        code = self.classes[definition.name]
        if code.sequential:
            # what the class exposes through this container reaches the containers' own inner parameters
            through = {
                target: exposed[(node_id, e.name)]
                for e in definition.exposed
                if (node_id, e.name) in exposed
                for target in e.targets
            }
            children = [
                self.module_expr(definition.graph, c, [r.inner[c] for r in results], slots, through, fed)
                for c in code.order
            ]
            labels = [definition.graph.nodes[c].label for c in code.order]
            if labels == [str(i) for i in range(len(labels))]:
                return "nn.Sequential(" + ", ".join(children) + ")"
            # names no attribute can have (RegNet's block1-0) kept as torch keeps them, with their state_dict keys
            ordered = self._import_name(LibraryCall("collections", "OrderedDict", ()))
            pairs = ", ".join(f"({literal(label)}, {child})" for label, child in zip(labels, children, strict=True))
            return f"nn.Sequential({ordered}([{pairs}]))"
        args = []
        for arg in code.args:
            values = [arg.values[code.index[id(r)]] for r in results]
            value = slots.value(values, arg.name, exposed=exposed.get((node_id, arg.param)) if arg.param else None)
            if arg.default is _REQUIRED:
                args.append(literal(value))
            elif isinstance(value, Code) or value != arg.default:
                args.append(f"{arg.name}={literal(value)}")
        return f"{code.cls}({', '.join(args)})"

    def _size_before(self, graph: Graph, node_id: str, slots: _Slots, fed: Any) -> Any:
        """What was written for the size arriving at `node_id`'s one input: the width of the nearest layer
        upstream that sets one, through layers that keep it (a norm, an activation) and into containers written
        as nn.Sequential; `fed` where the input comes through the container's own input; None where unknown."""
        edges = list(graph.inputs_of(node_id).values())
        if not edges:
            return fed
        return self._size_made(graph, edges[0].src, slots, fed) if len(edges) == 1 else None

    def _size_made(self, graph: Graph, node_id: str, slots: _Slots, fed: Any) -> Any:
        """What was written for the size of `node_id`'s output (see _size_before)."""
        if (id(graph), node_id) in slots.written:
            return slots.written[(id(graph), node_id)]
        inner = graph.definition_of(node_id)
        if inner is not None:
            code = self.classes.get(inner.name)
            if code is None or not code.sequential:
                return None
            before = self._size_before(graph, node_id, slots, fed)
            return self._size_made(inner.graph, inner.outlets[0].node, slots, before)
        if graph.spec(node_id).size_param is not None:
            return None
        return self._size_before(graph, node_id, slots, fed)

    def _plan(self, definition: Definition, taken: set[str]) -> ClassCode:
        uses = self._uses[definition.name]
        inside = definition.graph
        order = topological_order(inside)
        index: dict[int, int] = {}
        for i, use in enumerate(uses):
            index.setdefault(id(use), i)
        if _is_sequential(definition, order):
            return ClassCode(definition, order, True, index=index)
        cls = _free_class_name(definition.name, taken)
        namer = Namer()
        slots = _Slots(namer)
        exposed: dict[tuple[str, str], str] = {}
        spec = definition.spec()
        for e in definition.exposed:
            if _sets_library_modules(inside, e):  # written keyword by keyword where they differ (_library_expr)
                continue
            if _sets_init_only(inside, e):  # written in the class's init_weights, the same in every use
                continue
            slots.expose(e.name, [u.resolved[e.name] for u in uses], spec.param(e.name).default)
            exposed.update({target: e.name for target in e.targets})
        locals_ = Namer()
        attributes = {n: locals_.take(inside.nodes[n].label, "layer") for n in order}
        init = []
        for node_id in order:
            expr = self.module_expr(inside, node_id, [u.inner[node_id] for u in uses], slots, exposed)
            if expr is not None:
                init.append(f"self.{attributes[node_id]} = {expr}")
        starts = [
            line
            for node_id in order
            for line in self.init_lines(
                inside, node_id, [u.inner[node_id] for u in uses], f"self.{attributes[node_id]}"
            )
        ]
        inputs = [locals_.take("inputs" if i.name == "x" else i.name, "inputs") for i in definition.inlets]
        fed = {target: var for inlet, var in zip(definition.inlets, inputs, strict=True) for target in inlet.targets}
        returned = [(o.node, o.port) for o in definition.outlets]
        bodies = [forward_body(inside, order, {}, fed, attributes, u.inner, returned) for u in uses]
        for body in bodies[1:]:
            if [s for s, _ in body] != [s for s, _ in bodies[0]]:
                raise CompositeCodeError(
                    f"{safe_text(definition.name, 60)} needs different code in its uses: make its uses unique"
                )
        origin = self._first_use[definition.name]
        doc = safe_text(definition.doc or f"{definition.name}: a block of this network", 400).rstrip(".") + "."
        shapes = [f"Shapes are those of its first use, {safe_text(origin, 60)}."] if len(uses) > 1 else []
        signature = ", ".join(_parameter(a) for a in sorted(slots.args, key=lambda a: a.default is not _REQUIRED))
        returns = "torch.Tensor" if len(returned) == 1 else f"tuple[{', '.join(['torch.Tensor'] * len(returned))}]"
        source = [
            "",
            "",
            f"class {cls}(nn.Module):",
            *_docstring([*textwrap.wrap(doc, 112), *([""] if shapes else []), *shapes]),
            "",
            f"    def __init__(self{', ' if signature else ''}{signature}) -> None:",
            "        super().__init__()",
            *(part for line in init for part in wrapped(f"        {line}")),
            *(f"        {line}" for line in init_call(starts)),
            *init_method(starts),
            "",
            f"    def forward(self, {', '.join(f'{v}: torch.Tensor' for v in inputs)}) -> {returns}:",
            *render_lines(bodies[0]),
        ]
        args = sorted(slots.args, key=lambda a: a.default is not _REQUIRED)
        return ClassCode(definition, order, False, cls, args, source, index)


def _sets_library_modules(graph: Graph, exposed: Exposed) -> bool:
    """Whether an exposed parameter only sets library modules' classes or arguments, in this graph or in the
    blocks inside it: the class then takes the arguments that differ between uses one by one, not the JSON."""
    for node_id, param in exposed.targets:
        inner = graph.definition_of(node_id)
        if inner is not None:
            through = next((e for e in inner.exposed if e.name == param), None)
            if through is None or not _sets_library_modules(inner.graph, through):
                return False
        elif graph.spec(node_id).module is None or graph.spec(node_id).module.library is None:
            return False
    return True


def _sets_init_only(graph: Graph, exposed: Exposed) -> bool:
    """Whether an exposed parameter only sets how layers start (their init parameters), which the class writes in
    its init_weights rather than taking as an argument (the layers' constructors do not take them)."""
    return all(
        graph.definition_of(node) is None and param in INIT_PARAMS and takes_weight_init(graph.spec(node))
        for node, param in exposed.targets
    )


def _call_names(call: LibraryCall) -> tuple[str, str, frozenset[str]]:
    """What must be the same in every use of a library class: the class and the arguments it is given."""
    return call.module, call.name, frozenset(key for key, _ in call.keywords)


def _docstring(lines: list[str]) -> list[str]:
    """A class docstring: one line where it fits, else its lines and the closing quotes on their own."""
    if len(lines) == 1:
        return [f'    """{lines[0]}"""']
    return [f'    """{lines[0]}', *(f"    {line}".rstrip() for line in lines[1:]), '    """']


def _is_sequential(definition: Definition, order: list[str]) -> bool:
    """Whether `definition` is what torch's nn.Sequential is: a chain of modules, one input and one output,
    labelled 0, 1, 2 ... in order (an imported Sequential), or named where a name cannot be an attribute (an
    imported RegNet stage's block1-0), so its state_dict keys are its labels."""
    inside = definition.graph
    labels = [inside.nodes[n].label for n in order]
    if labels != [str(i) for i in range(len(order))] and all(label.isidentifier() for label in labels):
        return False
    if len(definition.inlets) != 1 or definition.inlets[0].targets != ((order[0], _only_input(inside, order[0])),):
        return False
    if len(definition.outlets) != 1 or definition.outlets[0].node != order[-1]:
        return False
    for here, after in itertools.pairwise(order):
        consumers = inside.outputs_of(here)
        if len(consumers) != 1 or consumers[0].dst != after or len(inside.inputs_of(after)) != 1:
            return False
    for node_id in order:
        spec = inside.spec(node_id)
        inner = inside.definition_of(node_id)
        if len(spec.outputs) != 1 or _only_input(inside, node_id) is None:
            return False
        if inner is None and spec.module is None:
            return False
    return True


def _only_input(graph: Graph, node_id: str) -> str | None:
    """The input of a block with one, not counting an optional one (an attention's token indices: where it is
    fed, the edge or the inlet feeding it keeps the chain from being an nn.Sequential)."""
    ports = [p for p in graph.spec(node_id).input_ports(graph.nodes[node_id].params) if not p.optional]
    return ports[0].name if len(ports) == 1 else None


def _free_class_name(name: str, taken: set[str]) -> str:
    base = class_name(name, "Block")
    cls, n = base, 2
    while cls in taken:
        cls, n = f"{base}{n}", n + 1
    taken.add(cls)
    return cls


def _parameter(arg: _Arg) -> str:
    hint = _hint(arg.values)
    if arg.default is _REQUIRED:
        return f"{arg.name}: {hint}"
    return f"{arg.name}: {hint} = {literal(arg.default)}"


def _hint(values: Sequence[Any]) -> str:
    """The type of an argument, from the values it takes."""
    kinds = {type(v) for v in values if v is not None}
    names = {bool: "bool", int: "int", float: "float", str: "str", tuple: "tuple[int, ...]", list: "list"}
    if kinds == {int, float}:
        kinds = {float}
    if kinds == {int, tuple}:  # a window setting: one int for every dimension, or one per dimension
        hint = "int | tuple[int, ...]"
    else:
        hint = names.get(next(iter(kinds)), "object") if len(kinds) == 1 else "object"
    return f"{hint} | None" if any(v is None for v in values) else hint

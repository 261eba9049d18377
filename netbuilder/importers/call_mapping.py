"""Each traced call becomes a catalogue block, or an UnmappedCall saying why not.

`Builder` walks the trace in order and adds one graph node per call that maps, through the tables of
`call_tables` (submodule class, function or tensor method -> block) and `indexing` (subscripts and the pieces of
a split as Slice and Select); some calls are more than one block (a TransformerEncoder, a recurrent layer read two
ways, a functional layer norm with its module's weights) or none (`contiguous`). Values that are not tensors
(`x.size(0)`, `x.shape`) only feed such calls and need no block, because the shapes are known.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

import torch
import torch.fx
import torch.nn.functional as F
from torch import nn

from netbuilder.graph import Graph, GraphError
from netbuilder.importers.call_tables import (
    EXTREMES,
    FUNCTIONS,
    MERGES,
    PASS_THROUGH,
    PERMUTES,
    REDUCTIONS,
    RESHAPES,
    SPLITS,
    STOCHASTIC_DEPTH,
    TRANSPOSES,
    Unmapped,
    argument,
    bind,
    block_for,
    flat_args,
)
from netbuilder.importers.indexing import batch_of, piece, subscript_steps
from netbuilder.importers.padding_masks import padding_tokens, read_as_padding_mask_only, split_padding_mask
from netbuilder.importers.recurrent_uses import recurrent_uses
from netbuilder.importers.tracing import location, scoped_name, shape


@dataclass(frozen=True)
class UnmappedCall:
    """A call in the traced module with no catalogue block: what it is, where it is, and why it did not map."""

    call: str
    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.call} at {self.where}: {self.reason}"


class Builder:
    """Adds one graph node per fx node that maps; records the rest as unmapped."""

    def __init__(self, root: nn.Module, input_shape: tuple[int, ...], dtype: str) -> None:
        self.root = root
        self.input_shape = input_shape
        self.dtype = dtype
        self.graph = Graph()
        self.values: dict[torch.fx.Node, str] = {}
        self.modules: dict[str, list[str]] = {}
        self.paths: dict[str, str] = {}
        """Graph node id -> the module path it was built from (a function's: its submodule's, then its name)."""
        self.unmapped: list[UnmappedCall] = []
        self.skipped: set[torch.fx.Node] = set()

    def add(self, node: torch.fx.Node) -> None:
        if node.op == "output" or node in self.values or node in self.skipped:
            return
        if not node.users:
            return  # a value forward() computes and never uses (`out, _ = ...`) changes nothing
        if read_as_padding_mask_only(self.root, node):
            return  # `tokens == 0`: its tokens feed the attention blocks that read it
        if node.op == "placeholder":
            self._add_input(node)
            return
        if node.op == "get_attr":
            self._add_parameter(node)
            return
        if node.op == "call_module" and self._add_container(node):
            return
        if node.target in PASS_THROUGH and node.args[0] in self.values:
            self.values[node] = self.values[node.args[0]]
            return
        if node.target in EXTREMES and len(_flat_tensors(node)) == 1 and shape(node) is None:
            self._add_extreme(node)
            return
        if node.target is operator.getitem and shape(node) is not None:
            self._add_indexing(node)
            return
        if node.target is F.layer_norm:
            self._add_layer_norm(node)
            return
        if shape(node) is None and node.op != "call_module":
            return  # sizes, shapes, tuples (a chunk's pieces): known numbers here, read by the calls that use them
        try:
            block, params, inputs = self._map(node)
        except Unmapped as why:
            self._report(node, _call_name(self.root, node), str(why))
            return
        path = str(node.target) if node.op == "call_module" else None
        label = path if path is not None else node.name
        added = self._place(node, block, params, [self.values.get(source) for source in inputs], label, path)
        if added is not None:
            self.values[node] = added

    def _place(
        self,
        node: torch.fx.Node,
        block: str,
        params: dict[str, Any],
        sources: list[str | None],
        label: str,
        path: str | None,
    ) -> str | None:
        """One graph node fed by `sources` (graph node ids; None leaves that input open), recorded as built
        from the submodule at `path`; None, with the reason reported, where the graph refuses it."""
        try:
            added = self.graph.add_node(block, label=self.graph.free_label(label), params=params)
        except GraphError as err:
            self._report(node, _call_name(self.root, node), str(err))
            return None
        # an optional input after the sources given (an attention's tokens, where no mask is passed) stays open
        ports = [p.name for p in self.graph.input_ports(added.id)][: len(sources)]
        for port, source in zip(ports, sources, strict=True):
            if source is not None:
                self.graph.connect(source, _output_port(self.graph, source), added.id, port)
        if path is not None:
            self.modules.setdefault(path, []).append(added.id)
        self.paths[added.id] = path if path is not None else scoped_name(node)
        return added.id

    def _add_chain(self, node: torch.fx.Node, source: torch.fx.Node, steps: list[tuple[str, dict[str, Any]]]) -> None:
        """`node` as blocks one after another from `source` (a slice then a select; a norm then its scale)."""
        value = self.values.get(source)
        for block, params in steps:
            value = self._place(node, block, params, [value], block.lower(), None)
            if value is None:
                return
            self.paths[value] = _renamed(scoped_name(node), block.lower())
        self.values[node] = value

    def _add_parameter(self, node: torch.fx.Node) -> None:
        """A learned tensor forward() uses directly (a ViT's class token and position embedding, a ConvNeXt
        layer scale): a Parameter block named as the attribute, so the original's state_dict key fits it."""
        target = str(node.target)
        try:
            tensor = self.root.get_parameter(target)
        except AttributeError:
            what = "a buffer" if _is_buffer(self.root, target) else "a constant tensor"
            self._report(node, f"self.{target}", f"{what} used directly in forward(); no block holds one")
            return
        path = target
        added = self._place(node, "Parameter", _initialised_as(tensor), [], target.rsplit(".", 1)[-1], path)
        if added is not None:
            self.values[node] = added

    def _add_extreme(self, node: torch.fx.Node) -> None:
        """`x.max(dim)`: its values (`.values`, `[0]`) are the Max block; its indices have no block."""
        block = EXTREMES[node.target]
        readers = [u for u in node.users if _reads_values(u)]
        for user in node.users:
            if user not in readers and user.users:
                self._report(user, f"the indices of {_call_name(self.root, node)}", "no netbuilder block gives them")
        try:
            params = self._reduction(node)
        except Unmapped as why:
            self._report(node, _call_name(self.root, node), str(why))
            return
        if readers:
            added = self._place(node, block, params, [self.values.get(node.args[0])], node.name, None)
            self.values.update(dict.fromkeys(readers, added) if added is not None else {})
        self.skipped.update(node.users)

    def _add_indexing(self, node: torch.fx.Node) -> None:
        """`x[:, 0]`, `x[..., ::2]`, or one piece of `x.chunk(2, 1)`: Select and Slice blocks."""
        whole, index = node.args
        try:
            if isinstance(whole, torch.fx.Node) and whole.target in SPLITS:
                source, steps = whole.args[0], piece(whole, int(index))
            elif isinstance(whole, torch.fx.Node) and shape(whole) is not None:
                source, steps = whole, subscript_steps(shape(whole), index)
            else:
                raise Unmapped("no netbuilder block does this")
        except Unmapped as why:
            self._report(node, _call_name(self.root, node), str(why))
            return
        if not steps:
            self.values[node] = self.values[source]  # x[:] or x[...]: the same values
            return
        self._add_chain(node, source, steps)

    def _add_layer_norm(self, node: torch.fx.Node) -> None:
        """`F.layer_norm(x, shape, self.weight, self.bias)` (torchvision's LayerNorm2d): the norm, then the
        module's own weight and bias as Parameters it is multiplied by and added to, so that their state_dict
        keys are the original's."""
        x, normalized = node.args[0], argument(node, 1, "normalized_shape")
        weight, bias = argument(node, 2, "weight"), argument(node, 3, "bias")
        eps = argument(node, 4, "eps", 1e-5)
        norm = {"dims": len(normalized), "eps": eps, "elementwise_affine": False}
        value = self._place(node, "LayerNorm", norm, [self.values.get(x)], "layer_norm", None)
        for block, tensor in (("Multiply", weight), ("Add", bias)):
            if value is not None and tensor is not None:
                value = self._place(node, block, {"inputs": 2}, [value, self.values.get(tensor)], block.lower(), None)
                self.paths[value] = _renamed(scoped_name(node), block.lower()) if value is not None else ""
        if value is not None:
            self.values[node] = value

    def _add_container(self, node: torch.fx.Node) -> bool:
        """Submodules that are not one block: a TransformerEncoder (a chain of layers) and the recurrent
        layers (a pair of outputs). True when `node` was handled here, mapped or reported."""
        sub = self.root.get_submodule(str(node.target))
        if type(sub) is nn.TransformerEncoder:
            add = self._add_encoder_stack
        elif type(sub) in (nn.RNN, nn.LSTM, nn.GRU):
            add = self._add_recurrent
        elif type(sub) is nn.MultiheadAttention:
            self._add_self_attention(node, sub)
            return True
        else:
            return False
        # a stack's padding mask too (padding_masks.MASK_KEYWORDS says why)
        extra = [a for a in (*node.args[1:], *node.kwargs.values()) if a is not None]
        try:
            if extra:
                raise Unmapped("a mask or initial state is passed to it; the block takes the input alone")
            add(node, sub)
        except Unmapped as why:
            self._report(node, _call_name(self.root, node), str(why))
            self.skipped.update(_indexed_from(node))  # out, h[-1]: the same gap, named once
        return True

    def _add_encoder_stack(self, node: torch.fx.Node, stack: nn.TransformerEncoder) -> None:
        """One TransformerEncoderLayer block per layer, then the final LayerNorm if the stack has one."""
        path = str(node.target)
        parts = [(f"{path}.layers.{i}", layer) for i, layer in enumerate(stack.layers)]
        if stack.norm is not None:
            parts.append((f"{path}.norm", stack.norm))
        mapped = [(part, *block_for(sub)) for part, sub in parts]  # all or nothing: Unmapped names the part
        source = self.values.get(node.args[0])
        for part, block, params in mapped:
            source = self._place(node, block, params, [source], part, part)
        if source is not None:
            self.values[node] = source

    def _add_self_attention(self, node: torch.fx.Node, attention: nn.MultiheadAttention) -> None:
        """`out, _ = self.attn(x, x, x)`: the MultiheadAttention block is self-attention without masks, and
        gives the output alone (the attention weights are not a block output)."""
        query, *rest = [*node.args, *(node.kwargs.get(k) for k in ("key", "value") if k in node.kwargs)]
        options = {k: v for k, v in node.kwargs.items() if k not in ("key", "value")}
        tokens = padding_tokens(options.get("key_padding_mask"))
        if tokens is not None:
            del options["key_padding_mask"]
        try:
            if len(rest) != 2 or any(other is not query for other in rest):
                raise Unmapped("the MultiheadAttention block is self-attention: query, key and value are one tensor")
            if any(
                v is not None and v is not False
                for k, v in options.items()
                if k not in ("need_weights", "average_attn_weights")
            ):
                raise Unmapped(
                    "a mask is passed to it; the block attends to every position, or leaves out the padding written "
                    "`key_padding_mask=tokens == 0`"
                )
            for flag in ("add_zero_attn",):
                if getattr(attention, flag):
                    raise Unmapped(f"the MultiheadAttention block has no {flag}")
            if attention.bias_k is not None or not attention._qkv_same_embed_dim:
                raise Unmapped("the MultiheadAttention block has no add_bias_kv, kdim or vdim")
            block, params = block_for(attention)
        except Unmapped as why:
            self._report(node, _call_name(self.root, node), str(why))
            self.skipped.update(_indexed_from(node))
            return
        outputs = [user for user in node.users if user.target is operator.getitem and user.args[1] == 0]
        for user in node.users:
            if user not in outputs and user.users:
                self._report(user, "the attention weights of nn.MultiheadAttention", "they are not a block output")
            self.skipped.update(_indexed_from(user) if user not in outputs else ())
        if outputs:
            sources = [self.values.get(query), *([self.values.get(tokens)] if tokens is not None else [])]
            added = self._place(node, block, params, sources, str(node.target), str(node.target))
            self.values.update(dict.fromkeys(outputs, added) if added is not None else {})

    def _add_recurrent(self, node: torch.fx.Node, layer: nn.RNNBase) -> None:
        """One block per output that forward() reads: 'sequence', 'last', or both (two blocks that share the
        layer's weights, as a layer called twice does)."""
        block, params = block_for(layer)
        uses = recurrent_uses(node, layer)
        source = self.values.get(node.args[0])
        path = str(node.target)
        for output, readers in (("sequence", uses.sequence), ("last", uses.last)):
            if readers:
                added = self._place(node, block, {**params, "output": output}, [source], path, path)
                self.values.update(dict.fromkeys(readers, added) if added is not None else {})
        self.skipped.update(uses.plumbing)
        for reader, why in uses.unsupported:
            self._report(reader, f"the output of {_call_name(self.root, node)}", why)
            self.skipped.update(_indexed_from(reader))  # c[-1] of an unsupported c is the same gap

    def _report(self, node: torch.fx.Node, call: str, reason: str) -> None:
        self.unmapped.append(UnmappedCall(call, location(node), reason))

    def _add_input(self, node: torch.fx.Node) -> None:
        if any(n.block == "Input" for n in self.graph.nodes.values()):
            self._report(node, f"argument {node.target}", "only one forward() input is imported")
            return
        node_id = self.graph.add_node(
            "Input", label=str(node.target), params={"shape": self.input_shape[1:], "dtype": self.dtype}
        ).id
        self.values[node] = node_id

    def _map(self, node: torch.fx.Node) -> tuple[str, dict[str, Any], list[torch.fx.Node]]:
        """(block type, parameters, tensor inputs in port order) for one call, or Unmapped."""
        if node.op == "call_module":
            return self._map_module(node)
        target = node.target
        tensors = [a for a in flat_args(node) if isinstance(a, torch.fx.Node) and shape(a) is not None]
        if target in MERGES:
            return self._map_merge(node, MERGES[target])
        if target is torch.cat:
            return self._map_concat(node)
        if target in RESHAPES:
            return "Reshape", {"shape": self._reshaped(node)}, tensors[:1]
        if target in PERMUTES:
            return "Permute", {"dims": self._permutation(node)}, tensors[:1]
        if target in TRANSPOSES:
            return "Permute", {"dims": self._transposition(node)}, tensors[:1]
        if target in REDUCTIONS:
            return REDUCTIONS[target], self._reduction(node), tensors[:1]
        if target == "expand":
            return self._map_expand(node)
        if target in (torch.squeeze, "squeeze"):
            dim = argument(node, 1, "dim")
            if not isinstance(dim, int):
                raise Unmapped("it squeezes every size-1 dimension (the batch too, when it is 1): give it a dim")
            return "Squeeze", {"dim": dim}, tensors[:1]
        if target is F.pad:
            value = argument(node, 3, "value")
            params = {"padding": tuple(argument(node, 1, "pad")), "mode": argument(node, 2, "mode", "constant")}
            return "Pad", {**params, "value": float(value or 0.0)}, tensors[:1]
        if callable(target) and function_name(target) == STOCHASTIC_DEPTH:
            p, mode = argument(node, 1, "p"), argument(node, 2, "mode")
            return "StochasticDepth", {"p": p, "mode": mode}, tensors[:1]
        function = FUNCTIONS.get(target)
        if function is None:
            raise Unmapped("no netbuilder block does this")
        return function.block, bind(function, node), tensors[:1]

    def _map_module(self, node: torch.fx.Node) -> tuple[str, dict[str, Any], list[torch.fx.Node]]:
        block, params = block_for(self.root.get_submodule(str(node.target)))
        if shape(node) is None:
            raise Unmapped(f"it returns a tuple here, while the {block} block gives one tensor")
        if block == "TransformerEncoderLayer":
            return block, params, self._encoder_layer_inputs(node)
        if block == "TokenPool":  # the sequence and its token indices
            return block, params, list(node.args[:2])
        return block, params, list(node.args[:1])

    def _encoder_layer_inputs(self, node: torch.fx.Node) -> list[torch.fx.Node]:
        """The sequence, and the token indices of a padding mask written `tokens == 0`; any other mask is
        refused (the block would silently attend to every position)."""
        tokens, extra = split_padding_mask(node, "src_key_padding_mask")
        if extra:
            raise Unmapped(
                "a mask is passed to it; the block attends to every position, or leaves out the padding written "
                "`src_key_padding_mask=tokens == 0`"
            )
        return [node.args[0], *([tokens] if tokens is not None else [])]

    def _map_merge(self, node: torch.fx.Node, block: str) -> tuple[str, dict[str, Any], list[torch.fx.Node]]:
        operands = list(node.args[:2])
        if node.kwargs.get("alpha", 1) != 1:
            raise Unmapped("alpha is not 1")
        if not all(isinstance(a, torch.fx.Node) and shape(a) is not None for a in operands):
            raise Unmapped(f"{block} joins tensors; here one operand is a number")
        return block, {"inputs": 2}, operands

    def _map_concat(self, node: torch.fx.Node) -> tuple[str, dict[str, Any], list[torch.fx.Node]]:
        parts = list(node.args[0])
        dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim", 0)
        rank = len(shape(node))
        return "Concat", {"inputs": len(parts), "dim": dim % rank}, parts

    def _reduction(self, node: torch.fx.Node) -> dict[str, Any]:
        """The `dim` and `keepdim` of a mean, sum, amax or max over dimensions after the batch."""
        dim = argument(node, 1, "dim")
        keepdim = argument(node, 2, "keepdim", False)
        dims = tuple(dim) if isinstance(dim, tuple | list) else (dim,)
        if dim is None or not dims:
            raise Unmapped("it reduces over every dimension, the batch too")
        if not all(isinstance(d, int) for d in dims):
            raise Unmapped("its dim is computed in forward(), not a constant")
        if any(d % len(shape(node.args[0])) == 0 for d in dims):
            raise Unmapped("it reduces over the batch dimension")
        if node.kwargs.get("dtype") is not None:
            raise Unmapped("the block has no dtype")
        return {"dim": dims, "keepdim": bool(keepdim)}

    def _map_expand(self, node: torch.fx.Node) -> tuple[str, dict[str, Any], list[torch.fx.Node]]:
        """`token.expand(x.shape[0], -1, -1)`: the Expand block, taking the batch size of x."""
        x = node.args[0]
        sizes = list(node.args[1:])
        if len(sizes) == 1 and isinstance(sizes[0], tuple | list):
            sizes = list(sizes[0])
        like = batch_of(sizes[0]) if sizes else None
        if like is None and sizes and sizes[0] == -1 and shape(x) is not None:
            like = x  # a batched tensor expanded along other dimensions keeps its own batch
        if like is None or shape(like) is None:
            raise Unmapped("its first size is not the batch size of a tensor (x.shape[0] or x.size(0))")
        rest = sizes[1:]
        if not all(isinstance(s, int) for s in rest):
            raise Unmapped("a size after the first is computed in forward(), not a constant")
        return "Expand", {"sizes": None if all(s == -1 for s in rest) else tuple(rest)}, [x, like]

    def _reshaped(self, node: torch.fx.Node) -> tuple[int, ...]:
        before, after = shape(node.args[0]), shape(node)
        if after[0] != before[0]:
            raise Unmapped(f"it changes the batch dimension ({before} -> {after})")
        return after[1:]

    def _permutation(self, node: torch.fx.Node) -> tuple[int, ...]:
        dims = node.args[1:] if len(node.args) > 2 else node.args[1] if len(node.args) > 1 else node.kwargs["dims"]
        rank = len(shape(node))
        return tuple(int(d) % rank for d in (dims if isinstance(dims, tuple | list) else (dims,)))

    def _transposition(self, node: torch.fx.Node) -> tuple[int, ...]:
        rank = len(shape(node))
        a, b = (int(d) % rank for d in node.args[1:3])
        dims = list(range(rank))
        dims[a], dims[b] = dims[b], dims[a]
        return tuple(dims)


def _renamed(path: str, name: str) -> str:
    """`layer1.0.getitem` -> `layer1.0.slice`: the same submodule, the node's own name."""
    scope, _, _ = path.rpartition(".")
    return f"{scope}.{name}" if scope else name


def _flat_tensors(node: torch.fx.Node) -> list[torch.fx.Node]:
    return [a for a in flat_args(node) if isinstance(a, torch.fx.Node) and shape(a) is not None]


def _reads_values(user: torch.fx.Node) -> bool:
    """`result.values` or `result[0]` of a (values, indices) pair."""
    return (user.target is getattr and user.args[1] == "values") or (
        user.target is operator.getitem and user.args[1] == 0
    )


def _is_buffer(root: nn.Module, target: str) -> bool:
    owner, _, name = target.rpartition(".")
    return name in dict(root.get_submodule(owner).named_buffers(recurse=False))


def _initialised_as(tensor: torch.Tensor) -> dict[str, Any]:
    """A Parameter block's settings that start it as `tensor` starts (the weights, when given, replace it):
    zeros, ones or one constant as they are; otherwise a normal draw of the same spread."""
    values = tensor.detach()
    first = float(values.flatten()[0]) if values.numel() else 0.0
    if bool((values == first).all()):
        init = {0.0: {"init": "zeros"}, 1.0: {"init": "ones"}}.get(first, {"init": "constant", "value": first})
    else:
        spread = float(values.float().std()) if values.numel() > 1 else 0.0
        init = {"init": "normal", "std": float(f"{spread:.2g}")}
    return {"shape": tuple(values.shape), **init}


def _indexed_from(node: torch.fx.Node) -> set[torch.fx.Node]:
    """`node` and every `node[...]`, `node[...][...]` below it."""
    found = {node}
    for user in node.users:
        if user.target is operator.getitem:
            found |= _indexed_from(user)
    return found


def _call_name(root: nn.Module, node: torch.fx.Node) -> str:
    if node.op == "call_module":
        cls = type(root.get_submodule(str(node.target)))
        return (
            f"nn.{cls.__name__}" if getattr(nn, cls.__name__, None) is cls else f"{cls.__module__}.{cls.__qualname__}"
        )
    if node.op == "call_method":
        return f"Tensor.{node.target}"
    if node.target is operator.getitem:
        return "indexing (value[...])"
    return function_name(node.target)


# Where a person finds a function, in the order they would look: torch.clamp, not the C class that holds it.
_PUBLIC = (("torch", torch), ("torch.nn.functional", F), ("operator", operator))


def function_name(function: Any) -> str:
    """The name a person calls `function` by: torch.clamp, torch.nn.functional.layer_norm, operator.add; other
    functions by their module and qualified name (torchvision.ops.stochastic_depth.stochastic_depth)."""
    name = getattr(function, "__name__", None)
    for prefix, namespace in _PUBLIC:
        if name and getattr(namespace, name, None) is function:
            return f"{prefix}.{name}"
    module = getattr(function, "__module__", None) or ""
    qualified = getattr(function, "__qualname__", None) or name or str(function)
    return f"{module}.{qualified}" if module else qualified


def _output_port(graph: Graph, node_id: str) -> str:
    return graph.spec(node_id).outputs[0].name

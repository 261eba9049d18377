"""How much memory a network needs: its parameter count and bytes, and an estimate of what training it takes,
from the analysis alone (no torch, no machine).

A network whose parameters alone exceed what any machine has (`ANY_MACHINE_BYTES`) is an error on the layer
holding most of them, so nothing is generated, exported or trained from it: a 10^12-parameter Embedding would
otherwise check clean and then die allocating 4 TB. Whether a smaller network fits *this* machine is asked
where the machine is known (netbuilder.runtime.machine_memory), with the figures given here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from netbuilder.analysis.diagnostics import ERROR, Diagnostic
from netbuilder.analysis.node_check import NodeResult
from netbuilder.graph import Graph

BYTES_PER_VALUE = 4  # float32: the parameters' type, and the activations' in fp32 training
ANY_MACHINE_BYTES = 2**40
"""1 TiB of parameters: more memory than any one machine a person trains on has (the largest GPUs hold 0.2 TiB,
large servers 2-4 TiB of RAM, which still could not train it: gradients and optimizer state triple it)."""


@dataclass(frozen=True)
class ModelSize:
    """A network's size: its parameter count, the node holding most of them, and the values its layers output
    per sample (what backpropagation keeps for each sample of a batch)."""

    parameters: int
    largest_node: str | None
    largest_parameters: int
    activations_per_sample: int

    @property
    def weight_bytes(self) -> int:
        """The parameters as float32."""
        return self.parameters * BYTES_PER_VALUE

    def training_bytes(self, batch_size: int, optimizer_state: int = 2) -> int:
        """About what training takes: weights, their gradients and the optimizer's state per parameter
        (`optimizer_state` values each: its block's state_per_parameter), and every layer's output for a batch
        (kept for the backward pass)."""
        copies = 2 + optimizer_state
        return self.weight_bytes * copies + self.activations_per_sample * batch_size * BYTES_PER_VALUE


def model_size(results: Mapping[str, NodeResult], model_nodes: Sequence[str]) -> ModelSize:
    """The size of the network made of `model_nodes`, from their analysed counts and output shapes."""
    parameters, largest_node, largest = _parameters(results, model_nodes)
    activations = sum(_activations(results[node_id]) for node_id in model_nodes)
    return ModelSize(parameters, largest_node, largest, activations)


def _activations(result: NodeResult) -> int:
    """The values a node keeps per sample for the backward pass: its outputs, or for a composite instance
    every output made inside it (in each copy of a repeated one)."""
    if result.copies is not None:
        return sum(_activations(copy) for copy in result.copies)
    if result.inner is not None:
        return sum(_activations(inner) for inner in result.inner.values())
    # a learned tensor (Parameter) is one for the whole batch, and counted with the weights
    return sum(output.numel_per_sample() for output in result.outputs.values() if output.batched)


def size_diagnostics(graph: Graph, results: Mapping[str, NodeResult], model_nodes: Sequence[str]) -> list[Diagnostic]:
    """An error on the node holding most parameters when the parameters alone exceed any machine's memory.
    Counts parameters only (every analysis runs it; the activations are summed when an estimate is asked)."""
    parameters, largest_node, largest = _parameters(results, model_nodes)
    if parameters * BYTES_PER_VALUE <= ANY_MACHINE_BYTES or largest_node is None:
        return []
    node = graph.nodes[largest_node]
    message = (
        f"the network has {parameters:,} parameters ({format_bytes(parameters * BYTES_PER_VALUE)} as float32), "
        f"more than any machine's memory ({format_bytes(ANY_MACHINE_BYTES)}); this {node.block} holds "
        f"{largest:,} of them: make its sizes smaller"
    )
    return [Diagnostic(largest_node, ERROR, "model-size", message)]


def _parameters(results: Mapping[str, NodeResult], model_nodes: Sequence[str]) -> tuple[int, str | None, int]:
    """(total parameters, the node holding most, its count)."""
    counts = [(results[node_id].params, node_id) for node_id in model_nodes]
    largest, largest_node = max(counts, default=(0, None))
    return sum(count for count, _ in counts), largest_node if largest else None, largest


def format_bytes(count: int) -> str:
    """'4 TB', '512 MB', '12.3 kB': a byte count in decimal units, as a person reads it."""
    units = ("bytes", "kB", "MB", "GB", "TB")
    value, unit = float(count), 0
    while value >= 1000 and unit < len(units) - 1:
        value, unit = value / 1000, unit + 1
    return f"{count} bytes" if unit == 0 else f"{value:.3g} {units[unit]}"

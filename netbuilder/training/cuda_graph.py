"""The training step as a CUDA graph: captured once for each batch size, then replayed for every batch.

Small networks on a GPU are bound by launching kernels, not by arithmetic: a step of the digits CNN is
about a hundred launches (forward, backward and the optimizer), 1.3 ms of Python and driver work for
microseconds of compute. A CUDA graph launches them all at once. What a captured graph needs, and how it
is given it here:

- Static inputs: each batch is copied into buffers that the graph reads, in the memory format the model
  wants (channels_last for a convolutional network on CUDA, so the copy is also the change of layout).
- One graph per batch size: the full batches and the partial last one of an epoch each get their own graph
  (the last from its second epoch on; its first run is its warm-up). Both graphs share one memory pool, as
  they never run at once, so the second costs little memory. Each replay computes what the eager step would.
- Optimizer state on the device: Adam, AdamW and RMSprop are switched to `capturable`, so their step
  counters live on the GPU; SGD keeps no counter. Other optimizers run eagerly.
- Hyperparameters are baked into the graphs as constants, so a change of learning rate (or momentum) made
  by a schedule between epochs captures the step again; a schedule that changes them every step
  (OneCycleLR) runs eagerly instead.
- The epoch's running sums (loss and right answers) are added inside the step, in place, so those kernels
  replay with the graph; the trainer keeps those two tensors for the whole run (a checkpoint is copied into them).
- Random numbers: dropout draws from CUDA's default generator, and train.py's augment() and mix() (inside the
  step, so that their hundred-odd small kernels replay with it) from the run's own augmentation generator, which is
  registered with each graph. Each replay advances a registered generator as the eager step would, so the graphed
  run draws exactly the numbers the eager one (and train.py) draws, and a checkpoint saves where it stands.
- Warm-up: the first steps of each size run eagerly on a side stream, as PyTorch's documentation asks, and
  they are real training steps (nothing is run twice). A compiled step compiles there, outside the capture.

If capture fails (an operation that syncs with the host, for instance), the step stays eager for the rest of
the run, and `reason` says why; running out of memory while capturing is not such a failure, and ends the run.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from netbuilder.training.out_of_memory import is_out_of_memory

WARMUP_STEPS = 3  # eager steps before the first capture; a later batch size needs one

StepFunction = Callable[[torch.Tensor, torch.Tensor], Any]  # whatever tensors it returns: a loss, (loss, output)


def why_not_graphed(optimizer: torch.optim.Optimizer, schedule: str, precision: torch.dtype | None) -> str:
    """'' when this run's step can be captured as a CUDA graph, else the reason it cannot."""
    if precision == torch.float16:
        return "fp16 loss scaling checks for overflow on the host"
    if schedule == "OneCycleLR":
        return "OneCycleLR changes the learning rate every step"
    if not isinstance(optimizer, torch.optim.SGD) and "capturable" not in optimizer.defaults:
        return f"{type(optimizer).__name__} keeps its step count on the host"
    return ""


def capture_stream() -> torch.cuda.Stream:
    """The one side stream on which this process warms up and captures every graph on the current GPU (the
    step's, validation's, Find batch size's tries). cuBLAS keeps a workspace for each stream it computes on (32 MiB
    on a Hopper GPU) as long as the process lives, so a stream of its own for each run, or for each try of a batch
    size, would hold more and more of the GPU, up to a gigabyte."""
    return _side_stream(torch.cuda.current_device())


@functools.cache
def _side_stream(device: int) -> torch.cuda.Stream:
    return torch.cuda.Stream(device)


@contextlib.contextmanager
def capturing(
    graph: torch.cuda.CUDAGraph, pool, stream: torch.cuda.Stream, generators: Sequence[torch.Generator] = ()
) -> Iterator[None]:
    """`torch.cuda.graph(graph, pool, stream)` with `generators` (CUDA generators of the run's own) registered
    with the graph besides CUDA's default ones, leaving every one of them usable when the capture fails.

    A capture puts each generator registered with the graph in capture mode until the capture ends; when ending
    it raises (any capture that fails does), torch never takes them out of that mode, and every random operation
    of the process afterwards (a dropout in the eager step, in the next run of the window too) fails with "Offset
    increment outside graph capture". So a failed capture gives each generator back a state as it was before the
    capture: the same seed and offset, outside capture mode."""
    for generator in generators:
        graph.register_generator_state(generator)
    generators = [*torch.cuda.default_generators, *generators]
    before = [generator.clone_state() for generator in generators]
    try:
        with torch.cuda.graph(graph, pool=pool, stream=stream):
            yield
    except BaseException:
        for generator, state in zip(generators, before, strict=True):
            generator.graphsafe_set_state(state)
        raise


def make_capturable(optimizer: torch.optim.Optimizer) -> None:
    """Keep the optimizer's step counters on the device, so that a graph can advance them (counters loaded
    from a checkpoint are moved there too)."""
    for group in optimizer.param_groups:
        if "capturable" not in group:
            continue
        group["capturable"] = True
        for param in group["params"]:
            state = optimizer.state.get(param, {})
            if isinstance(state.get("step"), torch.Tensor):
                state["step"] = state["step"].to(param.device, dtype=torch.float32)


def _hyperparameters(optimizer: torch.optim.Optimizer) -> tuple:
    return tuple(
        tuple((key, value) for key, value in group.items() if key != "params" and not isinstance(value, torch.Tensor))
        for group in optimizer.param_groups
    )


@dataclass
class _Captured:
    """One batch size's graph: the buffers it reads and writes, and the gradients it leaves in `param.grad`."""

    graph: torch.cuda.CUDAGraph
    inputs: tuple[torch.Tensor, torch.Tensor]
    outputs: Any  # what the step returned as it was captured: tensors the graph writes
    grads: list[torch.Tensor | None]


class GraphedStep:
    """Runs `step(batch_x, batch_y)` (which returns tensors: the loss, or the loss and the output) eagerly for the
    first steps of each batch size, then as that size's CUDA graph. The returned tensors are the graph's own
    buffers: read or copy them before the next step. `memory_format` is the layout of the graph's input buffer for
    4-d batches (images); `generators` are the CUDA generators of the run's own that the step draws from
    (registered with each graph)."""

    def __init__(
        self,
        step: StepFunction,
        optimizer: torch.optim.Optimizer,
        batch_size: int,
        memory_format: torch.memory_format = torch.contiguous_format,
        generators: Sequence[torch.Generator] = (),
    ) -> None:
        self.step = step
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.memory_format = memory_format
        self.generators = tuple(generators)
        self.graphs: dict[int, _Captured] = {}  # by batch size
        self.captured_with: tuple | None = None
        self.steps_seen = 0
        self.captures = 0
        self.reason = ""  # why the step fell back to eager, if it did
        self._seen: dict[int, int] = {}  # steps run of each batch size
        self._pool = None  # the graphs' shared memory pool
        self._grads_of: _Captured | None = None  # whose gradient buffers param.grad holds
        self._params = [p for group in optimizer.param_groups for p in group["params"]]
        self._side = capture_stream()

    def __call__(self, batch_x: torch.Tensor, batch_y: torch.Tensor) -> Any:
        self.steps_seen += 1
        size = len(batch_x)
        self._seen[size] = seen = self._seen.get(size, 0) + 1
        if self.reason:
            return self.step(batch_x, batch_y)
        if seen <= (WARMUP_STEPS if size == self.batch_size else 1):
            return self._on_side_stream(batch_x, batch_y)
        if self.captured_with != _hyperparameters(self.optimizer):
            self._drop_graphs()  # the constants baked into them are out of date
        captured = self.graphs.get(size)
        if captured is None:
            try:
                captured = self._capture(batch_x, batch_y)
            except RuntimeError as err:  # cannot be captured: stay eager, and say why
                if is_out_of_memory(err):  # not for want of memory, though: the run ends saying what to lower
                    self._drop_graphs()
                    raise
                self.reason = f"capture failed: {str(err).splitlines()[0]}"
                self._drop_graphs()
                torch.cuda.synchronize()
                return self.step(batch_x, batch_y)
        static_x, static_y = captured.inputs
        static_x.copy_(batch_x)
        static_y.copy_(batch_y)
        captured.graph.replay()
        if self._grads_of is not captured:  # param.grad shows this step's gradients (gradient statistics read them)
            for param, grad in zip(self._params, captured.grads, strict=True):
                param.grad = grad
            self._grads_of = captured
        return captured.outputs

    @property
    def graph(self) -> torch.cuda.CUDAGraph | None:
        """The full batches' graph, once captured."""
        captured = self.graphs.get(self.batch_size)
        return captured.graph if captured else None

    def _on_side_stream(self, batch_x: torch.Tensor, batch_y: torch.Tensor) -> Any:
        current = torch.cuda.current_stream()
        self._side.wait_stream(current)
        with torch.cuda.stream(self._side):
            result = self.step(batch_x, batch_y)
        current.wait_stream(self._side)
        return result

    def _capture(self, batch_x: torch.Tensor, batch_y: torch.Tensor) -> _Captured:
        """Capture one step reading from static copies of this batch (capturing does not run it)."""
        layout = self.memory_format if batch_x.dim() == 4 else torch.contiguous_format
        inputs = (batch_x.clone(memory_format=layout), batch_y.clone())
        graph = torch.cuda.CUDAGraph()
        self.optimizer.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        with capturing(graph, self._pool, self._side, self.generators):
            outputs = self.step(*inputs)
        self._pool = graph.pool()
        captured = _Captured(graph, inputs, outputs, [p.grad for p in self._params])
        self.graphs[len(batch_x)] = captured
        self._grads_of = captured
        self.captured_with = _hyperparameters(self.optimizer)
        self.captures += 1
        return captured

    def _drop_graphs(self) -> None:
        """Forget every graph, so that their memory goes back before the next capture."""
        self.graphs.clear()
        self._grads_of = None
        self._pool = None

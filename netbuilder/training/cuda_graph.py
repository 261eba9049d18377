"""The training step as a CUDA graph: captured once, then replayed for every full batch.

Small networks on a GPU are bound by launching kernels, not by arithmetic: a step of the digits CNN is
about a hundred launches (forward, backward and the optimizer), 1.3 ms of Python and driver work for
microseconds of compute. A CUDA graph launches them all at once. What a captured graph needs, and how it
is given it here:

- Static inputs: each batch is copied into buffers that the graph reads (a partial last batch runs eagerly).
- Optimizer state on the device: Adam, AdamW and RMSprop are switched to `capturable`, so their step
  counters live on the GPU; SGD keeps no counter. Other optimizers run eagerly.
- Hyperparameters are baked into the graph as constants, so a change of learning rate (or momentum) made
  by a schedule between epochs captures the step again; a schedule that changes them every step
  (OneCycleLR) runs eagerly instead.
- Warm-up: the first steps run eagerly on a side stream, as PyTorch's documentation asks, and they are real
  training steps (nothing is run twice).

If capture fails (an operation that syncs with the host, for instance), the step stays eager for the rest of
the run, and `reason` says why; running out of memory while capturing is not such a failure, and ends the run.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from netbuilder.training.out_of_memory import is_out_of_memory

WARMUP_STEPS = 3

StepFunction = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def why_not_graphed(optimizer: torch.optim.Optimizer, schedule: str, precision: torch.dtype | None) -> str:
    """'' when this run's step can be captured as a CUDA graph, else the reason it cannot."""
    if precision == torch.float16:
        return "fp16 loss scaling checks for overflow on the host"
    if schedule == "OneCycleLR":
        return "OneCycleLR changes the learning rate every step"
    if not isinstance(optimizer, torch.optim.SGD) and "capturable" not in optimizer.defaults:
        return f"{type(optimizer).__name__} keeps its step count on the host"
    return ""


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


class GraphedStep:
    """Runs `step(batch_x, batch_y) -> (loss, output)` eagerly for the first steps, then as a CUDA graph for
    every batch of `batch_size`. The returned tensors are the graph's own buffers: read or copy them before
    the next step."""

    def __init__(self, step: StepFunction, optimizer: torch.optim.Optimizer, batch_size: int) -> None:
        self.step = step
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.graph: torch.cuda.CUDAGraph | None = None
        self.captured_with: tuple | None = None
        self.steps_seen = 0
        self.captures = 0
        self.reason = ""  # why the step fell back to eager, if it did
        self._static: tuple[torch.Tensor, torch.Tensor] | None = None
        self._outputs: tuple[torch.Tensor, torch.Tensor] | None = None
        self._side = torch.cuda.Stream()

    def __call__(self, batch_x: torch.Tensor, batch_y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self.steps_seen += 1
        if self.reason or len(batch_x) != self.batch_size:
            return self.step(batch_x, batch_y)
        if self.steps_seen <= WARMUP_STEPS:
            return self._on_side_stream(batch_x, batch_y)
        if self.graph is None or self.captured_with != _hyperparameters(self.optimizer):
            try:
                self._capture(batch_x, batch_y)
            except RuntimeError as err:  # cannot be captured: stay eager, and say why
                if is_out_of_memory(err):  # not for want of memory, though: the run ends saying what to lower
                    self.graph = None
                    raise
                self.reason = f"capture failed: {str(err).splitlines()[0]}"
                self.graph = None
                torch.cuda.synchronize()
                return self.step(batch_x, batch_y)
        static_x, static_y = self._static
        static_x.copy_(batch_x)
        static_y.copy_(batch_y)
        self.graph.replay()
        return self._outputs

    def _on_side_stream(self, batch_x: torch.Tensor, batch_y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        current = torch.cuda.current_stream()
        self._side.wait_stream(current)
        with torch.cuda.stream(self._side):
            result = self.step(batch_x, batch_y)
        current.wait_stream(self._side)
        return result

    def _capture(self, batch_x: torch.Tensor, batch_y: torch.Tensor) -> None:
        """Capture one step reading from static copies of this batch (capturing does not run it)."""
        if self._static is None:
            self._static = (batch_x.clone(), batch_y.clone())
        self.graph = None  # the old graph's memory goes back before the new capture
        graph = torch.cuda.CUDAGraph()
        self.optimizer.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        with torch.cuda.graph(graph, stream=self._side):
            self._outputs = self.step(*self._static)
        self.graph = graph
        self.captured_with = _hyperparameters(self.optimizer)
        self.captures += 1

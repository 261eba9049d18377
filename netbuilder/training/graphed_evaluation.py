"""Validation as CUDA graphs: train.py's `evaluate_batch` captured once for the full batch size and once for the
partial last one, then replayed for every batch of every validation of the run.

Evaluated eagerly, validation is bound by launching kernels as the eager step is (16 % of a ResNet-18/CIFAR run
on an H200). The graphs compute what train.py's `evaluate` computes, with its own pieces: the sums come from
`evaluation_sums`, each replay adds one batch to them in place, and `evaluation_metrics` reads them once. What a
graph needs: each batch is copied into static buffers laid out as the model's weights are; the model is in eval
mode when captured (the graph keeps that mode's kernels); the weights are the same tensors all run long, updated
in place, so nothing is captured again from one epoch to the next, unless the model is laid out anew (`drop`).
For values, each replay's rows of outputs and targets are the graph's own buffers and are copied before the next.

A run whose step is compiled (compiled_step.py) validates on the model compiled too (`use_compiled`), for the full
batches (the last takes the plain model, as the step's does): its graphs replay inductor's kernels, which on a
ResNet-18/CIFAR took validation from 26.4 ms (the plain model, laid out as the compiled run lays it out) to 11.9 ms
on an H200, for 5 s of compiling the first time (cached as the step's is). Should compiling fail, validation goes
on with the plain model's graphs and says why.

Only for data in memory on CUDA in one process. If capture fails, validation stays eager for the rest of the run
and `reason` says why; running out of memory while capturing is not such a failure, and ends the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import torch
from torch import nn

from netbuilder.runtime.weights import first_line
from netbuilder.training.cuda_graph import capture_stream, capturing
from netbuilder.training.out_of_memory import is_out_of_memory


@dataclass
class _Captured:
    """One batch size's graph: the buffers it reads, and what evaluate_batch returned (values: the rows)."""

    graph: torch.cuda.CUDAGraph
    inputs: tuple[torch.Tensor, torch.Tensor]
    rows: tuple[torch.Tensor, torch.Tensor] | None


class GraphedEvaluation:
    """`evaluate(x, y)`: the metrics train.py's `evaluate(model, criterion, x, y, batch_size, *amp)` gives, each
    batch a replay of its size's graph; with `graphed` False (the CPU, several processes) that evaluate itself.
    `amp` is () or (the autocast type,) as the engine passes it; `memory_format` the layout of the input buffers
    for 4-d batches (images), that of the weights (`lay_out` changes it)."""

    def __init__(
        self,
        script: ModuleType,
        model: nn.Module,
        criterion: nn.Module,
        batch_size: int,
        amp: tuple = (),
        memory_format: torch.memory_format = torch.contiguous_format,
        *,
        graphed: bool = True,
    ) -> None:
        self.script = script
        self.model = model
        self.criterion = criterion
        self.batch_size = batch_size
        self.amp = amp
        self.memory_format = memory_format
        self.graphs: dict[int, _Captured] = {}  # by batch size
        self.compiled: nn.Module | None = None  # the model compiled, whose graphs replace the plain model's
        self.note: Callable[[str], None] = lambda text: None  # hears what compiling takes, or why it failed
        self.captures = 0
        self.reason = "" if graphed else "not on CUDA with the data in memory"  # why validation is eager, if it is
        self._sums: dict[str, torch.Tensor] | None = None  # what every graph adds to
        self._pool: Any = None  # the graphs' shared memory pool

    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, Any]:
        if not self.reason:
            try:
                return self._replayed(x, y)
            except RuntimeError as err:  # cannot be captured: stay eager, and say why
                self.drop()
                if is_out_of_memory(err):  # not for want of memory, though: the run ends saying what to lower
                    raise
                if self.compiled is not None:  # compiling failed (dynamo's errors are RuntimeErrors): uncompiled
                    self.note(
                        f"compiling validation failed, so it runs uncompiled: {type(err).__name__}: {first_line(err)}"
                    )
                    self.compiled = None
                    return self.evaluate(x, y)
                self.reason = f"capture failed: {str(err).splitlines()[0]}"
                torch.cuda.synchronize()
        return self.script.evaluate(self.model, self.criterion, x, y, self.batch_size, *self.amp)

    def use_compiled(self, compiled: nn.Module | None, note: Callable[[str], None] = lambda text: None) -> None:
        """Replay graphs of `compiled`, the run's model compiled by torch.compile, for the full batches (None: the
        plain model's again), compiled at the next validation; `note` hears how long that took, or why it failed."""
        self.compiled, self.note = compiled, note
        self.drop()

    def lay_out(self, layout: torch.memory_format) -> None:
        """The model's weights were laid out anew, in `layout`: the graphs read the old tensors, so forget them."""
        self.memory_format = layout
        self.drop()

    def drop(self) -> None:
        """Forget every graph, so that their memory goes back before the next capture."""
        self.graphs.clear()
        self._sums = None
        self._pool = None

    def _model_for(self, size: int) -> nn.Module:
        """The model the graph of batches of `size` replays: compiled for the full batches (not `compiled or
        model`: a compiled module's truth is its len(), which most networks do not have), the plain model for
        the last one, as the step's (compiled_step.py)."""
        return self.compiled if self.compiled is not None and size == self.batch_size else self.model

    def _replayed(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, Any]:
        self.model.eval()  # the compiled model's modules too: they are the same
        starts = range(0, len(x), self.batch_size)
        sizes = {min(self.batch_size, len(x) - start) for start in starts} - self.graphs.keys()
        for size in sorted(sizes, reverse=True):  # the full batches first: the last one's graph reuses their pool
            self._capture(x[:size], y[:size])
        for total in self._sums.values():
            total.zero_()
        rows = []
        for start in starts:
            batch_x, batch_y = x[start : start + self.batch_size], y[start : start + self.batch_size]
            captured = self.graphs[len(batch_x)]
            static_x, static_y = captured.inputs
            static_x.copy_(batch_x)
            static_y.copy_(batch_y)
            captured.graph.replay()
            if captured.rows is not None:  # the graph's own buffers, overwritten by the next replay
                rows.append(tuple(row.clone() for row in captured.rows))
        return self.script.evaluation_metrics(self._sums, len(x), *([rows] if rows else []))

    def _capture(self, batch_x: torch.Tensor, batch_y: torch.Tensor) -> None:
        """Capture evaluate_batch reading static copies of this batch, after one eager run of it on a side stream
        (as PyTorch's documentation asks: lazy initialisation and cuDNN's choices happen outside the capture; a
        compiled model compiles there)."""
        layout = self.memory_format if batch_x.dim() == 4 else torch.contiguous_format
        inputs = (batch_x.clone(memory_format=layout), batch_y.clone())
        if self._sums is None:
            self._sums = self.script.evaluation_sums(batch_x.device)
        model = self._model_for(len(batch_x))
        arguments = (model, self.criterion, *inputs, self._sums, *self.amp)
        side = capture_stream()  # where warm-up and capture run
        torch.cuda.synchronize()
        compiling = model is self.compiled
        if compiling:
            self.note("compiling validation…")
        started = time.perf_counter()
        with torch.cuda.stream(side):
            self.script.evaluate_batch(*arguments)  # its sums are zeroed before the replays
        torch.cuda.synchronize()
        if compiling:
            self.note(f"compiled validation in {time.perf_counter() - started:.1f} s")
        graph = torch.cuda.CUDAGraph()
        with capturing(graph, self._pool, side):
            rows = self.script.evaluate_batch(*arguments)
        self._pool = graph.pool()
        self.graphs[len(batch_x)] = _Captured(graph, inputs, rows)
        self.captures += 1

"""Find the largest batch that trains on the run's device (the window's Find batch size, `netbuilder train
--batch-size auto`).

On a CUDA GPU each size is tried for real: the project's own network, data, optimizer and precision in a Trainer,
and at that size train.py's own `train_step` (as the engine runs it: captured and replayed as a CUDA graph where the
run would be, the partial last batch's graph beside it) followed by train.py's `evaluate` over the validation part
at that size (one batch of it for a streamed set), since validation needs memory too. A size fits when that runs
without torch.cuda.OutOfMemoryError; what a try held is given back before the next. The rule (`search_sizes`)
doubles from FIRST_SIZE up to the training set's size (at most MAX_BATCH_SIZE), then bisects between the last size
that fit and the first that did not.

The size chosen keeps HEADROOM below the largest that fit, rounded down to a multiple of MULTIPLE: a real run
holds for hours what the search held for a few steps, and the allocator fragments over them; a step compiled
by torch.compile keeps buffers of its own; and the tries were made in this process, whose other memory (the
window's predictions, a second run) can grow. Ten percent is a margin, not a measurement.

On the CPU nothing runs out of memory cleanly (the system swaps, then ends the process), so nothing is tried:
the size is the largest whose estimated training memory (the analysis's estimate: weights, gradients, the
optimizer's state and every layer's output for the batch) fits in CPU_SHARE of the memory free now, after the
data has been loaded. And on a CPU a larger batch is hardly faster a sample, while it takes fewer steps an
epoch, so the project's own batch size is kept where it fits: the answer lowers it only where it does not. The
answer says it is an estimate.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from netbuilder.analysis import analyze
from netbuilder.analysis.model_size import format_bytes
from netbuilder.blocks import catalogue
from netbuilder.project import Project
from netbuilder.project.settings import MAX_BATCH_SIZE
from netbuilder.runtime.machine_memory import available_ram_bytes
from netbuilder.training.control import Control
from netbuilder.training.cuda_graph import WARMUP_STEPS, GraphedStep
from netbuilder.training.engine import Trainer
from netbuilder.training.graphed_evaluation import GraphedEvaluation
from netbuilder.training.out_of_memory import is_out_of_memory, release_gpu_memory

FIRST_SIZE = 8  # the doubling starts here
HEADROOM = 0.9  # the size chosen is at most this share of the largest that fit ...
MULTIPLE = 8  # ... rounded down to a multiple of this (tensor cores work in multiples of 8)
BISECT_TO = 32  # the bisection stops once the gap is at most 1/BISECT_TO of the size that fit (~3 %)
CPU_SHARE = 0.5  # on the CPU, the estimate may take this share of the memory free now
EAGER_STEPS = 2  # steps per try without a CUDA graph: the second has the optimizer's state allocated

Fits = Callable[[int], bool]


@dataclass(frozen=True)
class Search:
    """What the rule tried and found: `tried` lists (size, fitted) in order; `largest` is the largest size that
    fit (0: none did), `limit` the largest it would have tried; `stopped` when asked to stop before the end."""

    tried: tuple[tuple[int, bool], ...]
    largest: int
    limit: int
    stopped: bool = False


def search_sizes(fits: Fits, limit: int, *, first: int = FIRST_SIZE, should_stop: Callable[[], bool] = bool) -> Search:
    """The largest size from 1 to `limit` for which `fits(size)` holds, assuming that every size below one that
    fits fits too: `first`, then doubling while sizes fit (the last try is `limit` itself), then halving the gap
    between the largest that fit and the smallest that did not until it is at most 1/BISECT_TO of the former
    (exactly, below BISECT_TO). `should_stop()` is asked before every try."""
    if limit < 1:
        raise ValueError(f"there is no batch size to try below {limit + 1}")
    tried: list[tuple[int, bool]] = []
    fit, failed = 0, None
    size = min(first, limit)
    while failed is None and fit < limit:
        if should_stop():
            return Search(tuple(tried), fit, limit, stopped=True)
        tried.append((size, fits(size)))
        if tried[-1][1]:
            fit, size = size, min(size * 2, limit)
        else:
            failed = size
    while failed is not None and failed - fit > max(1, fit // BISECT_TO):
        if should_stop():
            return Search(tuple(tried), fit, limit, stopped=True)
        size = (fit + failed) // 2
        tried.append((size, fits(size)))
        if tried[-1][1]:
            fit = size
        else:
            failed = size
    return Search(tuple(tried), fit, limit)


def most_tries(limit: int, first: int = FIRST_SIZE) -> int:
    """How many sizes search_sizes tries at most up to `limit`: one for each doubling from `first` to the limit,
    then the bisection's halvings of the gap (down to 1 below `first`, to 1/BISECT_TO of the size that fit above
    it). What progress counts against: the search may end sooner, never later."""
    size, doublings = min(first, limit), 1
    while size < limit:
        size, doublings = min(2 * size, limit), doublings + 1
    halvings = max(math.ceil(math.log2(min(first, limit))), math.ceil(math.log2(BISECT_TO)))
    return doublings + min(halvings, math.ceil(math.log2(limit)))  # no gap is wider than the limit


def with_headroom(largest: int, limit: int) -> int:
    """The batch size to train with when `largest` fit: the limit itself when everything up to it fit (there is
    no larger batch to take), else HEADROOM of it rounded down to a multiple of MULTIPLE (at least 1)."""
    if largest >= limit:
        return limit
    kept = int(largest * HEADROOM)
    return kept - kept % MULTIPLE if kept >= MULTIPLE else max(1, min(kept, largest))


@dataclass(frozen=True)
class BatchSizeFound:
    """The answer: `batch_size` to train with (0 when not even one sample fits), the search behind it, the
    device it was found for, and `estimate`: the words of the CPU's estimate, "" where sizes were tried."""

    batch_size: int
    search: Search
    device: str
    estimate: str = ""

    def summary(self) -> str:
        """One line: "batch size 1,536 fits on cuda (tried 8 … 2,048; the largest that fit, 1,712, less 10 %
        of headroom)"."""
        search = self.search
        if self.batch_size == 0:
            return f"not even a batch of 1 fits on {self.device}: make the network smaller"
        if self.estimate:
            return f"batch size {self.batch_size:,} fits on the CPU by estimate ({self.estimate})"
        sizes = sorted(size for size, _ in search.tried)
        tried = f"tried {sizes[0]:,} … {sizes[-1]:,}" if len(sizes) > 1 else f"tried {sizes[0]:,}"
        if self.batch_size == search.limit:
            why = "every batch up to the training set's size fits"
        else:
            why = f"the largest that fit, {search.largest:,}, less {1 - HEADROOM:.0%} of headroom"
        stopped = ", stopped before the end" if search.stopped else ""
        return f"batch size {self.batch_size:,} fits on {self.device} ({tried}; {why}{stopped})"


def find_batch_size(
    project: Project,
    *,
    device: str | None = None,
    control: Control | None = None,
    on_try: Callable[[int, int, int], None] | None = None,
) -> BatchSizeFound:
    """The largest batch that trains `project` on `device` (its setting unless given), less headroom; see the
    module's docstring for how. `on_try(size, tries so far, most_tries)` is called before each size is tried;
    `control`'s Stop ends the search after the current try, with what it found so far. Raises ValueError (the
    device is not here), ProgramError (the project cannot train) and the errors of a step that fails for another
    reason than memory, as a run would."""
    control = control or Control()
    trainer = Trainer(project, device=device)
    limit = max(1, min(trainer.train_size, MAX_BATCH_SIZE))
    if trainer.device.type != "cuda":
        return _estimate_on_cpu(project, trainer, limit)
    device_name = f"cuda ({torch.cuda.get_device_name(trainer.device)})"
    try:
        search = _tried(TrainingProbe(trainer), limit, control, on_try)
    finally:
        del trainer  # the data, the model and the optimizer's state go back to the GPU
        release_gpu_memory()
    chosen = with_headroom(search.largest, limit) if search.largest else 0
    return BatchSizeFound(chosen, search, device_name)


def _tried(probe: Fits, limit: int, control: Control, on_try: Callable[[int, int, int], None] | None) -> Search:
    """The search with `probe`, saying each size before it is tried, and of how many at most."""
    tries, most = 0, most_tries(limit)

    def fits(size: int) -> bool:
        nonlocal tries
        tries += 1
        if on_try is not None:
            on_try(size, tries, most)
        return probe(size)

    return search_sizes(fits, limit, should_stop=lambda: control.stopped)


class TrainingProbe:
    """`probe(size)`: whether a batch of `size` trains on the trainer's GPU: real steps of the engine's step
    (augmentation and train.py's train_step; as a CUDA graph, warm-up and capture included, where the trainer's
    run would use one, and then the epoch's partial last batch, eagerly and then as its own graph, while the first
    keeps its memory), then validation as the run's at that size. Memory is given back after every try."""

    def __init__(self, trainer: Trainer) -> None:
        self.trainer = trainer

    def __call__(self, size: int) -> bool:
        try:
            self._try(size)
        except Exception as err:
            if not is_out_of_memory(err):
                raise
            fitted = False
        else:
            fitted = True
        release_gpu_memory(self.trainer.optimizer)  # after the except: its traceback held the try's tensors
        return fitted

    def _try(self, size: int) -> None:
        trainer = self.trainer
        batch_x, labels = self._batch(size)

        def step(batch_x: torch.Tensor, batch_y: torch.Tensor) -> Any:  # as the engine's step: augmentation first
            return trainer._train_step(*trainer._augmented(batch_x, batch_y))

        steps, graphed = EAGER_STEPS, trainer.graphed is not None
        if graphed:  # laid out, and drawing, as the run's graphs are
            layout, drawn = trainer.graphed.memory_format, trainer.drawn_in_step
            step, steps = GraphedStep(step, trainer.optimizer, size, layout, drawn), WARMUP_STEPS + 2
        trainer.model.train()
        for _ in range(steps):
            step(batch_x, labels)
        last = trainer.train_size % size
        if graphed and last:  # the epoch's partial last batch: eagerly beside the graph, then (as from the run's
            step(batch_x[:last], labels[:last])  # second epoch on) as a graph of its own, in the same pool
            step(batch_x[:last], labels[:last])
        if trainer.val_size:
            self._evaluate(size)
        if trainer.device.type == "cuda":  # an error of the last kernels is raised here, in this try
            torch.cuda.synchronize(trainer.device)

    def _batch(self, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """`size` training samples as a step gets them (inputs, labels), read as the run reads them (the set
        repeated where it is smaller, which a batch never is here: sizes stop at the training set's)."""
        trainer = self.trainer
        if trainer.streamed:
            order = [i % trainer.train_size for i in range(size)]
            batches = trainer.program.script.batches(trainer.train_part, order, size, str(trainer.device), 0)
            try:
                batch_x, labels = next(batches)
            finally:
                batches.close()
        else:
            index = torch.arange(size, device=trainer.device) % trainer.train_size
            batch_x, labels = trainer.train_x[index], trainer.train_y[index]
        return batch_x, labels

    def _evaluate(self, size: int) -> None:
        """Validation as the run's with training batches of `size` (its batches train.py's evaluation_batch(size)):
        train.py's evaluate over the validation part in memory, as CUDA graphs (the full batches' and the last's,
        their pool beside the step's) where the run's validation is; over one batch of a streamed part."""
        trainer = self.trainer
        script = trainer.program.script
        size = script.evaluation_batch(size)
        if trainer.streamed:
            part = torch.utils.data.Subset(trainer.val_part, [i % trainer.val_size for i in range(size)])
            script.evaluate(trainer.model, trainer.criterion, part, size, str(trainer.device), 0)
        elif trainer.evaluation.reason:  # eager, as the run validates
            script.evaluate(trainer.model, trainer.criterion, trainer.val_x, trainer.val_y, size)
        else:
            run = trainer.evaluation
            graphed = GraphedEvaluation(script, trainer.model, trainer.criterion, size, run.amp, run.memory_format)
            graphed.evaluate(trainer.val_x, trainer.val_y)


def _estimate_on_cpu(project: Project, trainer: Trainer, limit: int) -> BatchSizeFound:
    """The CPU's answer: the project's batch size, or where its estimated training memory does not fit in
    CPU_SHARE of the memory free now, the largest that does (nothing is tried: see the module's docstring)."""
    free = available_ram_bytes()
    if free is None:
        raise ValueError("this system does not say how much memory is free: set the batch size by hand")
    size = analyze(project.graph).size
    state = catalogue.get(trainer.program.task.optimizer).state_per_parameter
    budget = int(free * CPU_SHARE)
    search = search_sizes(lambda batch: size.training_bytes(batch, state) <= budget, limit)
    largest, own = search.largest, project.training.batch_size
    needed = format_bytes(size.training_bytes(max(1, largest), state))
    words = f"about {needed} of the {format_bytes(free)} free"
    if own < largest:  # it fits: a larger one would only take fewer steps an epoch, hardly faster
        words = f"the project's; up to {largest:,} would, {words}, but on a CPU a larger batch is hardly faster"
    return BatchSizeFound(min(own, largest), search, "cpu", estimate=words)

"""One run trained by several processes: what each worker process does (worker_processes.py starts them).

Each process is a Trainer of its own on the same project, seed and data, so every one draws the same permutation;
each takes its contiguous share of every global batch (train.py's `shard`, as the script does under torchrun),
weighs its loss by that share (train.py's `train_step` with its `weight`) and DistributedDataParallel averages
the gradients, so that the steps are those of one process with the whole batch. A batch that train.py augments
or mixes on the device is drawn whole and then shared out, as one process draws it.

After each step one all_reduce carries the step's loss and right answers summed over the processes, and three
flags: stop, pause, and whether rank 0's clock says to report now. Every process therefore stops, pauses,
reports and finds a loss that is no number at the same step, and none waits in a collective for another that
has left. Every process validates on the whole validation part (the same figures on each), so early stopping
and a plateau schedule agree without messages. Only rank 0 writes checkpoints. The step runs eagerly: a CUDA
graph would hold DistributedDataParallel's collectives.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from netbuilder.project import Project
from netbuilder.project.run_events import Listener, Outcome
from netbuilder.training.control import Control
from netbuilder.training.engine import Trainer

STOP, PAUSE, REPORT = 2, 3, 4  # the flags' places in each step's all_reduce, after the loss and right answers
TIMEOUT = datetime.timedelta(minutes=30)  # a collective that waits longer (a paused run does not wait in one)


class SharedControl(Control):
    """Stop and pause seen by every process of a run: the parent sets them, each worker reads them."""

    def __init__(self, context: Any) -> None:  # context: the multiprocessing context that starts the workers
        self._stop = context.Event()
        self._running = context.Event()
        self._running.set()


class _AgreedControl(Control):
    """What the processes agreed on at the last step's all_reduce: stop and pause act at the same step in each."""

    def __init__(self, shared: Control) -> None:
        self.shared = shared
        self.stop_agreed = self.pause_agreed = False

    @property
    def stopped(self) -> bool:
        return self.stop_agreed

    @property
    def paused(self) -> bool:
        return self.pause_agreed

    def wait_while_paused(self) -> float:
        return self.shared.wait_while_paused() if self.pause_agreed else 0.0


def join(rank: int, world: int, device: str, port: int) -> str:
    """Join the run's process group (nccl on CUDA, each process on its own GPU; gloo on the CPU); this process's
    device."""
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    cuda = torch.device(device).type == "cuda"
    if cuda:
        device = f"cuda:{rank}"
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if cuda else "gloo", rank=rank, world_size=world, timeout=TIMEOUT)
    return device


class ShardedTrainer(Trainer):
    """A Trainer that takes this process's share of each batch and agrees with the others at each step."""

    def __init__(self, project: Project, *, rank: int, world: int, device: str, resume: Path | None) -> None:
        super().__init__(project, device=device, resume=resume)
        self.rank, self.world = rank, world
        if self.settings.sync_batchnorm == "on":  # on CUDA: the parent refused it on a CPU
            self.model = nn.SyncBatchNorm.convert_sync_batchnorm(self.model)  # the same parameters: the optimizer's
        gpus = [self.device] if self.device.type == "cuda" else None
        self.step_model = nn.parallel.DistributedDataParallel(self.model, gpus)
        self.graphed = None  # eager: a captured step would hold DistributedDataParallel's collectives
        self.not_graphed = f"{world} processes run the step eagerly"
        self.evaluation.model, self.evaluation.reason = self.model, f"{world} processes evaluate eagerly"
        self._whole = self._augment is not None or self._mix is not None
        self._share: tuple[slice, int, int] = (slice(0), 0, 0)  # this batch: its part, samples added, global size
        self._control = _AgreedControl(Control())
        self._report_now = False
        self._pace: Any = None

    def run(self, on_event: Listener | None = None, control: Control | None = None, **options: Any) -> Outcome:
        self._control = _AgreedControl(control or Control())
        return super().run(on_event, self._control, **options)

    def _read_batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """This process's share of each batch; the whole batch where augment() or mix() draws on it first."""
        shard, batch_size = self.program.script.shard, self.settings.batch_size
        if self.streamed and not self._whole:
            self.train_part.epoch_seed = self.epoch_seed
            order = self.order[self.position :].tolist()
            starts = range(0, len(order), batch_size)
            shares = [(shard(min(batch_size, len(order) - start), self.rank, self.world), start) for start in starts]
            mine = [i for (part, _), start in shares for i in order[start:][part]]
            share = shares[0][0][0].stop - shares[0][0][0].start
            script = self.program.script
            read = script.batches(self.train_part, mine, share, str(self.device), self.workers)
            for ((part, count), start), batch in zip(shares, read, strict=False):
                self._share = (part, count, min(batch_size, len(order) - start))
                yield batch
            return
        for batch_x, batch_y in super()._read_batches():
            part, count = shard(len(batch_y), self.rank, self.world)
            self._share = (part, count, len(batch_y))
            yield (batch_x, batch_y) if self._whole else (batch_x[part], batch_y[part])

    def _train_step(self, batch_x: torch.Tensor, batch_y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        _, count, size = self._share
        step = self.program.script.train_step
        model, clip, parts = self.step_model, self.settings.grad_clip, self.settings.accumulation
        weight = self.world * count / size
        return step(
            model,
            self.criterion,
            self.optimizer,
            batch_x,
            batch_y,
            clip,
            *self._mixed,
            accumulation=parts,
            weight=weight,
        )

    def _step(self, batch_x: torch.Tensor, batch_y: torch.Tensor) -> torch.Tensor:
        """The step on this process's share, then one all_reduce: the global batch's loss and right answers (added
        to the epoch's sums, the same in every process), and what the processes agree to do next."""
        read = len(batch_y)  # what the epoch's loop moves on by
        batch_x, targets = self._augmented(batch_x, batch_y)
        if self._whole:  # drawn whole, as one process draws it: now this process's part
            part = self._share[0]
            batch_x, targets, batch_y = batch_x[part], targets[part], batch_y[part]
        sampled = self.gradient_stats.due(self.global_step)
        if sampled:
            self.gradient_stats.before_step()
        loss, output = self._train_step(batch_x, targets)
        if sampled:
            self.gradient_stats.after_step(self.global_step + 1)
        if self.schedule == "OneCycleLR":
            self.scheduler.step()
        _, count, size = self._share
        sums = torch.zeros(5, device=self.device)
        sums[0] = loss.float() * count
        if self.classification and count:
            sums[1] = self.program.script.count_correct(output, batch_y)
        shared = self._control.shared
        sums[STOP], sums[PAUSE] = float(shared.stopped), float(shared.paused)
        sums[REPORT] = float(self.rank == 0 and super()._report_due(self._pace))
        dist.all_reduce(sums)
        flags = sums[STOP:].tolist()
        self._control.stop_agreed, self._control.pause_agreed, self._report_now = (flag > 0 for flag in flags)
        self._epoch_loss += sums[0]
        self._epoch_correct += sums[1]
        self.position += size - read  # the epoch moves on by the global batch, what was read with it
        return sums[0] / size

    def _report_due(self, pace: Any) -> bool:
        return self._report_now  # as rank 0's clock said at this step's all_reduce

    def _train_epoch(self, pace: Any) -> tuple[str, str] | None:
        self._pace = pace
        return super()._train_epoch(pace)

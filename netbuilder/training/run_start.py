"""What a run reports before its first step, the window and `netbuilder train` alike: the device and how the step
and validation run there, the run's size, what is already done, and the note of the weights it starts from."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from netbuilder.project.run_events import RunStart

if TYPE_CHECKING:
    from netbuilder.training.engine import Trainer


def device_line(trainer: Trainer) -> str:
    """The device's line: "cpu", or on a GPU its name and what runs as CUDA graphs, compiled or not, as in
    "cuda (NVIDIA H200, the step compiled and as a CUDA graph, validation compiled and as CUDA graphs)"."""
    if trainer.device.type != "cuda":
        return "cpu"
    compiled = " compiled and" if trainer.compiled is not None else ""
    parts = [torch.cuda.get_device_name(trainer.device)]
    if trainer.graphed is not None:
        parts.append(f"the step{compiled} as a CUDA graph")
    if not trainer.evaluation.reason and trainer.val_size:
        parts.append(f"validation{compiled} as CUDA graphs")
    return f"cuda ({', '.join(parts)})"


def run_start(trainer: Trainer, *, resumed: bool = False) -> RunStart:
    """Where the weights start from is said unless the run goes on from a checkpoint (`resumed`), which starts
    from the checkpoint's instead."""
    starting = trainer.program.starting
    return RunStart(
        device_line(trainer),
        trainer.settings.epochs,
        trainer.steps_per_epoch,
        trainer.global_step,
        trainer.classification,
        tuple(trainer.class_names),
        [dict(entry) for entry in trainer.history],
        "" if resumed or starting is None else starting.note,
    )

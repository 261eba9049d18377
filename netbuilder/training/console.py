"""`netbuilder train` in a terminal: a rich progress bar with time left, a line per epoch, results on disk."""

from __future__ import annotations

import json
import math
import signal
from pathlib import Path

import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from netbuilder.project import Project
from netbuilder.project.run_events import EpochEnd, Event, Outcome
from netbuilder.project.run_events import Progress as StepProgress
from netbuilder.training.engine import Control, Trainer


def train_in_terminal(project: Project, out: Path, *, device: str | None, resume: Path | None) -> Outcome:
    """Train with a progress bar; write metrics.json, model.pt and checkpoints/ into `out`. Ctrl+C stops
    after the current step and keeps a checkpoint to resume from."""
    console = Console(stderr=True)
    trainer = Trainer(project, device=device)
    if resume is not None:
        trainer.load_checkpoint(resume)
    control = Control()
    previous = signal.signal(signal.SIGINT, lambda *_: control.stop())
    settings = project.training
    console.print(
        f"[bold]{project.name}[/]: {settings.epochs} epochs of {trainer.steps_per_epoch} steps, "
        f"batch {settings.batch_size}, on {_device_name(trainer)}"
    )
    bar = Progress(
        TextColumn("epoch {task.fields[epoch]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}"),
        TextColumn("{task.fields[speed]} samples/s"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    total = settings.epochs * trainer.steps_per_epoch
    task = bar.add_task(
        "train",
        total=total,
        completed=trainer.global_step,
        epoch=f"{trainer.epoch + 1}/{settings.epochs}",
        loss="-",
        speed="-",
    )

    def on_event(event: Event) -> None:
        if isinstance(event, StepProgress):
            loss = f"{event.losses[-1]:.4f}" if event.losses else "-"
            bar.update(
                task,
                completed=min(total, (event.epoch - 1) * event.steps_per_epoch + event.step),
                epoch=f"{event.epoch}/{event.epochs}",
                loss=loss,
                speed=f"{event.samples_per_second:,.0f}",
            )
        elif isinstance(event, EpochEnd):
            bar.console.print(_epoch_line(event))

    checkpoints = out / "checkpoints"
    try:
        with bar:
            outcome = trainer.run(on_event, control, checkpoint_dir=checkpoints)
    finally:
        signal.signal(signal.SIGINT, previous)
    trainer.save_weights(out / "model.pt")
    _write_metrics(out / "metrics.json", project, trainer, outcome)
    if outcome.status == "stopped":
        console.print(f"stopped; go on with: netbuilder train PROJECT --resume {checkpoints / 'last.pt'}")
    elif not outcome.ok:
        console.print(f"[red]training failed[/]: {outcome.message}")
    else:
        summary = ", ".join(f"{k} {v:.4g}" for k, v in outcome.val_metrics.items() if k.startswith("val_"))
        console.print(f"done ({outcome.status}): {summary}. Results in {out}")
    return outcome


def _epoch_line(event: EpochEnd) -> str:
    parts = [f"epoch {event.epoch}/{event.epochs}", f"train loss {event.train_loss:.4f}"]
    if event.train_accuracy is not None:
        parts.append(f"accuracy {event.train_accuracy:.1%}")
    if event.val_loss is not None:
        parts.append(f"val loss {event.val_loss:.4f}")
    for name, value in event.val_metrics.items():
        parts.append(f"val {name} {value:.1%}" if name == "accuracy" else f"val {name} {value:.4g}")
    parts.append(f"({event.seconds:.1f} s)")
    return "  ".join(parts)


def _device_name(trainer: Trainer) -> str:
    if trainer.device.type == "cuda":
        graphed = ", the step as a CUDA graph" if trainer.graphed is not None else ""
        return f"cuda ({torch.cuda.get_device_name(trainer.device)}{graphed})"
    return "cpu"


def _write_metrics(path: Path, project: Project, trainer: Trainer, outcome: Outcome) -> None:
    data = {
        "project": project.name,
        "status": outcome.status,
        "message": outcome.message,
        "settings": project.training.to_dict(),
        "device": str(trainer.device),
        "epochs_done": outcome.epochs_done,
        "steps": outcome.global_step,
        "final": outcome.val_metrics,
        "history": trainer.history,
        "confusion_matrix": outcome.confusion,
        "class_names": list(outcome.class_names),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_finite(data), indent=2, allow_nan=False) + "\n", encoding="utf-8")


def _finite(value: object) -> object:
    """JSON has no NaN or infinity: such numbers (an R² over constant targets) become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value

"""What the Training panel says about a run, in words: time left, metrics, an epoch's results, and a failure
with what to do next."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from netbuilder.project import TrainingSettings
from netbuilder.project.run_history import RunRecord
from netbuilder.time_words import duration
from netbuilder.ui.training.worker import RunEnd
from netbuilder.ui.widgets.text import sentence


def metrics_in_words(record: dict[str, Any]) -> str:
    """'validation accuracy 97.2%, loss 0.0912' from an epoch record (or the final metrics of a run)."""
    parts = []
    if isinstance(record.get("val_accuracy"), float):
        parts.append(f"accuracy {record['val_accuracy']:.1%}")
    for key, name in (("val_mae", "mean abs error"), ("val_r2", "R²")):
        if isinstance(record.get(key), float):
            parts.append(f"{name} {record[key]:.4g}")
    if isinstance(record.get("val_loss"), float):
        parts.append(f"loss {record['val_loss']:.3g}")
    if parts:
        return "validation " + ", ".join(parts)
    if isinstance(record.get("train_loss"), float):
        return f"training loss {record['train_loss']:.4g}"
    return ""


def epoch_in_words(record: dict[str, Any]) -> str:
    """'Epoch 3: train loss 0.21, accuracy 93.0%; validation accuracy 92.5%, loss 0.25'."""
    train = f"train loss {record['train_loss']:.3g}"
    if isinstance(record.get("train_accuracy"), float):
        train += f", accuracy {record['train_accuracy']:.1%}"
    validation = metrics_in_words(record)
    return f"Epoch {record['epoch']}: {train}" + (f"; {validation}" if validation.startswith("validation") else "")


def failure_advice(message: str) -> str:
    """The engine's message, with what to do next when it does not say so itself."""
    text = sentence(message.strip() or "training stopped with an error")
    lower = message.lower()
    if lower.startswith("fix the problems first"):
        return text + " The Problems tab lists them."
    if "ran out of memory" in lower or "the loss became" in lower or "no cuda gpu" in lower:
        return text  # these messages already say what to try
    if ") failed:" in message:
        return text + " Check that block's settings in the inspector, then press Train again."
    return text + " Check the settings and the graph, then press Train again."


def idle_words(settings: TrainingSettings, records: Sequence[RunRecord]) -> str:
    """What the panel says before a run: what Train will do, or how the last run went."""
    if not records:
        return f"Press Train to train this network: {settings.epochs} epochs, batches of {settings.batch_size}."
    last = records[-1]
    when = time.strftime("%d %b %H:%M", time.localtime(last.started)) if last.started else last.run_id
    result = metrics_in_words(last.final) or last.status
    return (
        f"Last run ({when}): {last.status}, {result}.\n"
        f"{len(records)} run{'s' if len(records) != 1 else ''} of this project drawn faintly behind the next."
    )


@dataclass(frozen=True)
class OutcomeWords:
    """How a run ended, as the panel says it: the progress bar's text and value, the panel's text (in the
    banner when the run failed), and the status bar's line."""

    progress: str
    progress_value: int
    text: str
    status_line: str


def outcome_words(end: RunEnd, seconds: float, *, saved: bool) -> OutcomeWords:
    """The words for a run that ended after `seconds`; `saved`: the project has a file (so runs keep their
    weights beside it)."""
    result = metrics_in_words(end.val_metrics)
    where = ""
    if end.weights is not None and saved:
        where = f" Weights saved in {end.weights.parent.parent.name}/."
    elif end.started and not saved:
        where = " Save the project to keep the weights of its runs."
    if end.status == "completed":
        text = f"Done: {result}." if result else "Done."
        return OutcomeWords(
            f"done · {end.epochs_done} epochs in {duration(seconds)}",
            1,
            text + where,
            f"Training done: {result}" if result else "Training done",
        )
    if end.status == "early-stopped":
        return OutcomeWords(
            f"stopped early · epoch {end.epochs_done}",
            1,
            f"Stopped early after {end.epochs_done} epochs: {end.message}. {result}.{where}",
            f"Training stopped early after {end.epochs_done} epochs",
        )
    if end.status == "stopped":
        more = " Continue goes on from where it stopped." if end.checkpoint is not None else ""
        done = f" After {end.epochs_done} epochs: {result}." if result and end.epochs_done else ""
        return OutcomeWords(
            f"stopped · epoch {end.epochs_done + 1}, step {end.global_step}",
            0,
            f"Stopped.{done}{more}{where if end.weights else ''}",
            "Training stopped",
        )
    return OutcomeWords(
        "did not finish", 0, failure_advice(end.message), "Training did not finish: see the Training panel"
    )

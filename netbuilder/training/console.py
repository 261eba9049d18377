"""`netbuilder train` in a terminal: a rich progress bar with time left, a line per epoch, the Gradients tab's
warning when gradients explode or vanish (and a line when that clears), a classifier's per-class table at the
end (as the exported train.py prints it), the run kept in the project's run history (where the window shows
it) with its weights and checkpoints.

On a terminal the progress bar moves; when the output goes to a file or a pipe there is no bar and each line
is printed whole, never wrapped at 80 columns.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from netbuilder.atomic_file import write_atomically
from netbuilder.blocks.catalogue import get as block_spec
from netbuilder.codegen.report_table import report_table
from netbuilder.interrupts import end_as_signalled, signals_stop
from netbuilder.project import Project, project_to_dict
from netbuilder.project.gradient_health import GradientWarning, GradientWatch
from netbuilder.project.gradient_samples import GradientReport
from netbuilder.project.latest_run import point_latest
from netbuilder.project.run_events import EpochEnd, Event, Listener, Outcome
from netbuilder.project.run_events import Progress as StepProgress
from netbuilder.project.run_history import RunHistory, new_run_id
from netbuilder.project.run_recorder import RunRecorder
from netbuilder.project.settings import SETTING
from netbuilder.training.checkpoint_file import WriteError
from netbuilder.training.control import Control
from netbuilder.training.engine import Trainer
from netbuilder.training.tensorboard_log import TensorBoardLog
from netbuilder.training.worker_processes import new_trainer

METRICS_FILE = "metrics.json"  # with --out: the run's record, as the run history keeps it


def train_in_terminal(
    project: Project, *, out: Path | None = None, resume: Path | None = None, tensorboard: Path | None = None
) -> Outcome:
    """Train `project` (a saved one: its path says where its run history is) and add the run to its history.

    Every run has its own folder, named by its id (the time it started), so no run replaces another's files:
    the weights (model.pt) and checkpoints (last.pt, best.pt) go into PROJECT.runs/RUN/, as the window keeps
    them, so the window can predict with the run and continue it; with `out` they go into out/RUN/ instead
    (checkpoints in out/RUN/checkpoints/) with the run's record as out/RUN/metrics.json. The folder's `latest`
    then names the run if it finished (completed or early-stopped; a stopped or failed run leaves it where it
    was). A `resume` checkpoint is read and checked against the network before any data loads
    (CheckpointError, a ValueError, otherwise). Ctrl+C or SIGTERM stops after the current
    step and keeps a checkpoint to resume from, then ends as that signal would (exit code 130 or 143 in the
    `netbuilder` command). With `tensorboard` the run also writes TensorBoard event files into tensorboard/RUN/."""
    history = RunHistory(project.path)
    base = out if out is not None else history.folder
    if base is None:
        raise ValueError("a project never saved has no run history: give a folder for the results")
    if base.exists() and not base.is_dir():  # said now, not after training, when the run's folder is made
        raise ValueError(f"{base} is a file, not a folder: give a folder for the runs")
    if tensorboard is not None and tensorboard.exists() and not tensorboard.is_dir():
        raise ValueError(f"--tensorboard {tensorboard} is a file, not a folder: give a folder for the TensorBoard logs")
    taken = {path.name for path in base.iterdir()} if out is not None and base.is_dir() else set()
    run_id = history.new_id() if out is None else new_run_id(taken=taken | {r.run_id for r in history.records})
    run_dir = base / run_id
    checkpoints = run_dir / "checkpoints" if out is not None else run_dir
    console = Console(stderr=True, soft_wrap=True)  # soft wrap: a line redirected to a file stays one line
    recorder = RunRecorder(run_id, project.training, project=project_to_dict(project))
    trainer = new_trainer(project, resume=resume, resume_name=f"--resume {resume}")
    start = trainer.run_start(resumed=resume is not None)
    recorder.add(start)
    log = TensorBoardLog(tensorboard / run_id, trainer) if tensorboard is not None else None
    record = recorder.add if log is None else _both(recorder.add, log)
    control = Control()
    settings = project.training
    epochs, steps = settings.epochs, trainer.steps_per_epoch
    console.print(
        f"[bold]{project.name}[/]: {epochs} epoch{'s' if epochs != 1 else ''} of {steps} "
        f"step{'s' if steps != 1 else ''}, batch {settings.batch_size}, on {start.device}"
    )
    if log is not None:
        _print_lines(console, [f"TensorBoard event files in {log.folder}", *([log.note] if log.note else [])])
    # Ctrl+C or SIGTERM: stop after this step, keep the run, then end as that signal would
    with signals_stop(control.stop) as stopped_by:
        try:
            gradients = GradientNotes(trainer)
            if console.is_terminal:
                outcome = _run_with_bar(trainer, control, console, record, checkpoints, gradients)
            else:
                listener = _plain_listener(console, record, gradients)
                outcome = trainer.run(listener, control, checkpoint_dir=checkpoints)
        finally:
            if log is not None:  # its Outcome closed it, unless the run raised
                log.close()
    weights = not_saved = None
    if outcome.status != "failed":
        try:
            weights = trainer.save_weights(run_dir / "model.pt")
        except WriteError as err:  # the run is still recorded; the command then says what failed
            not_saved = err
            outcome = replace(outcome, message=(outcome.message + "; " if outcome.message else "") + str(err))
            recorder.add(outcome)
    last = checkpoints / "last.pt"
    record = recorder.record(
        weights=history.relative(weights), checkpoint=history.relative(last if last.is_file() else None)
    )
    if out is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_atomically(run_dir / METRICS_FILE, record.to_json().encode("utf-8"))
        if outcome.ok and not_saved is None:
            try:
                point_latest(out, run_dir)
            except OSError as err:  # a folder named latest, say: the run itself is whole
                console.print(f"{out / 'latest'} could not name this run: {err.strerror or err}")
    try:
        history.add(record)
    except OSError as err:
        console.print(f"the run could not be kept in the project's history: {err}")
    if not_saved is not None:
        raise not_saved
    if outcome.report is not None and outcome.status != "failed":  # per class, as train.py prints them
        console.print(report_table(outcome.report, list(outcome.class_names)), markup=False, highlight=False)
    if outcome.status == "stopped":
        console.print(f"stopped; go on with: netbuilder train PROJECT --resume {last}")
    elif not outcome.ok:
        console.print(f"[red]training failed[/]: {outcome.message}")
    else:
        console.print(f"done ({outcome.status}): {final_summary(outcome.val_metrics)}. Results in {run_dir}")
    if stopped_by:
        end_as_signalled(stopped_by[0])
    return outcome


def final_summary(metrics: dict[str, float | None]) -> str:
    """The last epoch's figures in a few words: its validation metrics, or without a validation part (a
    val_fraction of 0) its training loss and accuracy; a figure that is None is left out."""
    shown = {k: v for k, v in metrics.items() if k.startswith("val_") and v is not None}
    if not shown:
        shown = {k: v for k, v in metrics.items() if k.startswith("train_") and v is not None}
    return ", ".join(f"{k} {v:.4g}" for k, v in shown.items()) or "no metrics"


class GradientNotes:
    """The Gradients tab's warning, in a terminal: the gradient health check (project/gradient_health.py) over
    the run's samples, each kind said once as it first appears and once more if it clears, in its own words;
    the remedies the window offers as one click are named as what to change here: an option of `netbuilder
    train`, or a parameter of the project's optimizer node."""

    def __init__(self, trainer: Trainer) -> None:
        self.settings = trainer.settings
        node = trainer.project.graph.nodes.get(trainer.program.task.optimizer_node)
        self.optimizer = node.label if node is not None else "the optimizer"
        self.optimizer_params = block_spec(node.block).defaults() | dict(node.params) if node is not None else {}
        self.watch: GradientWatch | None = None

    def lines(self, report: GradientReport) -> list[str]:
        """What the report's samples bring to say: a warning that first appears, or one that has cleared."""
        if self.watch is None or self.watch.layers != report.layers:
            self.watch = GradientWatch(report.layers, self.settings, self.optimizer_params)
        lines = []
        for sample in report.samples:
            cleared = len(self.watch.cleared)
            warning = self.watch.add(sample)
            if warning is not None:
                lines.append(self._warning_line(warning))
            lines += [c.message for c in self.watch.cleared[cleared:]]
        return lines

    def _warning_line(self, warning: GradientWarning) -> str:
        """The warning, then its one-change remedies as what to change: "To change: --grad-clip 1; in the
        project, optimizer's lr to 0.0002 and schedule to cosine."."""
        remedies = warning.remedies
        changes = [" ".join(f"{SETTING[r.setting].flag} {_value(r.value)}" for r in remedies if r.setting)]
        params = " and ".join(f"{r.param} to {_value(r.value)}" for r in remedies if r.param)
        changes.append(f"in the project, {self.optimizer}'s {params}" if params else "")
        said = "; ".join(change for change in changes if change)
        return f"warning: {warning.message}" + (f" To change: {said}." if said else "")


def _value(value: object) -> str:
    """A remedy's value as it is typed: 1.0 as 1, 0.0002 as 0.0002, "cosine" as cosine."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _run_with_bar(
    trainer: Trainer,
    control: Control,
    console: Console,
    record: Listener,
    checkpoints: Path,
    gradients: GradientNotes,
) -> Outcome:
    settings = trainer.settings
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
        record(event)
        if isinstance(event, StepProgress):
            if event.note:  # compiling the step, and how long it took
                _print_lines(bar.console, [event.note])
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
        elif isinstance(event, GradientReport):
            _print_lines(bar.console, gradients.lines(event))

    with bar:
        return trainer.run(on_event, control, checkpoint_dir=checkpoints)


def _plain_listener(console: Console, record: Listener, gradients: GradientNotes) -> Listener:
    """Not on a terminal: one whole line per epoch (and per gradient warning, and per note of the run's, such as
    how long compiling took), nothing per step."""

    def on_event(event: Event) -> None:
        record(event)
        if isinstance(event, StepProgress) and event.note:
            _print_lines(console, [event.note])
        elif isinstance(event, EpochEnd):
            console.print(_epoch_line(event))
        elif isinstance(event, GradientReport):
            _print_lines(console, gradients.lines(event))

    return on_event


def _both(first: Listener, second: Listener) -> Listener:
    """One listener that hears each event with `first`, then with `second`."""

    def on_event(event: Event) -> None:
        first(event)
        second(event)

    return on_event


def _print_lines(console: Console, lines: list[str]) -> None:
    """Lines as they are (a layer's label may hold brackets, which rich would read as markup)."""
    for line in lines:
        console.print(line, markup=False, highlight=False)


def _epoch_line(event: EpochEnd) -> str:
    parts = [f"epoch {event.epoch}/{event.epochs}", f"train loss {event.train_loss:.4f}"]
    if event.train_accuracy is not None:
        parts.append(f"accuracy {event.train_accuracy:.1%}")
    if event.val_loss is not None:
        parts.append(f"val loss {event.val_loss:.4f}")
    for name, value in event.val_metrics.items():
        if name == "top5_accuracy":
            parts.append(f"val top-5 {value:.1%}")
        else:
            parts.append(f"val {name} {value:.1%}" if name == "accuracy" else f"val {name} {value:.4g}")
    parts.append(f"({event.seconds:.1f} s)")
    return "  ".join(parts)

"""`netbuilder sweep PROJECT --set T=SPEC [--set ...] [--search grid|random] [--budget N] [--epochs E]
[--halving] [--metric M] [--seed S] [--device D] [--tensorboard DIR] [--parallel K|auto] [--json]`: a sweep's runs
one after another, or K at once on a CUDA GPU (netbuilder.training.sweep), each kept in the project's run
history as `netbuilder train` keeps a run, so the window's Runs view lists them. A plan or a value that cannot
run is refused in one line before anything trains (several runs at once on the CPU too).

On a terminal a progress bar over the whole sweep moves, with time left; a line per finished run either way
(on stderr), then a table of the runs sorted by the metric, the best marked, and where its weights are (on
stdout; --json prints the result as one object instead). Ctrl+C stops after the current step: that run is kept
with its checkpoint (each run going on, with --parallel), no other starts, and the command ends as Ctrl+C ends it
(exit 130).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from netbuilder.analysis import analyze
from netbuilder.cli.collector import freeze_imports
from netbuilder.cli.exit_codes import OK, PROBLEMS, USAGE
from netbuilder.cli.json_output import print_json
from netbuilder.cli.messages import gaps_refusal
from netbuilder.cli.text_table import text_table
from netbuilder.interrupts import end_as_signalled, signals_stop
from netbuilder.project import Project, load_project
from netbuilder.project.run_comparison import best_value, final_value, higher_is_better
from netbuilder.project.run_history import RunHistory, RunRecord
from netbuilder.project.sweep_plan import Axis, SweepError, SweepPlan, values_text

BEST_MARK = "*"


def parallel_runs(text: str) -> int | str:
    """--parallel's value: a number of runs from 1, or "auto"."""
    if text == "auto":
        return text
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of runs at once from 1, or auto")
    return count


def run_sweep_command(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    try:
        axes = tuple(Axis.parse(text) for text in args.set or ())
        plan = SweepPlan(
            axes,
            search=args.search,
            budget=args.budget,
            epochs=args.epochs,
            halving=args.halving,
            seed=args.seed,
            metric=args.metric,
        )
    except SweepError as err:
        print(f"netbuilder: {err}", file=sys.stderr)
        return USAGE
    if args.device is not None:
        project = replace(project, training=replace(project.training, device=args.device))
    gaps = gaps_refusal(project)
    errors = analyze(project.graph).errors(training=True)
    if gaps or errors:
        said = gaps or f"fix the problems first (netbuilder check lists them): {errors[0].message}"
        print(f"netbuilder: cannot sweep {args.project}: {said}", file=sys.stderr)
        return PROBLEMS
    from netbuilder.training.control import Control  # torch loads only here
    from netbuilder.training.sweep import run_sweep

    freeze_imports()
    history = RunHistory(project.path)
    if args.tensorboard is not None and args.tensorboard.exists() and not args.tensorboard.is_dir():
        print(f"netbuilder: {args.tensorboard} is a file, not a folder: give a folder for the logs", file=sys.stderr)
        return USAGE
    control = Control()
    # Ctrl+C or SIGTERM: stop after this step, keep the run, then end as that signal would
    with signals_stop(control.stop) as stopped_by:
        try:
            with _SweepProgress(project, args.tensorboard) as progress:
                result = run_sweep(
                    project,
                    plan,
                    history=history,
                    listener=progress.on_event,
                    control=control,
                    tensorboard=args.tensorboard,
                    parallel=args.parallel,
                )
        except SweepError as err:
            print(f"netbuilder: {err}", file=sys.stderr)
            return USAGE
    if args.json:
        print_json(_result_json(result, history))
    else:
        _print_table(result, history)
    if stopped_by:
        end_as_signalled(stopped_by[0])
    return OK if any(record.status != "failed" for record in result.records) else PROBLEMS


class _SweepProgress:
    """What the terminal shows while the sweep runs: on a terminal a bar over the sweep's epochs (all runs
    together) with time left; a line per finished run, on a terminal or not."""

    def __init__(self, project: Project, tensorboard: Path | None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self.project = project
        self.tensorboard = tensorboard
        self.console = Console(stderr=True, soft_wrap=True)  # soft wrap: a line redirected stays one line
        self.bar = (
            Progress(
                TextColumn("run {task.fields[run]}"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TextColumn("epoch {task.fields[epoch]}  loss {task.fields[loss]}"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            if self.console.is_terminal
            else None
        )
        self.task: Any = None
        self.total = 0  # trials in the sweep
        self.parallel = 1  # runs at once
        self.finished = 0.0  # epochs of the runs that ended
        self.done: dict[int, int] = {}  # by trial going on: the epochs it had when it started (a later rung's)
        self.within: dict[int, float] = {}  # by trial going on: the epochs it has trained since it started

    def __enter__(self) -> _SweepProgress:
        if self.bar is not None:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def on_event(self, event: Any) -> None:
        from netbuilder.project.run_events import Progress
        from netbuilder.training.sweep import SweepStart, TrialEnd, TrialEvent, TrialStart

        if isinstance(event, SweepStart):
            self.total = event.trials
            self.parallel = event.parallel
            self._print(self._opening(event))
            if self.bar is not None:
                self.task = self.bar.add_task("sweep", total=event.epochs, run="-", epoch="-", loss="-")
        elif isinstance(event, TrialStart):
            self.done[event.index] = event.done
            self.within[event.index] = 0.0
            if self.task is not None:
                self.bar.update(self.task, run=self._run(event.index), epoch="-", loss="-")
        elif isinstance(event, TrialEvent) and isinstance(event.event, Progress) and self.task is not None:
            progress = event.event
            trained = progress.epoch - 1 - self.done[event.index] + progress.step / max(1, progress.steps_per_epoch)
            self.within[event.index] = trained
            loss = f"{progress.losses[-1]:.4f}" if progress.losses else "-"
            self.bar.update(
                self.task,
                completed=self.finished + sum(self.within.values()),
                run=self._run(event.index),
                epoch=f"{progress.epoch}/{progress.epochs}",
                loss=loss,
            )
        elif isinstance(event, TrialEnd):
            self.finished += max(0, event.record.epochs_done - self.done.pop(event.index, event.record.epochs_done))
            self.within.pop(event.index, None)
            if self.task is not None:
                self.bar.update(self.task, completed=self.finished + sum(self.within.values()))
            if event.final:
                self._print(_run_line(event.index, self.total, event.record))

    def _run(self, index: int) -> str:
        """The bar's run: the one that last said something, and how many go on with several at once."""
        running = f" ({len(self.within)} running)" if self.parallel > 1 else ""
        return f"{index + 1}/{self.total}{running}"

    def _opening(self, event: Any) -> str:
        settings = self.project.training
        halving = f", successive halving over {len(event.rungs)} rungs" if len(event.rungs) > 1 else ""
        at_once = f", {event.parallel} at once in processes of their own" if event.parallel > 1 else ""
        return (
            f"{self.project.name}: {event.trials} runs{halving}{at_once}, {event.epochs} epochs in all, "
            f"batch {settings.batch_size}, device {settings.device}"
        ) + (f"; TensorBoard event files in {self.tensorboard}/RUN/" if self.tensorboard is not None else "")

    def _print(self, line: str) -> None:
        # a label may hold brackets, which rich would read as markup
        (self.bar.console if self.bar is not None else self.console).print(line, markup=False, highlight=False)


def _run_line(index: int, total: int, record: RunRecord) -> str:
    """A finished run in one line: its values, its figure by the sweep's metric, how it ended and its time."""
    sweep = record.sweep or {}
    metric = sweep.get("metric")
    value = final_value(record, metric) if metric else None
    figure = f"{metric} {value:.4g}" if value is not None else "no metric"
    if "halted_at" in sweep:
        ending = f"halted after epoch {sweep['halted_at']}"
    elif record.status == "completed":
        ending = f"{record.epochs_done} epochs"
    else:
        ending = f"{record.status}: {record.message}" if record.message else record.status
    return (
        f"run {index + 1}/{total}  {values_text(sweep.get('values', {}))}  {figure}  {ending}  ({record.seconds:.1f} s)"
    )


def _ranked(records: tuple[RunRecord, ...], metric: str | None) -> list[RunRecord]:
    """The runs, best final value of the metric first; runs without one last, in their order."""
    if metric is None:
        return list(records)
    sign = 1.0 if higher_is_better(metric) else -1.0

    def key(record: RunRecord) -> tuple[int, float]:
        value = final_value(record, metric)
        return (1, 0.0) if value is None else (0, -sign * value)

    return sorted(records, key=key)


def _print_table(result: Any, history: RunHistory) -> None:
    """The runs as a table, sorted by the metric, the best marked; then where the best's weights are."""
    metric = result.metric
    targets = list(result.records[0].sweep["values"]) if result.records else []
    header = ["", "run", *targets, f"final {metric or 'metric'}", f"best {metric or 'metric'}", "ended", "time"]
    rows = []
    for record in _ranked(result.records, metric):
        sweep = record.sweep or {}
        final = final_value(record, metric) if metric else None
        best = best_value(record, metric) if metric else None
        ended = f"halted at {sweep['halted_at']}" if "halted_at" in sweep else record.status
        rows.append(
            [
                BEST_MARK if result.best is not None and record.run_id == result.best.run_id else "",
                str(sweep.get("index", 0) + 1),
                *(_shown(sweep.get("values", {}).get(target)) for target in targets),
                "-" if final is None else f"{final:.4g}",
                "-" if best is None else f"{best:.4g}",
                ended,
                f"{record.seconds:.1f} s",
            ]
        )
    print(text_table(header, rows))
    if result.stopped:
        print("stopped: the runs not started are left out")
    best = result.best
    if best is None:
        print("no run finished with a figure to compare")
        return
    where = _weights(best, history)
    said = f"weights in {where}" if where else "its weights were not kept"
    print(f"best ({BEST_MARK}): run {best.sweep['index'] + 1}, {values_text(best.sweep['values'])}; {said}")


def _result_json(result: Any, history: RunHistory) -> dict[str, Any]:
    metric = result.metric
    runs = [
        {
            "run_id": record.run_id,
            "index": record.sweep.get("index"),
            "values": record.sweep.get("values", {}),
            "status": record.status,
            "message": record.message,
            "epochs": record.epochs_done,
            "halted_at": record.sweep.get("halted_at"),
            "final": final_value(record, metric) if metric else None,
            "best": best_value(record, metric) if metric else None,
            "seconds": record.seconds,
            "weights": str(path) if (path := _weights(record, history)) else None,
        }
        for record in result.records
    ]
    return {
        "sweep_id": result.sweep_id,
        "metric": metric,
        "stopped": result.stopped,
        "best": result.best.run_id if result.best is not None else None,
        "runs": runs,
    }


def _weights(record: RunRecord, history: RunHistory) -> Path | None:
    """Where a run's weights are now (None when it kept none, or when they have been removed since)."""
    folder = history.folder
    if record.weights is None or folder is None:
        return None
    path = folder / record.weights
    return path if path.is_file() else None


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)

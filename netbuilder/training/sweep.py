"""A sweep's runs, one after another through the engine: the queue behind `netbuilder sweep` and the window.

Each trial of a plan (project/sweep_plan.py) trains a copy of the project with its values set, through the
engine's `Trainer` as `netbuilder train` does, and is kept in the project's run history with its weights, its
sweep (`record.sweep`: the sweep's id, the values it tried, its place, the metric) and, on the best run so
far, `best`. With successive halving every trial first trains a short rung of epochs; the better half by the
plan's metric goes on from its own checkpoint for twice as many epochs, and so on up to the plan's epochs; the
others end there (`halted_at`). Every run trains with the project's seed (unless the seed is swept), so the
same plan on the same project gives the same runs, loss for loss.

On a CUDA GPU several runs may train at once (`parallel`), each in a worker process of its own
(netbuilder.training.sweep_workers): the bare runs of small models overlap well on a GPU, though for a short
sweep the workers' start costs more than that saves (docs/benchmarks.md), so it is asked for, never the default.
This process alone keeps the records. A successive-halving rung then trains its runs at once and waits for all
of them. On the CPU runs go one at a time: several at once would only share the same cores.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from netbuilder.analysis import analyze
from netbuilder.blocks import catalogue
from netbuilder.project import Project, copy_project, project_to_dict
from netbuilder.project.run_comparison import best_run, best_value, higher_is_better, metric_choices
from netbuilder.project.run_events import Outcome
from netbuilder.project.run_history import FINISHED, MAX_STEP_POINTS, RunHistory, RunRecord, coarsen, new_run_id
from netbuilder.project.run_recorder import RunRecorder
from netbuilder.project.sweep_plan import SweepError, SweepPlan, Trial, check_trials, trial_project
from netbuilder.runtime.devices import resolve_device
from netbuilder.training.control import Control
from netbuilder.training.sweep_trial import TrialJob, run_trial
from netbuilder.training.sweep_workers import TrialDone, TrialPool, auto_workers

CHECKPOINTS = ("last.pt", "best.pt")


@dataclass(frozen=True)
class SweepStart:
    """The sweep is about to start: its id, how many trials, its rungs as (epochs trained by the rung's end,
    runs in it; one rung of every trial without halving), the epochs it trains, all runs together (what a
    progress bar over the sweep counts), and how many runs train at once."""

    sweep_id: str
    trials: int
    rungs: tuple[tuple[int, int], ...]
    epochs: int
    parallel: int = 1


@dataclass(frozen=True)
class TrialStart:
    """A run of trial `index` (from 0) of `total` starts: its values, its run id, the epochs it trains to
    and those it already has (a run going on to the next rung)."""

    index: int
    total: int
    values: dict[str, Any]
    run_id: str
    epochs: int
    done: int = 0


@dataclass(frozen=True)
class TrialEvent:
    """An engine event (RunStart, Progress, EpochEnd, GradientReport, Outcome) of the run of trial `index`:
    with several runs at once their events interleave, so each says whose it is. (Runs in worker processes
    send no GradientReport: it stays in the worker, where only the run's TensorBoard log reads it.)"""

    index: int
    event: Any


@dataclass(frozen=True)
class TrialEnd:
    """A run of trial `index` ended; `record` is the trial's record as the history keeps it. `final`: the
    trial trains no more (its last rung, halted by successive halving, stopped or failed)."""

    index: int
    record: RunRecord
    final: bool = True


@dataclass(frozen=True)
class SweepResult:
    """A sweep as it ended: its id, one record per trial that ran (in trial order), the best of them by
    `metric` (None when none finished with it) and whether it was stopped before its end."""

    sweep_id: str
    records: tuple[RunRecord, ...]
    best: RunRecord | None
    metric: str | None
    stopped: bool = False


@dataclass(frozen=True)
class SweepEnd:
    """The sweep ended (finished or stopped)."""

    result: SweepResult


SweepEvent = SweepStart | TrialStart | TrialEvent | TrialEnd | SweepEnd
# hears the sweep's events and, between a TrialStart and its TrialEnd, the engine's (RunStart, Progress ...)
# in TrialEvents
SweepListener = Callable[[Any], None]


def new_sweep_id(now: float | None = None) -> str:
    """A sweep's id, made as a run's is from the time it starts: "sweep-2025-06-01_14-05-22"."""
    return "sweep-" + new_run_id(now)


def run_sweep(
    project: Project,
    plan: SweepPlan,
    *,
    history: RunHistory,
    listener: SweepListener | None = None,
    control: Control | None = None,
    tensorboard: Path | None = None,
    parallel: int | str = 1,
) -> SweepResult:
    """Train the trials of `plan` on `project`, each kept in `history` (its weights as model.pt in its run
    folder when the history has a folder). `listener` hears SweepStart, then for each run TrialStart, the
    engine's events (RunStart, Progress, EpochEnd, GradientReport, Outcome) each in a TrialEvent, and TrialEnd,
    and at last SweepEnd. `control` stops the sweep: the runs going on stop as a run stops (their checkpoints
    kept to go on from) and no other starts. With `tensorboard` each run also writes TensorBoard event files
    into tensorboard/RUN/, its swept values among its hyperparameters (TensorBoard's HPARAMS tab compares the
    sweep's runs). `parallel`: how many runs train at once, each in a process of its own, on a CUDA GPU only
    ("auto": see `runs_at_once`). SweepError, before anything trains, when the plan cannot run on the project
    (a target or value refused, a network that cannot train, several runs at once on the CPU, a project set to
    train in several processes)."""
    trials = check_trials(project, plan)  # every trial checked before the first one trains
    snapshot = copy_project(project)  # what every run starts from
    workers = runs_at_once(snapshot, plan, trials, parallel)
    sweep = _Sweep(plan, snapshot, history, listener or (lambda event: None), control or Control(), len(trials))
    sweep.tensorboard = tensorboard
    project_epochs = plan.epochs or project.training.epochs
    rungs = tuple(plan.rungs(len(trials), project_epochs))
    if plan.halving:
        ends = [0] + [end for end, _ in rungs]
        epochs = sum((ends[k + 1] - ends[k]) * runs for k, (_, runs) in enumerate(rungs))
    else:  # the epochs may be swept
        epochs = sum(trial.values.get("epochs", project_epochs) for trial in trials)
    sweep.emit(SweepStart(sweep.sweep_id, len(trials), rungs, epochs, workers))
    sweep.pool = TrialPool(workers, sweep.control) if workers > 1 else None
    try:
        if plan.halving:
            sweep.halve(trials, rungs)
        else:
            for trial, record in sweep.train_each(trials, None):
                sweep.emit(TrialEnd(trial.index, record))
    finally:
        if sweep.pool is not None:
            sweep.pool.close()
        sweep.clean_up()
    result = sweep.result()
    sweep.emit(SweepEnd(result))
    return result


def runs_at_once(project: Project, plan: SweepPlan, trials: list[Trial], parallel: int | str) -> int:
    """How many of the sweep's runs train at once: `parallel` runs (no more than there are trials) on a CUDA
    GPU; SweepError for more than one on the CPU, where they would only share the same cores. "auto": as many
    as fit in half the GPU's free memory by the analysis' estimate of the largest run (sweep_workers.
    auto_workers), up to 4; one at a time on the CPU."""
    if project.training.processes > 1:  # each run's epochs are set by the sweep, in the Trainer of its process
        raise SweepError(
            f"a sweep trains each run in one process, not {project.training.processes}: set Processes to 1 for "
            "the sweep, then train the best run with several"
        )
    device = project.training.device
    on_gpu = (device == "auto" or device.startswith("cuda")) and torch.cuda.is_available()
    if parallel == "auto":
        if not on_gpu:
            return 1
        free, _ = torch.cuda.mem_get_info(resolve_device(device))
        largest = max(_training_bytes(trial_project(project, trial, plan.epochs)) for trial in trials)
        return auto_workers(largest, free, len(trials))
    if not isinstance(parallel, int) or isinstance(parallel, bool) or parallel < 1:
        raise SweepError(f"runs at once must be a number from 1, or auto, not {parallel!r}")
    if parallel > 1 and not on_gpu:
        raise SweepError(
            "several runs at once need a CUDA GPU (on the CPU they would only share the same cores): "
            "run them one at a time"
        )
    return min(parallel, len(trials))


def _training_bytes(project: Project) -> int:
    """The analysis' estimate of what training the project takes (weights, gradients, optimizer state and a
    batch's activations)."""
    analysis = analyze(project.graph)
    task = analysis.training_task
    state = catalogue.get(task.optimizer).state_per_parameter if task is not None else 2
    return analysis.size.training_bytes(project.training.batch_size, state)


@dataclass
class _Run:
    """A trial's run as it goes: the trial, its project, the record it is becoming, the job that describes it,
    its record from an earlier rung (None on its first) and the folder of its checkpoints."""

    trial: Trial
    project: Project
    recorder: RunRecorder
    job: TrialJob
    previous: RunRecord | None
    checkpoints: Path | None


class _Sweep:
    """Where a sweep stands: its records by trial, its metric (the plan's, else the headline metric of its
    first runs), the best run so far, and the folder that holds successive halving's checkpoints between
    rungs (beside the runs, where pruning old runs' files never reaches them)."""

    def __init__(
        self, plan: SweepPlan, snapshot: Project, history: RunHistory, emit: SweepListener, control: Control, total: int
    ):
        self.plan = plan
        self.snapshot = snapshot
        self.history = history
        self.emit = emit
        self.control = control
        self.total = total
        self.sweep_id = new_sweep_id()
        self.metric = plan.metric
        self.records: dict[int, RunRecord] = {}
        self.halted: set[int] = set()
        self.stopped = False
        self.tensorboard: Path | None = None  # where each run writes its TensorBoard events, if anywhere
        self.pool: TrialPool | None = None  # the worker processes when runs train at once
        self._given: set[str] = set()  # the run ids this sweep has given
        self._work: Path | None = None

    # ---- runs -------------------------------------------------------------------------------------------

    def train_each(self, trials: list[Trial], epochs: int | None) -> Iterator[tuple[Trial, RunRecord]]:
        """Train each of `trials` to `epochs` (None: the trial's own), one at a time or, with worker processes,
        as many at once as there are workers; yields each trial with its record as its run ends (in the order
        they end). Once the sweep is stopped no other run starts."""
        if self.pool is None:
            for trial in trials:
                run = self._begin(trial, epochs)
                yield trial, self._end(run, *run_trial(run.job, self.control, self._heard(run), run.project))
                if self.stopped:
                    return
            return
        waiting = list(trials)
        running: dict[int, _Run] = {}
        while True:
            while waiting and len(running) < self.pool.size and not (self.stopped or self.control.stopped):
                run = self._begin(waiting.pop(0), epochs)
                running[run.trial.index] = run
                self.pool.submit(run.trial.index, run.job)
            if not running:
                return
            said = self.pool.next()
            if isinstance(said, TrialDone):
                run = running.pop(said.key)
                yield run.trial, self._end(run, said.outcome, said.weights)
            else:
                running[said.key].recorder.add(said.event)
                self.emit(TrialEvent(said.key, said.event))

    def _heard(self, run: _Run) -> Callable[[Any], None]:
        """What hears a run in this process: its record, then the listener."""

        def heard(event: Any) -> None:
            run.recorder.add(event)
            self.emit(TrialEvent(run.trial.index, event))

        return heard

    def _begin(self, trial: Trial, epochs: int | None) -> _Run:
        """A run of `trial` about to start: the snapshot with its values (made as the run starts: a thousand
        trials are never a thousand copies at once), to `epochs` (None: the trial's), going on from its
        checkpoint when it has a record already (the next rung); TrialStart said."""
        project = trial_project(self.snapshot, trial, self.plan.epochs)
        previous = self.records.get(trial.index)
        # runs at once all begin before the history keeps any of them
        run_id = previous.run_id if previous is not None else self.history.new_id(also=self._given)
        self._given.add(run_id)
        folder = self.history.folder
        run_dir = folder / run_id if folder is not None else None
        checkpoints = self._work_folder() / run_id if self.plan.halving else run_dir
        resume = checkpoints / "last.pt" if previous is not None and checkpoints is not None else None
        to_epochs = epochs or project.training.epochs
        done = previous.epochs_done if previous is not None else 0
        self.emit(TrialStart(trial.index, self.total, dict(trial.values), run_id, to_epochs, done))
        as_saved = project_to_dict(project)
        recorder = RunRecorder(run_id, project.training, project=as_saved, sweep=self._key(trial))
        job = TrialJob(
            project=as_saved,
            path=_text(project.path),
            epochs=to_epochs,
            done=done,
            resume=_text(resume),
            checkpoints=_text(checkpoints),
            weights=_text(run_dir / "model.pt" if run_dir is not None else None),
            tensorboard=_text(self.tensorboard / run_id if self.tensorboard is not None else None),
            swept=dict(trial.values),
        )
        return _Run(trial, project, recorder, job, previous, checkpoints)

    def _end(self, run: _Run, outcome: Outcome, weights: Path | None) -> RunRecord:
        """The run ended with `outcome`, its weights saved at `weights`: its record added to the history, or
        updated there (a later rung's)."""
        recorder, previous, checkpoints = run.recorder, run.previous, run.checkpoints
        recorder.add(outcome)  # the engine's own, or why the run could not start or keep its weights
        self.stopped = self.stopped or outcome.status == "stopped" or self.control.stopped
        last = checkpoints / "last.pt" if checkpoints is not None else None
        record = recorder.record(
            weights=self.history.relative(weights),
            checkpoint=self.history.relative(last if last is not None and last.is_file() else None),
        )
        if previous is not None:  # one record a trial: its earlier rungs' time and steps go on in it
            record = replace(
                record,
                history=record.history or previous.history,  # a run that could not even start keeps its past
                started=previous.started,
                seconds=previous.seconds + record.seconds,
                steps=_steps(previous, record),
            )
        if self.metric is None:
            choices = metric_choices([record])
            self.metric = choices[0] if choices else None
            if self.metric is not None:
                record = replace(record, sweep={**record.sweep, "metric": self.metric})
        self._keep(record, run.trial.index)
        return record

    def _key(self, trial: Trial) -> dict[str, Any]:
        key = {"id": self.sweep_id, "values": dict(trial.values), "index": trial.index, "of": self.total}
        return key | ({"metric": self.metric} if self.metric else {})

    def _keep(self, record: RunRecord, index: int) -> None:
        """Add or update the trial's record, then mark the best run so far."""
        known = index in self.records
        self.records[index] = record
        self._store(record, known)
        self._mark_best()

    def _store(self, record: RunRecord, known: bool) -> None:
        """The record into the history: updated when the history has it (`known`), else added. A full disk,
        or a record the history no longer keeps (beyond its 100 runs), leaves it in the sweep's result only."""
        with contextlib.suppress(OSError, StopIteration):
            (self.history.update if known else self.history.add)(record)

    def _mark_best(self) -> None:
        """record.sweep["best"] on the best of the runs that finished their epochs (halted ones left out) by
        the sweep's metric, and on no other."""
        best = self.best()
        best_id = best.run_id if best is not None else None
        # every record, every time: a later rung's record of the best run comes unmarked
        for index, record in self.records.items():
            marked = record.run_id == best_id
            if bool((record.sweep or {}).get("best")) != marked:
                sweep = {k: v for k, v in (record.sweep or {}).items() if k != "best"}
                self.records[index] = replace(record, sweep=sweep | ({"best": True} if marked else {}))
                self._store(self.records[index], True)

    def best(self) -> RunRecord | None:
        if self.metric is None:
            return None
        finished = [
            record
            for index, record in sorted(self.records.items())
            if index not in self.halted and record.status in FINISHED
        ]
        return best_run(finished, self.metric)

    # ---- successive halving ------------------------------------------------------------------------------

    def halve(self, trials: list[Trial], rungs: tuple[tuple[int, int], ...]) -> None:
        """Each rung trains the trials still in to its epochs; all but the last keep the better half by the
        metric (the best value each run reached) and halt the rest; a run that failed goes no further."""
        active = list(trials)
        for number, (epochs, _) in enumerate(rungs):
            last_rung = number == len(rungs) - 1
            for trial, record in self.train_each(active, epochs):
                goes_on = not last_rung and record.status in FINISHED  # to the next rung, unless the sweep stops
                self.emit(TrialEnd(trial.index, record, final=not goes_on))
            if self.stopped and not last_rung:
                self._stopped_between_rungs(active)
            if self.stopped or last_rung:
                return
            going = [trial for trial in active if self.records[trial.index].status != "failed"]
            ranked = sorted(going, key=lambda trial: self._rank(trial.index))
            keep = rungs[number + 1][1]
            for trial in ranked[keep:]:
                self._halt(trial.index, epochs)
            active = [trial for trial in going if trial in ranked[:keep]]

    def _stopped_between_rungs(self, active: list[Trial]) -> None:
        """The sweep was stopped: the runs of this rung that had ended their part of it (or had not begun it)
        wait for a rung that will not come, so they are stopped runs too (their checkpoints kept to go on
        from)."""
        for trial in active:
            record = self.records.get(trial.index)
            if record is None or record.status not in FINISHED:
                continue
            message = f"the sweep was stopped before this run's next rung, after epoch {record.epochs_done}"
            self._keep(replace(record, status="stopped", message=message), trial.index)
            self.emit(TrialEnd(trial.index, self.records[trial.index], final=True))

    def _rank(self, index: int) -> tuple[int, float, int]:
        """Sort key, better first: by the best value of the metric each run reached (none: last), then in order."""
        record = self.records[index]
        value = best_value(record, self.metric) if self.metric is not None else None
        if value is None:
            return (1, 0.0, index)
        return (0, -value if higher_is_better(self.metric) else value, index)

    def _halt(self, index: int, epochs: int) -> None:
        record = self.records[index]
        self.halted.add(index)
        message = f"successive halving stopped it after epoch {epochs}: not in the better half by {self.metric}"
        halted = replace(record, status="early-stopped", message=message, sweep={**record.sweep, "halted_at": epochs})
        self._keep(halted, index)
        self.emit(TrialEnd(index, self.records[index], final=True))

    # ---- files -------------------------------------------------------------------------------------------

    def _work_folder(self) -> Path:
        """Successive halving's checkpoints between rungs: a hidden folder among the runs (the same disk, so
        its files move into a run's folder at once), or a temporary one for a project never saved."""
        if self._work is None:
            folder = self.history.folder
            if folder is not None:
                self._work = folder / f".{self.sweep_id}"
                self._work.mkdir(parents=True, exist_ok=True)
            else:
                self._work = Path(tempfile.mkdtemp(prefix="netbuilder-sweep-"))
        return self._work

    def clean_up(self) -> None:
        """Move each trial's last checkpoints from the work folder into its run's folder (a run halted or
        stopped can be gone on with from there, as any run), then remove the work folder."""
        if self._work is None:
            return
        folder = self.history.folder
        for index, record in list(self.records.items()):
            source = self._work / record.run_id
            if folder is None or not (source / "last.pt").is_file():
                continue
            run_dir = folder / record.run_id
            run_dir.mkdir(parents=True, exist_ok=True)
            for name in CHECKPOINTS:
                if (source / name).is_file():
                    os.replace(source / name, run_dir / name)
            self._keep(replace(record, checkpoint=self.history.relative(run_dir / "last.pt")), index)
        shutil.rmtree(self._work, ignore_errors=True)

    def result(self) -> SweepResult:
        records = tuple(record for _, record in sorted(self.records.items()))
        return SweepResult(self.sweep_id, records, self.best(), self.metric, self.stopped)


def _steps(previous: RunRecord, record: RunRecord) -> list[list[float]]:
    """A trial's step losses over its rungs, as coarse as a run's are kept."""
    steps = previous.steps + record.steps
    if len(steps) <= MAX_STEP_POINTS:
        return steps
    return coarsen([s for s, _ in steps], [loss for _, loss in steps])


def _text(path: Path | None) -> str | None:
    return str(path) if path is not None else None

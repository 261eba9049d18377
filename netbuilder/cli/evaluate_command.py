"""`netbuilder evaluate PROJECT [--weights W] [--split val|train|FOLDER] [--json] [--report DIR]`: a trained
network's figures on a part of its data: the per-class table and averages (or MAE, RMSE and R²), the loss, the
samples, which weights and which split; as one JSON object with --json; and a report folder for a write-up
(torch loads only here). Without --weights, the project's last run's weights (the newest run whose weights are
still there), said as the file used. Weights of a run in the project's history, or with the run's record beside
them (`netbuilder train --out DIR`), are evaluated on that run's split (its validation fraction and seed), which
`netbuilder train --seed` may have set apart from the project's."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from netbuilder.cli.collector import freeze_imports
from netbuilder.cli.exit_codes import OK, PROBLEMS, USAGE
from netbuilder.cli.json_output import print_json
from netbuilder.codegen.report_table import report_table
from netbuilder.project import Project, SettingsError, load_project
from netbuilder.project.run_history import RunHistory, RunRecord

SPLIT_HELP = "val (the run's validation part, default), train (its training part), or a folder or file of such data"


def run_evaluate(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    history = RunHistory(project.path)
    weights = weights_to_use(args, history, "evaluate")
    if weights is None:
        return PROBLEMS
    from netbuilder.runtime.devices import default_workers  # torch loads here
    from netbuilder.training.console import METRICS_FILE
    from netbuilder.training.evaluation import EvaluationError, SplitError, evaluate_run
    from netbuilder.training.evaluation_report import Subject, evaluation_json, figure_lines, write_report
    from netbuilder.training.predict import device_for

    freeze_imports()
    project = with_run_split(project, run_of(history, weights, weights.parent / METRICS_FILE))
    try:
        with _progress_bar() as progress:
            evaluation = evaluate_run(
                project,
                weights,
                args.split,
                device=device_for(project.training.device),
                workers=default_workers(),
                progress=progress,
            )
    except SplitError as err:
        print(f"netbuilder: --split {args.split}: {err}", file=sys.stderr)
        return USAGE
    except EvaluationError as err:
        print(f"netbuilder: cannot evaluate with {weights}: {err}", file=sys.stderr)
        return PROBLEMS
    subject = Subject(
        project=project.name,
        project_file=str(args.project),
        weights=str(weights),
        split=split_words(project, args.split),
        date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    )
    if args.report is not None:
        try:
            write_report(args.report, evaluation, subject)
        except OSError as err:
            print(f"netbuilder: cannot write the report into {args.report}: {err.strerror or err}", file=sys.stderr)
            return USAGE
    if args.json:
        print_json(evaluation_json(evaluation, subject))
        return OK
    print(f"{project.name}: {evaluation.samples:,} samples of the {subject.split}")
    print(f"weights: {weights}{'' if args.weights is not None else ' (the last run)'}")
    if evaluation.classification:
        print()
        print(report_table(evaluation.report, list(evaluation.class_names)))
    print()
    print("  ".join(figure_lines(evaluation)))
    if args.report is not None:
        print(f"report: {args.report / 'report.md'}")
    return OK


def weights_to_use(args: argparse.Namespace, history: RunHistory, verb: str) -> Path | None:
    """`--weights`, or the last run's; None once stderr says there is no run to `verb` and what to do."""
    weights = args.weights if args.weights is not None else last_weights(history)
    if weights is None:
        print(
            f"netbuilder: {args.project} has no trained run to {verb}: train it (netbuilder train "
            f"{args.project}) or give --weights RUN/model.pt",
            file=sys.stderr,
        )
    return weights


def last_weights(history: RunHistory) -> Path | None:
    """The weights of the project's newest run that still has them, or None (a project never saved, never
    trained, or whose runs' weights are gone)."""
    for record in reversed(history.records):
        path = history.file_path(record, record.weights)
        if path is not None:
            return path
    return None


def run_of(history: RunHistory, weights: Path, beside: Path) -> RunRecord | None:
    """The run whose weights these are: one of the project's history, or the record `netbuilder train --out`
    keeps beside its model.pt (`beside`); None when neither is."""
    for record in history.records:
        path = history.file_path(record, record.weights)
        if path is not None and path.resolve() == weights.resolve():
            return record
    try:
        return RunRecord.from_dict(json.loads(beside.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, ValueError):  # no record there, or not one
        return None


def with_run_split(project: Project, record: RunRecord | None) -> Project:
    """The project with the split its run trained with (a run of `netbuilder train --seed 4` held out other
    samples than the project's seed would), so that its validation part is the one the run reported on, and
    the run's device setting (a run on the CPU is evaluated there, where a GPU would round differently)."""
    if record is None:
        return project
    names = ("val_fraction", "seed", "device")
    split = {name: record.settings[name] for name in names if name in record.settings}
    try:
        return replace(project, training=replace(project.training, **split))
    except SettingsError:  # a damaged record: the project's own split
        return project


def split_words(project: Project, split: str) -> str:
    """The split in words: which part of the data, by the project's split and seed, or the path given."""
    settings = project.training
    if split == "val":
        return f"validation part ({settings.val_fraction:.0%} of the data, seed {settings.seed})"
    if split == "train":
        return f"training part ({1 - settings.val_fraction:.0%} of the data, seed {settings.seed})"
    return str(split)


@contextmanager
def _progress_bar() -> Iterator[Callable[[int, int], None] | None]:
    """On a terminal, a bar on stderr with the samples done and the time left (as netbuilder train shows its
    steps), gone once the evaluation ends; elsewhere nothing."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    bar = Progress(
        TextColumn("evaluating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    task = bar.add_task("evaluate", total=None)

    def advance(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    with bar:
        yield advance

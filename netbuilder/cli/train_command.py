"""`netbuilder train PROJECT`: the training settings given as options, then the run in the terminal (torch loads
only here)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from netbuilder.analysis import analyze
from netbuilder.cli.exit_codes import OK, PROBLEMS, USAGE
from netbuilder.cli.messages import gaps_refusal
from netbuilder.project import Project, SettingsError, load_project
from netbuilder.project.settings import SETTING, SETTINGS
from netbuilder.runtime.machine_memory import ModelTooLarge, training_memory_warning


def run_train(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    given = {spec.name: getattr(args, spec.name) for spec in SETTINGS if getattr(args, spec.name) is not None}
    changes = {name: value for name, value in given.items() if value != "auto"}  # auto: found below
    if args.gpus is not None:  # --gpus N: N processes on CUDA, one GPU each
        changes |= {"processes": args.gpus, "device": "cuda"}
    try:
        project = replace(project, training=replace(project.training, **changes))
    except SettingsError as err:
        print(f"netbuilder: {SETTING[err.field].flag}: {err.reason}", file=sys.stderr)
        return USAGE
    gaps = gaps_refusal(project)
    if gaps:
        print(f"netbuilder: cannot train {args.project}: {gaps}", file=sys.stderr)
        return PROBLEMS
    from netbuilder.training.console import train_in_terminal  # torch loads only when training
    from netbuilder.training.out_of_memory import is_out_of_memory, out_of_memory_at_start, release_gpu_memory
    from netbuilder.training.program import ProgramError

    try:
        if given.get("batch_size") == "auto":
            project = _with_batch_size_found(project)
            if project is None:
                return PROBLEMS
        _warn_about_memory(project)
        outcome = train_in_terminal(project, out=args.out, resume=args.resume, tensorboard=args.tensorboard)
    except (ProgramError, ModelTooLarge) as err:
        print(f"netbuilder: cannot train {args.project}: {err}", file=sys.stderr)
        return PROBLEMS
    except (ValueError, OSError) as err:  # no GPU for --device cuda, an unreadable checkpoint
        print(f"netbuilder: {err}", file=sys.stderr)
        return USAGE
    except RuntimeError as err:  # out of the GPU's memory loading the data or building the model
        if not is_out_of_memory(err):
            raise
        failure = out_of_memory_at_start()
    else:
        return OK if outcome.ok else PROBLEMS
    release_gpu_memory()
    print(f"netbuilder: cannot train {args.project}: {failure}", file=sys.stderr)
    return PROBLEMS


def _with_batch_size_found(project: Project) -> Project | None:
    """`--batch-size auto`: the project with the largest batch size that fits its device, each size said as it
    is tried and the answer after; None (and why, on stderr) when not even one sample fits."""
    from netbuilder.training.batch_size_search import find_batch_size

    def trying(size: int, tries: int, most: int) -> None:
        print(f"netbuilder: trying batch size {size:,} (try {tries} of at most {most})", file=sys.stderr)

    found = find_batch_size(project, on_try=trying)
    if found.batch_size == 0:
        print(f"netbuilder: cannot train: {found.summary()}", file=sys.stderr)
        return None
    print(f"netbuilder: {found.summary()}; training with it", file=sys.stderr)
    return replace(project, training=replace(project.training, batch_size=found.batch_size))


def _warn_about_memory(project: Project) -> None:
    """One line on stderr when training would need more memory than the device has (an estimate, so the run
    still starts); ModelTooLarge when the parameters alone do not fit. After torch has loaded: it knows the
    GPU."""
    warning = training_memory_warning(analyze(project.graph), project.training)
    if warning:
        print(f"netbuilder: warning: {warning}", file=sys.stderr)

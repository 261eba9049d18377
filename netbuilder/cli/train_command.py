"""`netbuilder train PROJECT`: the training settings given as options, then the run in the terminal (torch loads
only here)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from netbuilder.analysis import analyze
from netbuilder.cli.collector import freeze_imports
from netbuilder.cli.exit_codes import OK, PROBLEMS, USAGE
from netbuilder.cli.messages import gaps_refusal
from netbuilder.project import Project, SettingsError, load_project
from netbuilder.project.settings import SETTING, SETTINGS, RunContext, without_effect
from netbuilder.runtime.machine_memory import ModelTooLarge, training_memory_warning

if TYPE_CHECKING:
    from netbuilder.training.batch_size_progress import TryProgress


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

    freeze_imports()
    _warn_about_no_effect(project, {name for name, value in changes.items() if value != SETTING[name].default})

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
    from netbuilder.training.batch_size_progress import SearchClock, gpu_memory
    from netbuilder.training.batch_size_search import find_batch_size

    clock = SearchClock(memory=gpu_memory)  # sizes are tried on a GPU only
    found = find_batch_size(project, on_try=lambda *tried: _say_trying(clock.trying(*tried)))
    if found.batch_size == 0:
        print(f"netbuilder: cannot train: {found.summary()}", file=sys.stderr)
        return None
    print(f"netbuilder: {found.summary()}; training with it", file=sys.stderr)
    return replace(project, training=replace(project.training, batch_size=found.batch_size))


def _say_trying(progress: TryProgress) -> None:
    """'trying batch size 1,024 (try 8 of at most 19, 0:06 so far, about 0:31 left)', on stderr."""
    print(f"netbuilder: trying batch size {progress.size:,} ({progress.words()})", file=sys.stderr)


def _warn_about_no_effect(project: Project, set_here: set[str]) -> None:
    """One line on stderr for each setting set on the command line that changes nothing for this network, this
    machine and these settings (the window greys its field out): the run goes on, with the value kept in the run's
    record. After torch has loaded: it counts the GPUs."""
    if not any(SETTING[name].no_effect for name in set_here):
        return
    import torch

    context = RunContext(gpus=torch.cuda.device_count()).with_network(project.graph, analyze(project.graph).model_nodes)
    for name, why in without_effect(project.training, context).items():
        if name in set_here:
            spec = SETTING[name]
            value = spec.shown(getattr(project.training, name))
            print(f"netbuilder: warning: {spec.flag} {value} has no effect: {why}", file=sys.stderr)


def _warn_about_memory(project: Project) -> None:
    """One line on stderr when training would need more memory than the device has (an estimate, so the run
    still starts); ModelTooLarge when the parameters alone do not fit. After torch has loaded: it knows the
    GPU."""
    warning = training_memory_warning(analyze(project.graph), project.training)
    if warning:
        print(f"netbuilder: warning: {warning}", file=sys.stderr)

"""`netbuilder lr-find PROJECT [--start] [--end] [--steps] [--device] [--json]`: the learning-rate range test
(netbuilder.training.lr_finder): progress on stderr, then the smoothed loss at about ten of the rates tried and
the suggested rate, with where to set it; --json prints the whole curve as one object (torch loads only here).
The project file is not changed."""

from __future__ import annotations

import argparse
import sys

from netbuilder.cli.collector import freeze_imports
from netbuilder.cli.exit_codes import OK, PROBLEMS, USAGE
from netbuilder.cli.json_output import print_json
from netbuilder.cli.messages import gaps_refusal
from netbuilder.project import Project, load_project

TABLE_ROWS = 10


def run_lr_find(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    gaps = gaps_refusal(project)
    if gaps:
        print(f"netbuilder: cannot run the range test on {args.project}: {gaps}", file=sys.stderr)
        return PROBLEMS
    from netbuilder.training.lr_finder import find_learning_rate  # torch loads here
    from netbuilder.training.program import ProgramError

    freeze_imports()

    def progress(step: int, steps: int, rate: float, loss: float) -> None:
        print(f"\rstep {step}/{steps}  rate {rate:.2e}  loss {loss:.4g}", end="", file=sys.stderr, flush=True)

    try:
        result = find_learning_rate(
            project, start=args.start, end=args.end, steps=args.steps, device=args.device, progress=progress
        )
    except ProgramError as err:
        print(f"netbuilder: cannot run the range test on {args.project}: {err}", file=sys.stderr)
        return PROBLEMS
    except ValueError as err:  # rates that do not grow, too few steps, no GPU for --device cuda
        print(f"netbuilder: {err}", file=sys.stderr)
        return USAGE
    print(file=sys.stderr)
    if result.stopped_early:
        print(f"stopped at rate {result.rates[-1]:.2e}: the loss blew up", file=sys.stderr)
    if args.json:
        print_json(
            {
                "rates": result.rates,
                "losses": result.losses,
                "smoothed": result.smoothed,
                "suggestion": result.suggestion,
                "stopped_early": result.stopped_early,
            }
        )
        return OK
    print(f"{'rate':>10}  smoothed loss")
    count = len(result.rates)
    for index in sorted({round(i * (count - 1) / (TABLE_ROWS - 1)) for i in range(TABLE_ROWS)}):
        print(f"{result.rates[index]:>10.2e}  {result.smoothed[index]:.4g}")
    if result.suggestion is None:
        print("too few steps to suggest a rate: give more --steps, or a smaller --end")
        return PROBLEMS
    print(f"suggested learning rate: {result.suggestion:.2e} (where the smoothed loss falls fastest)")
    print(f"set lr of {_optimizer_label(project)} to {result.suggestion:.2g} in the window")
    return OK


def _optimizer_label(project: Project) -> str:
    """The label of the project's optimizer node (the range test has run, so there is one)."""
    from netbuilder.analysis import analyze

    node = analyze(project.graph).training_task.optimizer_node
    return project.graph.nodes[node].label

"""`netbuilder check PROJECT`: each problem with its node, message and fix, and a partial import's gaps."""

from __future__ import annotations

import argparse

from netbuilder.analysis import analyze
from netbuilder.cli.exit_codes import OK, PROBLEMS
from netbuilder.cli.json_output import diagnostic_json, nodes_json, print_json
from netbuilder.cli.messages import diagnostic_text, print_import_gaps
from netbuilder.project import load_project
from netbuilder.project.import_gaps import gaps_to_list


def run_check(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    analysis = analyze(project.graph)
    training = not args.model_only
    problems = analysis.problems(training=training)
    failed = any(d.is_error for d in problems) or bool(project.import_gaps)
    if args.json:
        print_json(
            {
                "project": project.name,
                "ok": not failed,
                "nodes": nodes_json(project, analysis),
                "problems": [diagnostic_json(project, d) for d in problems],
                "import_gaps": gaps_to_list(project.import_gaps),
            }
        )
        return PROBLEMS if failed else OK
    if not problems and not project.import_gaps:
        print("no problems")
        return OK
    for diagnostic in problems:
        print(diagnostic_text(project, diagnostic))
    if problems:
        errors = sum(d.is_error for d in problems)
        print(f"\n{errors} error(s), {len(problems) - errors} warning(s)")
    print_import_gaps(project, spaced=bool(problems))
    return PROBLEMS if failed else OK

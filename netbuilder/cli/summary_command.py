"""`netbuilder summary PROJECT`: a table of layers, output shapes, parameters and MACs."""

from __future__ import annotations

import argparse

from netbuilder.analysis import analyze
from netbuilder.analysis.summary import summary_rows
from netbuilder.cli.exit_codes import OK, PROBLEMS
from netbuilder.cli.json_output import nodes_json, print_json
from netbuilder.cli.messages import print_import_gaps
from netbuilder.project import load_project
from netbuilder.project.import_gaps import gaps_to_list


def run_summary(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    analysis = analyze(project.graph)
    failed = analysis.has_errors(training=False) or bool(project.import_gaps)
    if args.json:
        print_json(
            {
                "project": project.name,
                "ok": not failed,
                "nodes": nodes_json(project, analysis),
                "totals": {"parameters": analysis.total_params, "macs": analysis.total_macs},
                "import_gaps": gaps_to_list(project.import_gaps),
            }
        )
        return PROBLEMS if failed else OK
    rows = [("node", "block", "output shape", "parameters", "MACs")]
    for row in summary_rows(project.graph, analysis, expand=args.expand):
        counted = row.parameters is not None
        rows.append(
            (
                row.label,
                row.block,
                row.shapes,
                f"{row.parameters:,}" if counted else "",
                f"{row.macs:,}" if counted else "",
            )
        )
    rows.append(("total", "", "", f"{analysis.total_params:,}", f"{analysis.total_macs:,}"))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    print(f"{project.name}  (N = batch size; MACs per sample)\n")
    for i, row in enumerate(rows):
        if i in (1, len(rows) - 1):
            print("  ".join("-" * w for w in widths))
        cells = [row[c].ljust(widths[c]) if c < 3 else row[c].rjust(widths[c]) for c in range(5)]
        print("  ".join(cells).rstrip())
    problems = analysis.problems(training=False)
    if problems:
        print(f"\n{len(problems)} problem(s): run `netbuilder check {args.project}` for details")
    print_import_gaps(project, spaced=True)
    return PROBLEMS if failed else OK

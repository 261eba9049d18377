"""summary.md: the rows of `netbuilder summary` (analysis.summary) as a Markdown table."""

from __future__ import annotations

from pathlib import Path

from netbuilder.analysis import Analysis
from netbuilder.analysis.summary import summary_rows
from netbuilder.atomic_file import write_atomically
from netbuilder.project import Project

FILE_NAME = "summary.md"
HEADER = ("node", "block", "output shape", "parameters", "MACs")


def summary_markdown(project: Project, analysis: Analysis) -> str:
    """A title, a table row per node and a total row; MACs are per sample, N is the batch size."""
    lines = [
        f"# {_cell(project.name)}",
        "",
        "N is the batch size; MACs are per sample.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "| --- | --- | --- | ---: | ---: |",
    ]
    for row in summary_rows(project.graph, analysis):
        numbers = ("" if n is None else f"{n:,}" for n in (row.parameters, row.macs))
        lines.append("| " + " | ".join((_cell(row.label), row.block, row.shapes, *numbers)) + " |")
    lines.append(f"| **total** | | | {analysis.total_params:,} | {analysis.total_macs:,} |")
    return "\n".join(lines) + "\n"


def write_summary(project: Project, analysis: Analysis, folder: Path) -> Path:
    path = folder / FILE_NAME
    write_atomically(path, summary_markdown(project, analysis).encode("utf-8"))
    return path


def _cell(text: str) -> str:
    """A label as table text: one line, its pipes escaped so they cannot open a new column."""
    return " ".join(text.split()).replace("\\", "\\\\").replace("|", "\\|")

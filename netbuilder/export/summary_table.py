"""summary.md: the rows of `netbuilder summary` (analysis.summary) as a Markdown table.

Every text a project holds (its name, labels) and every text made from it is escaped, so that whatever a
label says reads as itself: no heading, emphasis, code, link, image, autolink or HTML passes through."""

from __future__ import annotations

import re
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
        lines.append("| " + " | ".join((_cell(row.label), _cell(row.block), _cell(row.shapes), *numbers)) + " |")
    lines.append(f"| **total** | | | {analysis.total_params:,} | {analysis.total_macs:,} |")
    return "\n".join(lines) + "\n"


def write_summary(project: Project, analysis: Analysis, folder: Path) -> Path:
    path = folder / FILE_NAME
    write_atomically(path, summary_markdown(project, analysis).encode("utf-8"))
    return path


# Punctuation that means something inline in CommonMark or GitHub's Markdown (emphasis, code, links and
# images, autolinks and HTML, entities, strikethrough, table pipes, a heading's closing #s) or that lets a
# renderer find a bare link (":", "@", "."): each is written backslash-escaped, which every renderer shows as
# the character itself. Parentheses and commas stay, so a shape reads "(N, 10)".
_MARKUP = re.compile(r"([\\`*_\[\]<>&~|!#:@.])")


def _cell(text: str) -> str:
    """Text as Markdown that shows exactly it: on one line, its markup characters escaped."""
    return _MARKUP.sub(r"\\\1", " ".join(text.split()))

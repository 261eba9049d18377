"""What several commands say alike: a diagnostic as text, the first error that stops the model from being
generated, and a partial import's gaps (their lines, and the refusal while they stand)."""

from __future__ import annotations

from netbuilder.analysis import Diagnostic, analyze
from netbuilder.project import Project
from netbuilder.project.import_gaps import gaps_headline, grouped_gap_lines

# what ends a partial import's list of gaps (Project.import_gaps): said wherever the list is shown
GAPS_STAND = (
    "they stay listed until the gaps are filled: in the window, once an edit makes the model check clean, or "
    "with Dismiss in its banner"
)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _where(project: Project, diagnostic: Diagnostic) -> str:
    if diagnostic.node is None:
        return "project"
    node = project.graph.nodes[diagnostic.node]
    port = f".{diagnostic.port}" if diagnostic.port else ""
    return f"{_one_line(node.label)}{port} ({node.block})"


def diagnostic_text(project: Project, diagnostic: Diagnostic) -> str:
    text = f"{_where(project, diagnostic)}: {diagnostic.severity}: {diagnostic.message}"
    if diagnostic.fix is not None:
        text += f"\n    fix: {diagnostic.fix.describe(project.graph)}"
    return text


def first_model_error(project: Project) -> str:
    """The first error that stops the model from being generated, where it is and what it says; '' if none."""
    errors = analyze(project.graph).errors(training=False)
    if not errors:
        return ""
    more = f" ({len(errors) - 1} more: netbuilder check --model-only)" if len(errors) > 1 else ""
    return f"{_where(project, errors[0])}: {errors[0].message}{more}"


def gaps_refusal(project: Project) -> str:
    """Why a project whose import left gaps is not exported; '' when none stand."""
    if not project.import_gaps:
        return ""
    return f"{gaps_headline(len(project.import_gaps))} (netbuilder check lists them); {GAPS_STAND}"


def print_import_gaps(project: Project, *, spaced: bool) -> None:
    """A partial import's gaps, after the diagnostics (`spaced`: a blank line after what came before): one line
    per call and reason, as the import listed them."""
    if not project.import_gaps:
        return
    blank = "\n" if spaced else ""
    print(f"{blank}{gaps_headline(len(project.import_gaps))}:")
    for line in grouped_gap_lines(project.import_gaps):
        print(f"  {_one_line(line)}")
    print(GAPS_STAND)

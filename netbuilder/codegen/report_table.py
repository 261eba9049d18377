"""A classifier's per-class figures as the text table a person reads at the end of a run.

Plain Python, so the one function serves both sides: the exported train.py carries its source and prints the
table when it finishes, and `netbuilder train` prints the same table for the same run.
"""

from __future__ import annotations


def report_table(report: dict, class_names: list[str]) -> str:
    """The figures of `classification_report(confusion)` under one row per class (named by `class_names`, in
    class-index order): precision, recall, F1 and support, then the accuracy and the macro and support-weighted
    averages, laid out as scikit-learn's classification_report prints them. A long class name is cut to 24
    characters so that the columns stay together."""
    names = [name if len(name) <= 24 else name[:23] + "…" for name in map(str, class_names)]
    width = max(len("weighted avg"), *map(len, names))
    lines = [f"{'':>{width}}  precision     recall         f1    support", ""]
    for name, row in zip(names, report["classes"], strict=True):
        figures = f"{row['precision']:11.3f}{row['recall']:11.3f}{row['f1']:11.3f}"
        lines.append(f"{name:>{width}}{figures}{row['support']:11d}")
    lines.append("")
    lines.append(f"{'accuracy':>{width}}{'':22}{report['accuracy']:11.3f}{report['support']:11d}")
    for label, key in (("macro avg", "macro"), ("weighted avg", "weighted")):
        average = report[key]
        figures = f"{average['precision']:11.3f}{average['recall']:11.3f}{average['f1']:11.3f}"
        lines.append(f"{label:>{width}}{figures}{report['support']:11d}")
    return "\n".join(lines)

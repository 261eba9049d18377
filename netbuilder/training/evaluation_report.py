"""An evaluation as a person keeps it: the figures as one JSON object (`netbuilder evaluate --json`, metrics.json)
and a report folder to attach to a write-up (`--report DIR`).

The folder holds report.md (what was evaluated: project, weights, split, date; the figures; the per-class table;
the pictures inline), confusion.png, roc.png and pr.png for a classifier (binary: the positive class, class 1;
more classes: one curve per class against the rest, its area in the legend), scatter.png for values, and
metrics.json. Each file is written atomically; an existing folder is reused, and of what is in it only these
files are replaced (or, when this report has none of one, such as scatter.png beside a classifier's, removed).
Pictures are drawn by matplotlib's Agg canvas on a Figure of their own: no pyplot state, no window.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy

from netbuilder.atomic_file import write_atomically
from netbuilder.training.curves import ClassCurves
from netbuilder.training.evaluation import Evaluation

REPORT, METRICS, CONFUSION, ROC, PR, SCATTER = (
    "report.md",
    "metrics.json",
    "confusion.png",
    "roc.png",
    "pr.png",
    "scatter.png",
)
REPORT_FILES = (REPORT, METRICS, CONFUSION, ROC, PR, SCATTER)
MAX_CELL_TEXTS = 30  # classes up to which each confusion cell shows its count (beyond, the shades alone)
MAX_SCATTER_POINTS = 20_000  # values drawn in scatter.png: a random choice of them beyond this
DPI = 150


@dataclass(frozen=True)
class Subject:
    """What was evaluated, as the report and the JSON name it."""

    project: str  # the project's name
    project_file: str
    weights: str
    split: str  # in words: "validation part (20% of the data, seed 0)", or the folder
    date: str  # when, in UTC


def evaluation_json(evaluation: Evaluation, subject: Subject) -> dict[str, Any]:
    """The figures as plain JSON values: what was evaluated, the sample count, the loss and the metrics; for a
    classifier also the class names, the confusion matrix, the per-class figures and each class's ROC AUC and
    average precision against the rest (null where the split holds no sample of the class). NaN is null."""
    data: dict[str, Any] = {
        "project": subject.project,
        "project_file": subject.project_file,
        "weights": subject.weights,
        "split": subject.split,
        "date": subject.date,
        "task": evaluation.kind,
        "samples": evaluation.samples,
        "loss": evaluation.loss,
        **evaluation.metrics,
    }
    if evaluation.classification:
        curves = evaluation.class_curves
        names = evaluation.class_names
        data.update(
            class_names=list(names),
            confusion=evaluation.confusion,
            report=evaluation.report,
            roc_auc={name: c.roc.area for name, c in zip(names, curves, strict=True)},
            average_precision={name: c.pr.area for name, c in zip(names, curves, strict=True)},
        )
    return _finite(data)


def write_report(folder: Path, evaluation: Evaluation, subject: Subject) -> list[Path]:
    """Write the report into `folder` (made if need be); the files written, report.md first. OSError when the
    folder cannot be made or written."""
    folder.mkdir(parents=True, exist_ok=True)
    pictures: dict[str, bytes] = {}
    if evaluation.classification:
        curves = evaluation.class_curves
        pictures[CONFUSION] = confusion_png(evaluation.confusion, evaluation.class_names)
        pictures[ROC] = curves_png(curves, evaluation.class_names, roc=True)
        pictures[PR] = curves_png(curves, evaluation.class_names, roc=False)
    else:
        figures = "\n".join(figure_lines(evaluation)[1:])  # MAE, RMSE, R²
        pictures[SCATTER] = scatter_png(evaluation.predicted, evaluation.true, figures)
    metrics = json.dumps(evaluation_json(evaluation, subject), indent=1, allow_nan=False) + "\n"
    files = {
        REPORT: report_markdown(evaluation, subject, list(pictures)).encode("utf-8"),
        **pictures,
        METRICS: metrics.encode("utf-8"),
    }
    written = []
    for name, data in files.items():
        write_atomically(folder / name, data)
        written.append(folder / name)
    for name in REPORT_FILES:  # an earlier report's picture that this one has not (scatter.png of values)
        if name not in files and (folder / name).is_file():
            (folder / name).unlink()
    return written


def report_markdown(evaluation: Evaluation, subject: Subject, pictures: list[str]) -> str:
    """report.md: what was evaluated, the figures, the per-class table (with each class's areas) and the
    pictures, linked by their file names beside it."""
    lines = [
        f"# Evaluation of {subject.project}",
        "",
        "| | |",
        "|---|---|",
        f"| Project | `{subject.project_file}` |",
        f"| Weights | `{subject.weights}` |",
        f"| Split | {_cell(subject.split)} |",
        f"| Samples | {evaluation.samples:,} |",
        f"| Date | {subject.date} |",
        "",
        "## Figures",
        "",
        *(f"- {line}" for line in figure_lines(evaluation)),
        "",
    ]
    if evaluation.classification:
        lines += ["## Per class", "", *_class_table(evaluation), ""]
    titles = {
        CONFUSION: "Confusion matrix",
        ROC: "ROC curves",
        PR: "Precision-recall curves",
        SCATTER: "Predicted against true",
    }
    for name in pictures:
        lines += [f"## {titles[name]}", "", f"![{titles[name]}]({name})", ""]
    lines += [f"The figures as JSON: [{METRICS}]({METRICS}).", ""]
    return "\n".join(lines)


def figure_lines(evaluation: Evaluation) -> list[str]:
    """The headline figures in words, one a line: the loss, then accuracy and top-5 accuracy, or MAE, RMSE and R²;
    for a binary classifier the positive class's ROC AUC and average precision."""
    m = evaluation.metrics
    lines = [f"loss {evaluation.loss:.4f}"]
    if not evaluation.classification:
        return [*lines, f"MAE {m['mae']:.4g}", f"RMSE {m['rmse']:.4g}", f"R² {m['r2']:.4g}"]
    lines.append(f"accuracy {m['accuracy']:.1%}")
    if "top5_accuracy" in m:
        lines.append(f"top-5 accuracy {m['top5_accuracy']:.1%}")
    if len(evaluation.class_names) == 2:
        positive = evaluation.class_curves[1]
        name = evaluation.class_names[1]
        lines.append(
            f"ROC AUC {_area(positive.roc.area)}, average precision {_area(positive.pr.area)} (positive class: {name})"
        )
    return lines


def _class_table(evaluation: Evaluation) -> list[str]:
    report, curves = evaluation.report, evaluation.class_curves
    lines = [
        "| Class | Precision | Recall | F1 | Support | ROC AUC | Average precision |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for name, row, curve in zip(evaluation.class_names, report["classes"], curves, strict=True):
        lines.append(
            f"| {_cell(name)} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | {row['support']:,} "
            f"| {_area(curve.roc.area)} | {_area(curve.pr.area)} |"
        )
    lines.append(f"| **accuracy** | | | {report['accuracy']:.3f} | {report['support']:,} | | |")
    for label, key in (("macro avg", "macro"), ("weighted avg", "weighted")):
        a = report[key]
        lines.append(
            f"| **{label}** | {a['precision']:.3f} | {a['recall']:.3f} | {a['f1']:.3f} | {report['support']:,} | | |"
        )
    return lines


# ---- pictures ------------------------------------------------------------------------------------------------


def confusion_png(confusion: list[list[int]], class_names: tuple[str, ...]) -> bytes:
    """The matrix as shades of each true class's share (rows normalised, so a rare class reads as well as a
    common one), each cell with its count where there are at most MAX_CELL_TEXTS classes; class names on both
    axes."""
    counts = numpy.asarray(confusion, dtype=numpy.int64)
    classes = len(counts)
    shares = counts / numpy.maximum(counts.sum(axis=1, keepdims=True), 1)
    side = min(16.0, max(5.0, 0.45 * classes + 2.5))
    figure, axes = _figure((side + 1.2, side))
    image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    colour_bar = figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    colour_bar.set_label("share of the true class")
    names = [_short(name) for name in class_names]
    axes.set_xticks(range(classes), names, rotation=45 if max(map(len, names), default=0) > 3 else 0, ha="right")
    axes.set_yticks(range(classes), names)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    axes.set_title(f"Confusion matrix ({counts.sum():,} samples)")
    if classes <= MAX_CELL_TEXTS:
        size = max(5, min(10, 120 // max(classes, 1)))
        for row in range(classes):
            for column in range(classes):
                colour = "white" if shares[row, column] > 0.5 else "black"
                axes.text(
                    column, row, f"{counts[row, column]:,}", ha="center", va="center", color=colour, fontsize=size
                )
    return _png(figure)


def curves_png(curves: tuple[ClassCurves, ...], class_names: tuple[str, ...], *, roc: bool) -> bytes:
    """ROC (`roc`) or precision-recall curves: for two classes the positive one's (class 1), for more one curve
    per class against the rest, its area in the legend (a class with no sample in the split is named there
    without a curve)."""
    shown = [1] if len(curves) == 2 else list(range(len(curves)))
    legend_columns = 1 + len(shown) // 30
    outside = len(shown) > 12  # a long legend goes beside the plot, which widens for it, not over the curves
    figure, axes = _figure((6.0 + 2.6 * legend_columns, 6.0) if outside else (6.5, 6.0))
    colours = _colours(len(shown))
    for colour, c in zip(colours, shown, strict=True):
        curve = curves[c].roc if roc else curves[c].pr
        name = _short(class_names[c])
        if math.isnan(curve.area):
            axes.plot([], [], color=colour, label=f"{name} (no samples of it)")
            continue
        area = "AUC" if roc else "AP"
        # precision holds its value until recall falls to the next point: steps, as scikit-learn draws them
        steps = "default" if roc else "steps-post"
        label = f"{name} ({area} {curve.area:.3f})"
        axes.plot(curve.x, curve.y, color=colour, linewidth=1.6, drawstyle=steps, label=label)
    if roc:
        axes.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1, label="chance")
        axes.set_xlabel("false positive rate")
        axes.set_ylabel("true positive rate")
        kind = "ROC curve"
    else:
        if len(curves) == 2:  # what a classifier that ranks at random reaches: the positive class's share
            share = curves[1].positives / max(curves[1].positives + curves[1].negatives, 1)
            axes.axhline(share, color="0.6", linestyle="--", linewidth=1, label=f"chance (positive share {share:.2f})")
        axes.set_xlabel("recall")
        axes.set_ylabel("precision")
        kind = "Precision-recall curve"
    title = (
        f"{kind}, positive class: {_short(class_names[1])}"
        if len(curves) == 2
        else f"{kind}s, each class against the rest"
    )
    axes.set_title(title)
    axes.set_xlim(-0.01, 1.01)
    axes.set_ylim(-0.01, 1.01)
    axes.set_aspect("equal")
    axes.grid(True, color="0.9")
    if outside:
        axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7, ncols=legend_columns)
    else:
        axes.legend(loc="lower right" if roc else "lower left", fontsize=8)
    return _png(figure)


def scatter_png(predicted: numpy.ndarray, true: numpy.ndarray, figures: str = "") -> bytes:
    """Each predicted value against its true value (every output of every sample; a random choice of
    MAX_SCATTER_POINTS beyond that many), with the line y = x that a perfect network would lie on, and
    `figures` (MAE, RMSE, R² in words) in a corner."""
    x, y = numpy.asarray(true, dtype=numpy.float64).ravel(), numpy.asarray(predicted, dtype=numpy.float64).ravel()
    count, samples = len(x), len(numpy.asarray(true))
    if len(x) > MAX_SCATTER_POINTS:
        chosen = numpy.random.default_rng(0).choice(len(x), MAX_SCATTER_POINTS, replace=False)
        x, y = x[chosen], y[chosen]
    figure, axes = _figure((6.0, 6.0))
    alpha = 0.6 if len(x) < 1000 else 0.25
    axes.scatter(x, y, s=8, alpha=alpha, color="tab:blue", edgecolors="none", label="samples")
    finite = numpy.isfinite(x) & numpy.isfinite(y)
    values = numpy.r_[x[finite], y[finite]]
    low, high = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
    margin = (high - low) * 0.03 or 1.0
    low, high = low - margin, high + margin
    axes.plot([low, high], [low, high], color="0.4", linestyle="--", linewidth=1, label="y = x")
    axes.set_xlim(low, high)
    axes.set_ylim(low, high)
    axes.set_aspect("equal")
    axes.set_xlabel("true value")
    axes.set_ylabel("predicted value")
    values = f"{count:,} values of {samples:,} samples" if count != samples else f"{count:,} samples"
    drawn = f", {len(x):,} of them drawn" if len(x) < count else ""
    axes.set_title(f"Predicted against true ({values}{drawn})", fontsize=10)
    axes.grid(True, color="0.9")
    axes.legend(loc="upper left", fontsize=8)
    if figures:
        box = {"boxstyle": "round", "facecolor": "white", "edgecolor": "0.8"}
        axes.text(0.97, 0.03, figures, transform=axes.transAxes, ha="right", va="bottom", fontsize=8, bbox=box)
    return _png(figure)


def _figure(size: tuple[float, float]):
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, dpi=DPI, layout="constrained")
    return figure, figure.add_subplot()


def _png(figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    stream = io.BytesIO()
    figure.savefig(stream, format="png")
    return stream.getvalue()


def _colours(count: int) -> list:
    """Distinct colours: tab10 up to ten curves, tab20 up to twenty, evenly along turbo beyond (a hue wheel
    would give the first and the last curve the same red)."""
    from matplotlib import colormaps

    if count <= 10:
        return [colormaps["tab10"](i) for i in range(count)]
    if count <= 20:
        return [colormaps["tab20"](i) for i in range(count)]
    return [colormaps["turbo"](i / (count - 1)) for i in range(count)]


def _short(name: str, most: int = 20) -> str:
    name = str(name)
    return name if len(name) <= most else name[: most - 1] + "…"


def _area(area: float) -> str:
    return "–" if math.isnan(area) else f"{area:.3f}"


def _cell(text: str) -> str:
    """Text inside a Markdown table cell: its bars escaped, on one line."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _finite(value: Any) -> Any:
    """JSON has no NaN: a figure that is not a finite number (an area with no positive) becomes null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value

"""How well a classifier's scores rank one class above the rest: ROC and precision-recall curves and their areas.

Plain numpy (no torch), so the window's Training dock and `netbuilder evaluate` read the same figures from the
probabilities a run's network gives its validation samples. Every distinct score is a threshold; a sample counts
as predicted positive at threshold t when its score is >= t. scikit-learn's `roc_curve` (without dropping
intermediate points), `roc_auc_score`, `precision_recall_curve` and `average_precision_score` are the oracle in
the tests, and the points are in their order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy


@dataclass(frozen=True)
class Curve:
    """Points of a curve (`x`, `y`) and the threshold of each; `area` is the ROC AUC or the average precision,
    NaN when the samples hold no positive (or, for ROC, no negative): nothing can be ranked then."""

    x: numpy.ndarray
    y: numpy.ndarray
    thresholds: numpy.ndarray
    area: float


@dataclass(frozen=True)
class ClassCurves:
    """One class against the rest: its ROC and precision-recall curves, and how many samples are of it or not."""

    roc: Curve
    pr: Curve
    positives: int
    negatives: int


def _counts(scores: numpy.ndarray, positive: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """At each distinct score, highest first: the positives and negatives scoring at least that much."""
    scores = numpy.asarray(scores, dtype=numpy.float64).reshape(-1)
    positive = numpy.asarray(positive, dtype=bool).reshape(-1)
    if scores.shape != positive.shape:
        raise ValueError(f"{len(scores)} scores but {len(positive)} labels")
    order = numpy.argsort(scores, kind="mergesort")[::-1]
    scores, positive = scores[order], positive[order]
    last_of_each = numpy.r_[numpy.flatnonzero(numpy.diff(scores)), len(scores) - 1] if len(scores) else []
    true_positives = numpy.cumsum(positive)[last_of_each]
    false_positives = numpy.asarray(last_of_each) + 1 - true_positives
    return scores[last_of_each], true_positives.astype(numpy.float64), false_positives.astype(numpy.float64)


def roc_curve(scores: numpy.ndarray, positive: numpy.ndarray) -> Curve:
    """The false positive rate (`x`) against the true positive rate (`y`) as the threshold falls, from (0, 0)
    (threshold infinity) to (1, 1); `area` by trapezoids."""
    thresholds, tps, fps = _counts(scores, positive)
    tps, fps = numpy.r_[0.0, tps], numpy.r_[0.0, fps]
    thresholds = numpy.r_[numpy.inf, thresholds]
    positives, negatives = tps[-1], fps[-1]
    x = fps / negatives if negatives else numpy.full_like(fps, numpy.nan)
    y = tps / positives if positives else numpy.full_like(tps, numpy.nan)
    area = float(numpy.trapezoid(y, x)) if positives and negatives else float("nan")
    return Curve(x, y, thresholds, area)


def precision_recall_curve(scores: numpy.ndarray, positive: numpy.ndarray) -> Curve:
    """Recall (`x`, falling) against precision (`y`) as the threshold rises, ending at (0, 1); `area` is the
    average precision: the precision at each threshold weighted by the recall it adds."""
    thresholds, tps, fps = _counts(scores, positive)
    predicted = tps + fps
    precision = numpy.divide(tps, predicted, out=numpy.zeros_like(tps), where=predicted != 0)
    recall = tps / tps[-1] if len(tps) and tps[-1] else numpy.ones_like(tps)
    x, y = numpy.r_[recall[::-1], 0.0], numpy.r_[precision[::-1], 1.0]
    area = float(-numpy.sum(numpy.diff(x) * y[:-1])) if len(tps) and tps[-1] else float("nan")
    return Curve(x, y, thresholds[::-1].copy(), area)


def one_vs_rest(probabilities: numpy.ndarray, true: numpy.ndarray, cls: int) -> ClassCurves:
    """Class `cls` against every other: its probability ranks the samples, those truly of it are the positives.
    For a binary classifier, class 1's curves are the usual ones."""
    probabilities = numpy.asarray(probabilities)
    if not 0 <= cls < probabilities.shape[1]:
        raise IndexError(f"class {cls} of {probabilities.shape[1]}")
    positive = numpy.asarray(true).reshape(-1) == cls
    scores = probabilities[:, cls]
    return ClassCurves(
        roc_curve(scores, positive),
        precision_recall_curve(scores, positive),
        int(positive.sum()),
        int((~positive).sum()),
    )

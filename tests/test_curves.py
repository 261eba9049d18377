"""ROC and precision-recall curves of netbuilder.training.curves, with scikit-learn as the oracle."""

from __future__ import annotations

import math

import numpy
import pytest
from sklearn import metrics

from netbuilder.training.curves import one_vs_rest, precision_recall_curve, roc_curve


def _cases():
    rng = numpy.random.default_rng(7)
    for case in range(40):
        n = int(rng.integers(2, 300))
        positive = rng.random(n) < rng.uniform(0.05, 0.95)
        if positive.all() or not positive.any():
            positive[0] = not positive[0]
        # few distinct scores in some cases (ties), continuous ones in others, informative or not
        scores = rng.random(n) + positive * rng.uniform(0.0, 1.0)
        if case % 3 == 0:
            scores = numpy.round(scores, 1)
        yield scores, positive


@pytest.mark.parametrize(("scores", "positive"), list(_cases()))
def test_roc_curve_equals_scikit_learn(scores, positive):
    curve = roc_curve(scores, positive)
    fpr, tpr, thresholds = metrics.roc_curve(positive, scores, drop_intermediate=False)
    numpy.testing.assert_allclose(curve.x, fpr)
    numpy.testing.assert_allclose(curve.y, tpr)
    numpy.testing.assert_allclose(curve.thresholds[1:], thresholds[1:])
    assert curve.thresholds[0] == math.inf
    assert curve.area == pytest.approx(metrics.roc_auc_score(positive, scores), abs=1e-12)


@pytest.mark.parametrize(("scores", "positive"), list(_cases()))
def test_precision_recall_curve_equals_scikit_learn(scores, positive):
    curve = precision_recall_curve(scores, positive)
    precision, recall, thresholds = metrics.precision_recall_curve(positive, scores)
    numpy.testing.assert_allclose(curve.y, precision)
    numpy.testing.assert_allclose(curve.x, recall)
    numpy.testing.assert_allclose(curve.thresholds, thresholds)
    assert curve.area == pytest.approx(metrics.average_precision_score(positive, scores), abs=1e-12)


def test_one_vs_rest_ranks_by_the_class_probability():
    rng = numpy.random.default_rng(3)
    probabilities = rng.dirichlet(numpy.ones(4), size=200)
    true = rng.integers(0, 4, size=200)
    curves = one_vs_rest(probabilities, true, 2)
    assert (curves.positives, curves.negatives) == ((true == 2).sum(), (true != 2).sum())
    assert curves.roc.area == pytest.approx(metrics.roc_auc_score(true == 2, probabilities[:, 2]))
    assert curves.pr.area == pytest.approx(metrics.average_precision_score(true == 2, probabilities[:, 2]))
    with pytest.raises(IndexError):
        one_vs_rest(probabilities, true, 4)


def test_a_perfect_ranking_has_area_one_and_no_positive_has_none():
    scores = numpy.array([0.1, 0.2, 0.8, 0.9])
    assert roc_curve(scores, [0, 0, 1, 1]).area == 1.0
    assert precision_recall_curve(scores, [0, 0, 1, 1]).area == 1.0
    assert math.isnan(roc_curve(scores, [0, 0, 0, 0]).area)
    assert math.isnan(precision_recall_curve(scores, [0, 0, 0, 0]).area)
    assert math.isnan(roc_curve(scores, [1, 1, 1, 1]).area)
    with pytest.raises(ValueError):
        roc_curve(scores, [0, 1])

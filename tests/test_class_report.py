"""Precision, recall, F1 and support from a confusion matrix equal scikit-learn's classification_report."""

from __future__ import annotations

import random

import pytest
from sklearn.metrics import classification_report as sklearn_report
from sklearn.metrics import confusion_matrix

from netbuilder.codegen.class_report import classification_report


@pytest.mark.parametrize("seed", range(30))
def test_figures_equal_scikit_learns_on_random_predictions(seed: int) -> None:
    rng = random.Random(seed)
    classes = rng.randint(2, 12)
    n = rng.randint(1, 300)
    # some classes absent from the truth or never predicted, as in a small validation split
    truth = [rng.choice(range(classes - rng.randint(0, 1))) for _ in range(n)]
    predicted = [t if rng.random() < 0.6 else rng.randrange(classes) for t in truth]
    labels = list(range(classes))
    ours = classification_report(confusion_matrix(truth, predicted, labels=labels).tolist())
    theirs = sklearn_report(truth, predicted, labels=labels, output_dict=True, zero_division=0)
    for c in labels:
        for name, key in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score"), ("support", "support")):
            assert ours["classes"][c][name] == pytest.approx(theirs[str(c)][key], abs=1e-12)
    for average, key in (("macro", "macro avg"), ("weighted", "weighted avg")):
        for name, sk in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")):
            assert ours[average][name] == pytest.approx(theirs[key][sk], abs=1e-12)
    assert ours["accuracy"] == pytest.approx(sum(t == p for t, p in zip(truth, predicted, strict=True)) / n)
    assert ours["support"] == n


def test_an_empty_matrix_gives_zeros_not_a_division_error() -> None:
    report = classification_report([[0, 0], [0, 0]])
    assert report["accuracy"] == 0.0 and report["macro"]["f1"] == 0.0 and report["support"] == 0

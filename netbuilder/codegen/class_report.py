"""A classifier's figures from its confusion matrix: per-class precision, recall, F1 and support, their macro and
support-weighted averages, and the accuracy.

Plain Python over lists of counts, so the one function serves everywhere: the exported train.py carries its source
(torch alone there), the engine runs train.py's copy, and the window and `netbuilder evaluate` read the same
figures from a run's matrix. scikit-learn's `classification_report` (labels = every class, zero_division = 0) is
the oracle in the tests.
"""

from __future__ import annotations


def classification_report(confusion: list[list[int]]) -> dict:
    """Figures of a confusion matrix (rows: the true class, columns: the predicted one, counts of samples).

    A class never predicted has precision 0, one never present recall 0, and F1 is 0 where both are; the averages
    run over every class of the matrix, present or not. Returns {"classes": [{"precision", "recall", "f1",
    "support"} per class], "macro": {...}, "weighted": {...} (precision, recall, f1), "accuracy", "support"}.
    """
    classes = len(confusion)
    support = [sum(row) for row in confusion]
    predicted = [sum(row[c] for row in confusion) for c in range(classes)]
    total = sum(support)
    rows = []
    for c in range(classes):
        hits = confusion[c][c]
        precision = hits / predicted[c] if predicted[c] else 0.0
        recall = hits / support[c] if support[c] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append({"precision": precision, "recall": recall, "f1": f1, "support": support[c]})
    names = ("precision", "recall", "f1")
    macro = {name: sum(row[name] for row in rows) / classes if classes else 0.0 for name in names}
    weighted = {name: sum(row[name] * row["support"] for row in rows) / total if total else 0.0 for name in names}
    accuracy = sum(confusion[c][c] for c in range(classes)) / total if total else 0.0
    return {"classes": rows, "macro": macro, "weighted": weighted, "accuracy": accuracy, "support": total}

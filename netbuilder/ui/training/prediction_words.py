"""What the network said about a validation sample, in words: the grid's caption and the verdict."""

from __future__ import annotations

from typing import Any


def class_name(predictions: Any, index: int) -> str:
    """The class's name, or its number when the set names none."""
    names = predictions.class_names
    return names[index] if 0 <= index < len(names) else str(index)


def number_text(value: float) -> str:
    """A value in four significant digits, with a true minus sign."""
    return f"{value:.4g}".replace("-", "−")


def predicted_text(predictions: Any, sample: int) -> str:
    """The grid's caption: the predicted class, or the predicted value."""
    if predictions.kind == "classification":
        return class_name(predictions, int(predictions.predicted[sample]))
    values = predictions.predicted[sample]
    return number_text(float(values[0])) if len(values) == 1 else f"#{sample + 1}"


def verdict_text(predictions: Any, sample: int) -> str:
    """In words: true and predicted class with its probability, or predicted and true values."""
    if predictions.kind == "classification":
        true, predicted = int(predictions.true[sample]), int(predictions.predicted[sample])
        probability = float(predictions.probabilities[sample, predicted])
        verdict = "right" if true == predicted else "wrong"
        return (
            f"true {class_name(predictions, true)}, predicted {class_name(predictions, predicted)} "
            f"({probability:.0%}): {verdict}"
        )
    predicted, true = predictions.predicted[sample], predictions.true[sample]
    if len(predicted) == 1:
        return f"predicted {number_text(float(predicted[0]))}, true {number_text(float(true[0]))}"
    return f"mean absolute error {number_text(float(abs(predicted - true).mean()))} over {len(predicted)} values"

"""Every written model file run in its consumer on the project's validation split with the run's weights, beside
the torch model: how often the file predicts the class torch predicts (for a regression, how often its values
are within a tolerance of torch's), and each one's accuracy. The split and the figures are train.py's own
evaluate()'s, through training.evaluation.evaluate_model, as `netbuilder evaluate` gives them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from netbuilder.export.consumers import LOADERS, Consumer, load_consumer
from netbuilder.export.formats import ExportResult
from netbuilder.project import Project
from netbuilder.training.evaluation import (
    AGREEMENT_TOLERANCE,
    VALIDATION,
    EvaluationError,
    agreement,
    evaluate_model,
)
from netbuilder.training.predict import PredictError, load_weights_into, read_weights
from netbuilder.training.program import ProgramError, load_program

"""A regression's value agrees when within this share of the spread (standard deviation) of torch's values."""


@dataclass(frozen=True)
class FormatCheck:
    """One format on the validation split: `agreement` is the share (0..1) of the `samples` where it predicts as
    the torch model does; `accuracy` and `torch_accuracy` (0..1) are None for a regression."""

    format: str
    agreement: float
    accuracy: float | None
    torch_accuracy: float | None
    samples: int

    def line(self, file_name: str) -> str:
        """ "model.onnx: 100.0% of 360 validation predictions agree with torch; accuracy 97.2% (torch 97.2%)"."""
        text = f"{file_name}: {self.agreement:.1%} of {self.samples} validation predictions agree with torch"
        if self.accuracy is None or self.torch_accuracy is None:  # a regression: say what agreeing means
            return f"{text} (every value within {AGREEMENT_TOLERANCE:.0%} of the spread of torch's)"
        return f"{text}; accuracy {self.accuracy:.1%} (torch {self.torch_accuracy:.1%})"


class _ConsumerModel(nn.Module):
    """A consumer as a module, so evaluate() can run it (and hook its output) as it runs the network."""

    def __init__(self, consumer: Consumer) -> None:
        super().__init__()
        self.consumer = consumer  # a plain function: not a submodule, so eval() never reaches a loaded program

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.consumer(*(tensor.cpu() for tensor in inputs))


def check_on_validation(project: Project, weights: Path, results: dict[str, ExportResult]) -> list[FormatCheck]:
    """A FormatCheck for each written result whose format has a consumer (LOADERS), in the order of `results`.
    EvaluationError when the project cannot be evaluated (no training task, data that cannot be read, weights
    that are not this network's) or a file fails in its runtime."""
    try:
        program = load_program(project)
        model = program.new_model()
        load_weights_into(model, read_weights(weights))
    except (ProgramError, PredictError) as err:
        raise EvaluationError(str(err)) from None
    reference = evaluate_model(project, program, model.eval(), VALIDATION)
    checks = []
    for name, result in results.items():
        if not result.ok or name not in LOADERS:
            continue
        try:
            consumer = _ConsumerModel(load_consumer(name, result.path))
            evaluation = evaluate_model(project, program, consumer, VALIDATION)
        except EvaluationError:
            raise
        except Exception as err:  # the runtime's own kinds (onnxruntime's Fail, LiteRT's RuntimeError ...)
            raise EvaluationError(f"{result.path.name} fails in its runtime: {type(err).__name__}: {err}") from err
        checks.append(
            FormatCheck(
                name,
                agreement(reference, evaluation),
                evaluation.metrics.get("accuracy"),
                reference.metrics.get("accuracy"),
                reference.samples,
            )
        )
    return checks

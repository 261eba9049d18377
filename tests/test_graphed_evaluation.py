"""Validation in pieces and as CUDA graphs: train.py's evaluate(), made of evaluation_sums, evaluate_batch and
evaluation_metrics, gives the figures of a straightforward evaluation written here (classes with top-5, and values);
on a GPU the engine's replayed graphs give what the eager evaluate() gives on the same weights, epoch after epoch
(the graphs see the weights the steps changed), in fp32 and bf16, and a capture that fails falls back to eager.
The GPU tests skip cleanly on a machine without one."""

from __future__ import annotations

import pytest
import torch

from netbuilder.project import Project
from netbuilder.project.run_events import EpochEnd
from netbuilder.training.engine import Trainer, with_settings
from tests.test_out_of_memory import out_of_memory, says_what_to_lower
from tests.test_package import sample

needs_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")


def reference(trainer: Trainer, batch_size: int) -> tuple[float, list[torch.Tensor], list[torch.Tensor]]:
    """The mean loss (summed as evaluate() sums it: each batch's mean times its samples), and each batch's
    outputs and targets as rows, by the model and criterion directly."""
    total, outputs, targets = torch.zeros(()), [], []
    trainer.model.eval()
    with torch.no_grad():
        for start in range(0, trainer.val_size, batch_size):
            x, y = trainer.val_x[start : start + batch_size], trainer.val_y[start : start + batch_size]
            output = trainer.model(x)
            target = y if trainer.classification else x  # the autoencoder's target is its input
            total += trainer.criterion(output, target) * len(x)
            outputs.append(output.float().reshape(len(x), -1))
            targets.append(target.reshape(len(x), -1) if trainer.classification else target.float().reshape(len(x), -1))
    return total.item() / trainer.val_size, outputs, targets


@pytest.mark.parametrize("precision", ["fp32", "bf16"])  # bf16 on the CPU: evaluate takes amp None, in fp32
def test_evaluate_counts_as_a_straightforward_evaluation_of_classes(precision):
    trainer = Trainer(sample("digits_mlp", batch_size=50, precision=precision))
    trainer.run(max_steps=3)  # a network that is still often wrong: many cells are filled
    script = trainer.program.script
    batch_size = script.evaluation_batch(50)  # as train.py validates: 100, the last batch partial
    assert batch_size == trainer.evaluation_batch == 100
    metrics = script.evaluate(trainer.model, trainer.criterion, trainer.val_x, trainer.val_y, batch_size)
    loss, outputs, targets = reference(trainer, batch_size)
    output, labels = torch.cat(outputs), torch.cat(targets).reshape(-1)
    matrix = [[0] * 10 for _ in range(10)]
    for true, predicted in zip(labels.tolist(), output.argmax(dim=1).tolist(), strict=True):
        matrix[true][predicted] += 1
    in_top5 = sum(int(label) in row.topk(5).indices.tolist() for row, label in zip(output, labels, strict=True))
    assert metrics["confusion"] == matrix and sum(matrix[c][c] for c in range(10)) < trainer.val_size
    assert metrics["loss"] == loss
    assert metrics["accuracy"] == sum(matrix[c][c] for c in range(10)) / trainer.val_size
    assert metrics["top5_accuracy"] == in_top5 / trainer.val_size
    assert trainer.evaluate() == (
        loss,
        {"accuracy": metrics["accuracy"], "top5_accuracy": in_top5 / trainer.val_size},
        matrix,
    )


def test_evaluate_measures_values_as_a_straightforward_evaluation():
    trainer = Trainer(sample("digits_autoencoder", batch_size=50))
    trainer.run(max_steps=3)
    script = trainer.program.script
    batch_size = trainer.evaluation_batch  # as train.py validates
    metrics = script.evaluate(trainer.model, trainer.criterion, trainer.val_x, trainer.val_y, batch_size)
    loss, outputs, targets = reference(trainer, batch_size)
    error = (torch.cat(outputs) - torch.cat(targets)).double()  # in float64: the reference's own rounding is nil
    target = torch.cat(targets).double()
    assert metrics["loss"] == loss
    assert metrics["mae"] == pytest.approx(error.abs().mean().item(), rel=1e-5)
    assert metrics["rmse"] == pytest.approx(error.pow(2).mean().sqrt().item(), rel=1e-5)
    spread = (target - target.mean(dim=0)).pow(2).sum()
    assert metrics["r2"] == pytest.approx(1 - (error.pow(2).sum() / spread).item(), rel=1e-5)
    assert 0 < metrics["mae"] < 10
    assert trainer.evaluate() == (loss, {name: metrics[name] for name in ("mae", "rmse", "r2")}, None)
    assert trainer.evaluation.graphs == {}  # the CPU evaluates eagerly


# ---- on a GPU ----------------------------------------------------------------------------------------------


def graphed_against_eager(project: Project) -> tuple[Trainer, list[tuple[EpochEnd, dict]]]:
    """A two-epoch run on the GPU, and after each validation the eager evaluate() on the same weights. TF32 off:
    cuDNN may take other convolution algorithms under capture (the CNN is channels last on CUDA), which TF32's
    rounding would set apart by more than fp32's."""
    trainer = Trainer(with_settings(project, device="cuda", epochs=2, batch_size=64))  # 359 samples: 39 last
    eager = []

    def on_event(event: object) -> None:
        if isinstance(event, EpochEnd):  # sent after validation, before the next step
            script, amp = trainer.program.script, trainer._mixed[:1]
            size = trainer.evaluation_batch  # 128: train.py's evaluation_batch(64)
            figures = script.evaluate(trainer.model, trainer.criterion, trainer.val_x, trainer.val_y, size, *amp)
            eager.append((event, figures))

    torch.backends.cudnn.allow_tf32 = False
    try:
        assert trainer.run(on_event).status == "completed"
    finally:
        torch.backends.cudnn.allow_tf32 = True
    return trainer, eager


def moved(a: list[list[int]], b: list[list[int]]) -> int:
    """How many samples one confusion matrix counts in another cell than the other does."""
    return sum(max(0, x - y) for row_a, row_b in zip(a, b, strict=True) for x, y in zip(row_a, row_b, strict=True))


@pytest.mark.cuda
@needs_gpu
@pytest.mark.parametrize(
    ("name", "precision"), [("digits_cnn", "fp32"), ("digits_cnn", "bf16"), ("digits_mlp", "bf16")]
)
def test_graphed_validation_equals_eager_evaluate_on_the_same_weights(name, precision):
    trainer, epochs = graphed_against_eager(sample(name, precision=precision))
    evaluation = trainer.evaluation
    assert (
        evaluation.reason == ""
        and sorted(evaluation.graphs) == [trainer.val_size % 128, 128]
        and evaluation.captures == 2
    )
    # bf16: a kernel cuDNN or cuBLAS takes under capture (other workspace) may round otherwise, by up to bf16's
    # 0.4 %, which may move a sample whose two highest scores tie that closely; fp32 counts exactly as eager
    exact = precision == "fp32"
    tolerance = 1e-5 if precision == "fp32" else 1e-2
    for event, eager in epochs:
        assert sum(map(sum, event.confusion)) == trainer.val_size
        assert moved(event.confusion, eager["confusion"]) <= (0 if exact else 1)
        if event.confusion == eager["confusion"]:
            assert event.val_metrics["accuracy"] == eager["accuracy"]
        assert event.val_metrics["top5_accuracy"] == pytest.approx(
            eager["top5_accuracy"], abs=0 if exact else 1 / trainer.val_size
        )
        assert event.val_loss == pytest.approx(eager["loss"], rel=tolerance)
    assert epochs[0][1]["loss"] != epochs[1][1]["loss"]  # the weights changed: the graphs read the new ones


@pytest.mark.cuda
@needs_gpu
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_graphed_validation_of_values_equals_eager_evaluate(precision):
    trainer, epochs = graphed_against_eager(sample("digits_autoencoder", precision=precision))
    assert trainer.evaluation.reason == "" and trainer.evaluation.captures == 2
    tolerance = 1e-5 if precision == "fp32" else 1e-2
    for event, eager in epochs:
        assert event.val_loss == pytest.approx(eager["loss"], rel=tolerance)
        for name in ("mae", "rmse", "r2"):
            assert event.val_metrics[name] == pytest.approx(eager[name], rel=tolerance)
    assert epochs[0][1]["mae"] != epochs[1][1]["mae"]


@pytest.mark.cuda
@needs_gpu
def test_a_capture_that_fails_falls_back_to_eager_and_says_why():
    trainer = Trainer(with_settings(sample("digits_mlp"), device="cuda", batch_size=64))
    script = trainer.program.script
    evaluate_batch = script.evaluate_batch

    def syncing(*arguments):  # reads a value on the host: not allowed while a stream is captured
        evaluate_batch(*arguments)
        float(arguments[4]["loss"])

    script.evaluate_batch = syncing
    try:
        val_loss, _, confusion = trainer.evaluate()
    finally:
        script.evaluate_batch = evaluate_batch
    assert trainer.evaluation.reason.startswith("capture failed") and trainer.evaluation.graphs == {}
    eager = script.evaluate(trainer.model, trainer.criterion, trainer.val_x, trainer.val_y, trainer.evaluation_batch)
    assert confusion == eager["confusion"] and val_loss == pytest.approx(eager["loss"], rel=1e-6)


@pytest.mark.cuda
@needs_gpu
def test_running_out_of_memory_while_capturing_validation_ends_the_run(monkeypatch):
    """Out of memory in the capture (the capture's error with the allocator's in its context) is not a failed
    capture to run eagerly: the run ends saying what to lower."""
    trainer = Trainer(with_settings(sample("digits_mlp", epochs=1), device="cuda", batch_size=64))
    evaluate_batch = trainer.program.script.evaluate_batch

    def capture_failed(*arguments):
        if torch.cuda.is_current_stream_capturing():
            try:
                out_of_memory()
            except torch.cuda.OutOfMemoryError:
                raise RuntimeError("CUDA error: operation not permitted when stream is capturing") from None
        return evaluate_batch(*arguments)

    monkeypatch.setattr(trainer.program.script, "evaluate_batch", capture_failed)
    outcome = trainer.run()
    assert outcome.status == "failed" and says_what_to_lower(outcome.message, 64)
    assert trainer.evaluation.reason == "" and trainer.evaluation.graphs == {}

"""The step on a compiled model, and a convolutional network's step on CUDA (channels last, compiled, one CUDA
graph per batch size): each trains as the eager step does. Compiling that fails leaves the step eager, with
the reason, and nothing of the failed attempt. The CUDA tests skip cleanly on a machine without a GPU."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from netbuilder.project import load_project
from netbuilder.training.compiled_step import (
    COMPILE_FROM_PARAMETERS,
    COMPILE_FROM_STEPS,
    CompiledStep,
    worth_compiling,
)
from netbuilder.training.engine import Trainer, with_settings

DIGITS_CNN = Path(__file__).parent.parent / "sample_projects" / "digits_cnn.nbproj"
needs_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")


def small_cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 8 * 8, 4)
    )


def train_three_steps(backend: str | None = None, compiled: bool = True) -> tuple[nn.Module, list[str]]:
    """Two full batches of 8 and a last one of 2, by the step compiled (with `backend`) or as it is."""
    generator = torch.Generator().manual_seed(1)
    x, y = torch.randn(18, 3, 8, 8, generator=generator), torch.randint(0, 4, (18,), generator=generator)
    model = small_cnn()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(model: nn.Module, batch_x: torch.Tensor, batch_y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        output = model(batch_x)
        loss = nn.functional.cross_entropy(output, batch_y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.detach(), output.detach()

    notes: list[str] = []
    runner = CompiledStep(step, model, 8, notes.append)
    if backend is not None:
        runner.compiled = torch.compile(model, backend=backend)
    for start in (0, 8, 16):
        batch = slice(start, start + 8)
        if compiled:
            runner(x[batch], y[batch])
        else:
            step(model, x[batch], y[batch])
    return model, notes


def refuse(graph_module, example_inputs):
    raise RuntimeError("this backend compiles nothing")


@pytest.mark.slow
def test_the_compiled_step_trains_as_the_eager_one_and_compiles_for_the_full_batches_alone():
    """The last batch (of 2) takes the plain model: compiling for its size would cost as much again."""
    eager, _ = train_three_steps(compiled=False)
    compiled, notes = train_three_steps()
    for (name, a), (other, b) in zip(eager.state_dict().items(), compiled.state_dict().items(), strict=True):
        assert name == other  # the plain model's keys
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5, msg=lambda text, name=name: f"{name}: {text}")
    assert notes[0].startswith("compiling the step (") and notes[1].startswith("compiled the step in ")
    assert len(notes) == 2


def test_compiling_that_fails_leaves_the_step_eager_with_the_reason_and_nothing_of_the_attempt():
    eager, _ = train_three_steps(compiled=False)
    fallen_back, notes = train_three_steps(backend=refuse)
    assert notes[-1] == "compiling failed, so the step runs uncompiled: RuntimeError: this backend compiles nothing"
    for (name, a), b in zip(eager.state_dict().items(), fallen_back.state_dict().values(), strict=True):
        assert torch.equal(b, a), name  # batch norm's statistics moved once, as eagerly


def test_only_long_runs_of_large_convolutional_networks_laid_out_channels_last_are_compiled():
    big = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(1, COMPILE_FROM_PARAMETERS))
    long = COMPILE_FROM_STEPS
    assert worth_compiling(big, torch.channels_last, long)
    assert not worth_compiling(big, torch.channels_last, long - 1)  # compiling would not pay for itself
    assert not worth_compiling(big, torch.contiguous_format, long)  # the CPU, or no 2-d convolution
    assert not worth_compiling(small_cnn(), torch.channels_last, long)


def test_the_cpu_keeps_the_usual_layout():
    trainer = Trainer(with_settings(load_project(DIGITS_CNN), device="cpu"))
    assert trainer.layout == torch.contiguous_format and trainer.compiled is None
    assert trainer.train_x.is_contiguous()


# ---- on a GPU ---------------------------------------------------------------------------------------------


@pytest.mark.cuda
@needs_gpu
def test_channels_last_weights_and_batches_train_as_the_usual_layout_does():
    """The digits CNN for two epochs as CUDA graphs: channels last (as memory_format() says) against the usual
    layout, TF32 off, so that fp32 is fp32."""
    torch.backends.cudnn.allow_tf32 = False
    try:
        fast = digits_cnn("fp32")
        assert fast.layout == torch.channels_last and fast.compiled is None and fast.run().ok
        plain = digits_cnn("fp32")
        plain._lay_out(torch.contiguous_format)
        assert plain.run().ok
    finally:
        torch.backends.cudnn.allow_tf32 = True
    assert set(fast.graphed.graphs) == {64, 30}
    for (name, a), b in zip(plain.model.state_dict().items(), fast.model.state_dict().values(), strict=True):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5, msg=lambda text, name=name: f"{name}: {text}")


def digits_cnn(precision: str) -> Trainer:
    return Trainer(with_settings(load_project(DIGITS_CNN), device="cuda", epochs=2, precision=precision))


@pytest.mark.cuda
@needs_gpu
@pytest.mark.parametrize(("precision", "tolerance"), [("fp32", 1e-3), ("bf16", 5e-2)])
def test_a_convolutional_step_channels_last_compiled_and_graphed_trains_as_the_eager_one(precision, tolerance):
    """The digits CNN for two epochs (full batches of 64 and a last one of 30): channels last, compiled and
    replayed as two CUDA graphs, against the eager step in the usual layout (TF32 off, so that fp32 is fp32)."""
    torch.backends.cudnn.allow_tf32 = False
    try:
        fast = digits_cnn(precision)
        convolutions = [m for m in fast.model.modules() if isinstance(m, nn.Conv2d)]
        assert fast.layout == torch.channels_last and fast.train_x.is_contiguous(memory_format=torch.channels_last)
        assert all(m.weight.is_contiguous(memory_format=torch.channels_last) for m in convolutions)
        fast.compile_step()  # too small for the rule: compiled on request
        notes: list[str] = []
        assert fast.run(lambda event: notes.append(getattr(event, "note", ""))).ok
        eager = digits_cnn(precision)
        eager.graphed = None
        eager.model.to(memory_format=torch.contiguous_format)
        eager.train_x, eager.val_x = eager.train_x.contiguous(), eager.val_x.contiguous()
        assert eager.run().ok
    finally:
        torch.backends.cudnn.allow_tf32 = True
    assert (fast.compiled.reason, fast.graphed.reason) == ("", "")
    assert set(fast.graphed.graphs) == {64, 30}  # the partial last batch has its own graph
    # validation replays the model compiled, as two graphs (batches of 64 and the last 39 of 359) kept all run
    assert fast.evaluation.compiled is fast.compiled.compiled and not fast.evaluation.reason
    assert fast.evaluation.captures == 2 and any(n.startswith("compiled validation in") for n in notes)
    assert "the step compiled and as a CUDA graph, validation compiled and as CUDA graphs)" in fast.run_start().device
    for (name, a), b in zip(eager.model.state_dict().items(), fast.model.state_dict().values(), strict=True):
        if a.is_floating_point():  # each tensor as a whole: bf16 rounds single weights far apart, not the layer
            assert (b - a).norm() <= tolerance * a.norm(), f"{name}: {(b - a).norm() / a.norm():.2g} apart"
        else:
            assert torch.equal(a, b), name  # batch norm's count of batches
    assert fast.history[-1]["val_loss"] == pytest.approx(eager.history[-1]["val_loss"], rel=tolerance)


@pytest.mark.cuda
@needs_gpu
def test_validation_whose_compiling_fails_goes_on_with_the_plain_models_graphs_and_says_why():
    class FailsToCompile(nn.Module):
        def forward(self, x):
            raise RuntimeError("backend compiler failed: no kernel for this")

    trainer, notes = digits_cnn("fp32"), []
    trainer.evaluation.use_compiled(FailsToCompile(), notes.append)
    metrics = trainer.evaluation.evaluate(trainer.val_x, trainer.val_y)
    assert notes == [
        "compiling validation…",
        "compiling validation failed, so it runs uncompiled: RuntimeError: backend compiler failed: no kernel for this",
    ]
    assert trainer.evaluation.compiled is None and not trainer.evaluation.reason and trainer.evaluation.captures == 2
    script = trainer.program.script
    expected = script.evaluate(trainer.model, trainer.criterion, trainer.val_x, trainer.val_y, 64)
    assert metrics["loss"] == pytest.approx(expected["loss"], rel=1e-5)
    assert metrics["accuracy"] == expected["accuracy"]

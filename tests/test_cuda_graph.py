"""The training step as a CUDA graph: used where it can be, refused with a reason where it cannot, the same
training as the eager step, captured again when a schedule changes the learning rate, and checkpoints that
go on with or without a GPU. The GPU tests skip cleanly on a machine without one."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from netbuilder.project import Project, load_project
from netbuilder.training.cuda_graph import make_capturable, why_not_graphed
from netbuilder.training.engine import Trainer, with_settings

SAMPLES = Path(__file__).parent.parent / "sample_projects"
DIGITS_MLP = SAMPLES / "digits_mlp.nbproj"
DIGITS_CNN = SAMPLES / "digits_cnn.nbproj"

needs_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")


def with_optimizer(path: Path, block: str | None = None, **params) -> Project:
    """The sample with its optimizer replaced by `block` (same edges) and/or its parameters changed."""
    project = load_project(path)
    graph = project.graph
    node = next(n for n in graph.nodes.values() if n.block in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad"))
    if block is not None and block != node.block:
        loss_edge = graph.inputs_of(node.id)["loss"]
        graph.remove_node(node.id)
        node = graph.add_node(block)
        graph.connect(loss_edge.src, loss_edge.src_port, node.id, "loss")
    for name, value in params.items():
        graph.set_param(node.id, name, value)
    return project


def weights(t: Trainer) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in t.model.state_dict().items()}


# ---- anywhere ---------------------------------------------------------------------------------------------


def model_and(optimizer_class, **kwargs) -> torch.optim.Optimizer:
    return optimizer_class(nn.Linear(3, 2).parameters(), **kwargs)


@pytest.mark.parametrize(
    ("optimizer", "schedule", "precision", "because"),
    [
        (model_and(torch.optim.Adam), "", None, ""),
        (model_and(torch.optim.SGD, lr=0.1, momentum=0.9), "StepLR", torch.bfloat16, ""),
        (model_and(torch.optim.RMSprop), "ReduceLROnPlateau", None, ""),
        (model_and(torch.optim.Adagrad), "", None, "Adagrad keeps its step count on the host"),
        (model_and(torch.optim.Adam), "OneCycleLR", None, "OneCycleLR changes the learning rate every step"),
        (model_and(torch.optim.AdamW), "", torch.float16, "fp16 loss scaling checks for overflow on the host"),
    ],
)
def test_which_steps_can_be_graphed(optimizer, schedule, precision, because):
    assert why_not_graphed(optimizer, schedule, precision) == because


def test_capturable_keeps_the_step_counter_a_tensor_beside_its_parameter():
    model = nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.ones(4, 3)).sum().backward()
    optimizer.step()
    make_capturable(optimizer)
    assert optimizer.param_groups[0]["capturable"] is True
    for param in model.parameters():
        step = optimizer.state[param]["step"]
        assert isinstance(step, torch.Tensor) and step.device == param.device and step.item() == 1


def test_the_cpu_runs_the_step_as_it_is():
    t = Trainer(with_settings(load_project(DIGITS_MLP), device="cpu"))
    assert t.graphed is None and t.not_graphed
    assert "capturable" not in t.optimizer.param_groups[0] or t.optimizer.param_groups[0]["capturable"] is False


# ---- on a GPU ---------------------------------------------------------------------------------------------


def cuda_trainer(project: Project, **settings) -> Trainer:
    return Trainer(with_settings(project, device="cuda", **settings))


@pytest.mark.cuda
@needs_gpu
@pytest.mark.parametrize("path", [DIGITS_MLP, DIGITS_CNN])
def test_the_graphed_step_trains_as_the_eager_step_does(path):
    """TF32 off: cuDNN may take other convolution algorithms under capture (the CNN is channels last on CUDA),
    which TF32's rounding would set apart by more than fp32's."""
    torch.backends.cudnn.allow_tf32 = False
    try:
        graphed = cuda_trainer(load_project(path), epochs=2)  # each made just before it runs: the same random
        assert graphed.graphed is not None and graphed.run().ok  # state for both (dropout draws from it)
        eager = cuda_trainer(load_project(path), epochs=2)
        eager.graphed = None
        assert eager.run().ok
    finally:
        torch.backends.cudnn.allow_tf32 = True
    assert graphed.graphed.captures == 2 and graphed.graphed.reason == ""  # full batches, and the last of 30
    assert sorted(graphed.graphed.graphs) == [30, 64]
    a, b = weights(graphed), weights(eager)
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-4, atol=1e-5, msg=lambda text, n=name: f"{n}: {text}")
    # the epoch's sums, added up inside the graph: the same as the eager step's
    for key in ("train_loss", "train_accuracy"):
        assert graphed.history[-1][key] == pytest.approx(eager.history[-1][key], rel=1e-4), key


def test_train_py_fuses_the_optimizers_update_on_a_gpu_only():
    """SGD, Adam and AdamW have a fused CUDA kernel (one pass over every weight): train.py's make_optimizer asks
    for it where the model is on a GPU; on the CPU, and for the other optimizers, torch's default is kept."""
    for block in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad"):
        t = Trainer(with_settings(with_optimizer(DIGITS_MLP, block), device="cpu"))
        source = t.program.script_source
        assert ("fused = next(model.parameters()).is_cuda" in source) == (block in ("SGD", "Adam", "AdamW"))
        assert not t.optimizer.defaults.get("fused")


@pytest.mark.cuda
@needs_gpu
@pytest.mark.parametrize("block", ["SGD", "Adam", "AdamW"])
def test_a_fused_optimizer_trains_graphed_as_it_does_eagerly(block):
    torch.backends.cudnn.allow_tf32 = False
    try:
        graphed = cuda_trainer(with_optimizer(DIGITS_CNN, block), epochs=2)
        assert graphed.optimizer.defaults["fused"] is True and graphed.run().ok
        eager = cuda_trainer(with_optimizer(DIGITS_CNN, block), epochs=2)
        eager.graphed = None
        assert eager.run().ok
    finally:
        torch.backends.cudnn.allow_tf32 = True
    assert graphed.graphed.captures == 2 and graphed.graphed.reason == ""
    a, b = weights(graphed), weights(eager)
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-4, atol=1e-5, msg=lambda text, n=name: f"{n}: {text}")


@pytest.mark.cuda
@needs_gpu
def test_a_schedule_that_changes_the_rate_each_epoch_captures_again_each_epoch():
    project = with_optimizer(DIGITS_MLP, "SGD", lr=0.05, schedule="step", step_size=1, gamma=0.5)
    t = cuda_trainer(project, epochs=3)
    assert t.run().ok
    assert t.graphed.captures == 1 + 2 + 2  # the last batch of 30 is captured from the second epoch on
    assert t.learning_rate == pytest.approx(0.05 * 0.5**3)


@pytest.mark.cuda
@needs_gpu
def test_an_optimizer_that_cannot_be_captured_trains_eagerly_and_says_why():
    t = cuda_trainer(with_optimizer(DIGITS_MLP, "Adagrad"), epochs=1)
    assert t.graphed is None and "Adagrad" in t.not_graphed
    assert t.run().ok


@pytest.mark.cuda
@needs_gpu
def test_a_graphed_run_stopped_and_resumed_from_its_checkpoint_ends_where_an_uninterrupted_one_does(tmp_path):
    whole = cuda_trainer(load_project(DIGITS_MLP), epochs=2)
    whole.run()
    first = cuda_trainer(load_project(DIGITS_MLP), epochs=2)
    assert first.run(max_steps=30, checkpoint_dir=tmp_path).status == "stopped"
    second = cuda_trainer(load_project(DIGITS_MLP), epochs=2)
    second.load_checkpoint(tmp_path / "last.pt")
    assert second.run().ok and second.graphed.captures == 1  # its epoch's last batch is its warm-up
    a, b = weights(whole), weights(second)
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-4, atol=1e-5, msg=name)
    # the stopped epoch's sums went on in the resumed graph: its train loss is the uninterrupted run's
    assert second.history[-1]["train_loss"] == pytest.approx(whole.history[-1]["train_loss"], rel=1e-4)


@pytest.mark.cuda
@needs_gpu
def test_a_checkpoint_of_a_graphed_run_goes_on_on_the_cpu(tmp_path):
    first = cuda_trainer(load_project(DIGITS_MLP), epochs=2)
    first.run(max_steps=30, checkpoint_dir=tmp_path)
    on_cpu = Trainer(with_settings(load_project(DIGITS_MLP), device="cpu", epochs=2))
    on_cpu.load_checkpoint(tmp_path / "last.pt")
    outcome = on_cpu.run()
    assert outcome.ok and outcome.global_step == 2 * on_cpu.steps_per_epoch


@pytest.mark.cuda
@needs_gpu
def test_a_failed_capture_leaves_random_operations_working_in_the_eager_step_and_the_next_run():
    """A capture that fails (here: a host sync inside the step) falls back to the eager step; the dropout of the
    digits MLP then still draws its masks, in this run and in a new one in the same process."""
    t = Trainer(with_settings(load_project(DIGITS_MLP), device="cuda", epochs=1))
    step = t._counted_step

    def syncs_in_capture(batch_x, batch_y):
        loss = step(batch_x, batch_y)
        loss.item()  # not allowed while capturing: the capture fails
        return loss

    t.graphed.step = syncs_in_capture
    outcome = t.run()
    assert outcome.status == "completed", outcome.message
    assert t.graphed.reason.startswith("capture failed")
    assert Trainer(with_settings(load_project(DIGITS_MLP), device="cuda", epochs=1)).run().ok
    assert torch.nn.functional.dropout(torch.ones(4, device="cuda"), 0.5).isfinite().all()

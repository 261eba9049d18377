"""Running out of GPU memory anywhere in a run ends it as "failed" with what to lower, and gives the memory
back: in a training step (the first one too), in validation, while capturing the CUDA graph (the batch size),
and while the data is loaded and the model built (the network); in the engine, the window's worker and
`netbuilder train`. Made on the CPU by raising the real
torch.cuda.OutOfMemoryError from inside the real step."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from netbuilder.cli import main
from netbuilder.project import load_project
from netbuilder.training.engine import Trainer, with_settings
from netbuilder.training.out_of_memory import is_out_of_memory, out_of_memory_at_start, out_of_memory_message
from netbuilder.training.program import Program

DIGITS_MLP = Path(__file__).parent.parent / "sample_projects" / "digits_mlp.nbproj"


def trainer(**settings) -> Trainer:
    return Trainer(with_settings(load_project(DIGITS_MLP), device="cpu", **settings))


def out_of_memory(*args, **kwargs):
    raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")


def says_what_to_lower(message: str, batch_size: int) -> bool:
    return (
        "ran out of memory" in message
        and f"lower the batch size (such as {batch_size // 2:,})" in message
        and "set accumulation to 2" in message
        and "Find batch size" in message
        and "--batch-size auto" in message
    )


def test_the_message_says_what_to_lower_and_how_to_find_it():
    message = out_of_memory_message(2048)
    assert message == (
        "the GPU ran out of memory training with batches of 2,048: lower the batch size (such as 1,024), or keep "
        "it and set accumulation to 2 (each batch in 2 parts, one after the other: the same step in the memory of "
        "one part); Find batch size in the Training panel (or `netbuilder train --batch-size auto`) finds the "
        "largest that fits. A smaller network needs less memory too"
    )
    assert "such as" not in out_of_memory_message(1) and "accumulation" not in out_of_memory_message(1)
    assert "set accumulation to 8 (each batch in 8 parts" in out_of_memory_message(2048, accumulation=4)


def test_an_error_raised_while_handling_one_is_recognised():
    """A CUDA graph's capture that runs out of memory ends with the capture's own error."""
    try:
        try:
            out_of_memory()
        except torch.cuda.OutOfMemoryError:
            raise RuntimeError("operation failed due to a previous error during capture") from None
    except RuntimeError as err:
        assert is_out_of_memory(err)
    assert not is_out_of_memory(RuntimeError("something else"))


def test_the_first_step_running_out_of_memory_fails_the_run_and_frees_it():
    t = trainer(epochs=2, batch_size=64)
    t.model.register_forward_pre_hook(lambda module, inputs: out_of_memory() if len(inputs[0]) > 32 else None)
    events = []
    outcome = t.run(events.append)
    assert outcome.status == "failed" and says_what_to_lower(outcome.message, 64)
    assert outcome.global_step == 0 and events[-1] is outcome
    assert all(p.grad is None for p in t.model.parameters())


def test_validation_running_out_of_memory_fails_the_run():
    t = trainer(epochs=2, batch_size=64)

    def in_validation(module, inputs):
        if not module.training:
            out_of_memory()

    t.model.register_forward_pre_hook(in_validation)
    outcome = t.run()
    assert outcome.status == "failed" and says_what_to_lower(outcome.message, 64)
    assert outcome.global_step == t.steps_per_epoch and outcome.epochs_done == 0


def test_out_of_memory_during_capture_ends_the_run(monkeypatch):
    """What cuda_graph raises when the capture runs out of memory (the capture's error with the allocator's in
    its context) reaches the run as out of memory, not as a failed capture to run eagerly."""
    t = trainer(epochs=1, batch_size=32)

    def capture_failed(*args, **kwargs):
        try:
            out_of_memory()
        except torch.cuda.OutOfMemoryError:
            raise RuntimeError("CUDA error: operation not permitted when stream is capturing") from None

    monkeypatch.setattr(t.program.script, "train_step", capture_failed)
    outcome = t.run()
    assert outcome.status == "failed" and says_what_to_lower(outcome.message, 32)


def test_building_the_model_out_of_memory_ends_netbuilder_train_with_the_advice(monkeypatch, tmp_path, capsys):
    project = Path(shutil.copy(DIGITS_MLP, tmp_path / "digits.nbproj"))
    monkeypatch.setattr(Program, "new_model", out_of_memory)
    assert main(["train", str(project), "--device", "cpu", "--batch-size", "256"]) == 1
    err = capsys.readouterr().err
    assert err == f"netbuilder: cannot train {project}: {out_of_memory_at_start()}\n"


def test_a_step_out_of_memory_ends_netbuilder_train_as_failed(monkeypatch, tmp_path, capsys):
    project = Path(shutil.copy(DIGITS_MLP, tmp_path / "digits.nbproj"))
    monkeypatch.setattr(Trainer, "_train_step", out_of_memory)
    assert main(["train", str(project), "--device", "cpu", "--batch-size", "100", "--epochs", "1"]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and says_what_to_lower(" ".join(captured.err.split()), 100)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
def test_on_a_gpu_a_capture_out_of_memory_ends_the_run_and_frees_the_memory():
    """Under a memory cap that the eager warm-up steps fit in but the graph's own pool does not, the run ends
    as out of memory (not as a capture failure that goes on eagerly), with the memory given back."""
    from netbuilder.training.cuda_graph import WARMUP_STEPS

    project = with_settings(load_project(DIGITS_MLP), device="cuda", batch_size=64, epochs=1)
    t = Trainer(project)
    assert t.graphed is not None

    def during_capture(module, inputs):
        if torch.cuda.is_current_stream_capturing():
            torch.empty(1 << 50, device="cuda")  # a real allocation the GPU cannot make: the real error

    t.model.register_forward_pre_hook(during_capture)
    outcome = t.run()
    assert outcome.status == "failed" and says_what_to_lower(outcome.message, 64), outcome.message
    assert outcome.global_step == WARMUP_STEPS
    del t
    torch.cuda.empty_cache()
    again = Trainer(project).run()  # the GPU is usable afterwards
    assert again.status == "completed", again.message

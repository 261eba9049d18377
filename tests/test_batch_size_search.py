"""Finding the largest batch that trains (netbuilder.training.batch_size_search): the search rule against a probe
that really allocates up to a byte budget, the probe of real training steps (the engine's own step and
evaluation), the headroom kept, Stop, the CPU's estimate, and on a GPU the real thing under a memory cap."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from netbuilder.analysis import analyze
from netbuilder.blocks import catalogue
from netbuilder.project import load_project
from netbuilder.training import batch_size_search
from netbuilder.training.batch_size_search import (
    BISECT_TO,
    FIRST_SIZE,
    HEADROOM,
    BatchSizeFound,
    Search,
    TrainingProbe,
    find_batch_size,
    most_tries,
    search_sizes,
    with_headroom,
)
from netbuilder.training.control import Control
from netbuilder.training.engine import Trainer, with_settings
from netbuilder.training.out_of_memory import release_gpu_memory

SAMPLES = Path(__file__).parent.parent / "sample_projects"
DIGITS_MLP = SAMPLES / "digits_mlp.nbproj"
DIGITS_CNN = SAMPLES / "digits_cnn.nbproj"
RESIDUAL_CNN = SAMPLES / "residual_cnn.nbproj"  # 960 generated 3x32x32 images: ~0.75 GB of activations at 960


class Budget:
    """Memory with a byte budget, as a GPU has: `take` keeps real tensors and raises the real
    torch.cuda.OutOfMemoryError when what is held would pass the budget; `release` lets everything go."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held: list[torch.Tensor] = []

    @property
    def used(self) -> int:
        return sum(t.nbytes for t in self.held)

    def take(self, tensor: torch.Tensor) -> None:
        if self.used + tensor.nbytes > self.limit:
            raise torch.cuda.OutOfMemoryError(f"CUDA out of memory. Tried to allocate {tensor.nbytes} bytes")
        self.held.append(tensor)

    def release(self) -> None:
        self.held.clear()


def test_the_rule_finds_the_largest_size_a_budget_holds():
    """Each sample takes a real 3x32x32 float tensor: the rule doubles, then bisects to within 1/BISECT_TO."""
    per_sample = torch.empty(3, 32, 32).nbytes
    budget = Budget(1000 * per_sample + 123)

    def fits(size: int) -> bool:
        try:
            budget.take(torch.empty(size, 3, 32, 32))
            return True
        except torch.cuda.OutOfMemoryError:
            return False
        finally:
            budget.release()

    search = search_sizes(fits, 50_000)
    assert 1000 * (1 - 1 / BISECT_TO) <= search.largest <= 1000
    sizes = [size for size, _ in search.tried]
    assert sizes[:8] == [FIRST_SIZE * 2**i for i in range(8)]  # doubling: 8 .. 1024 (the first that fails)
    assert search.tried[6] == (512, True) and search.tried[7] == (1024, False)
    assert all(ok == (size <= 1000) for size, ok in search.tried)
    assert not search.stopped and search.limit == 50_000


@pytest.mark.parametrize("true_largest", [1, 2, 5, 7, 8, 9, 31, 100, 4095])
def test_small_sizes_are_found_exactly(true_largest):
    search = search_sizes(lambda size: size <= true_largest, 1_000_000)
    if true_largest < BISECT_TO:
        assert search.largest == true_largest
    assert true_largest * (1 - 1 / BISECT_TO) <= search.largest <= true_largest
    assert len(search.tried) <= 2 * (true_largest.bit_length() + 3)


def test_nothing_fits_and_everything_fits():
    assert search_sizes(lambda size: False, 1000).largest == 0
    everything = search_sizes(lambda size: True, 1437)
    assert everything.largest == 1437 and everything.tried[-1] == (1437, True)
    assert max(size for size, _ in everything.tried) == 1437  # never past the limit
    assert search_sizes(lambda size: True, 3).tried == ((3, True),)


@pytest.mark.parametrize("limit", [1, 2, 7, 8, 9, 100, 1437, 4096, 50_000, 65_535])
def test_the_search_never_takes_more_tries_than_progress_counts_against(limit):
    """Whatever the largest size that fits (none, every one, one side or the other of each power of two), the
    tries stay within most_tries, which the window and the command line show ("try 3 of at most 16")."""
    largest_sizes = {0, limit, *(2**k + d for k in range(17) for d in (-1, 0, 1) if 0 <= 2**k + d <= limit)}
    tries = [len(search_sizes(lambda size, t=t: size <= t, limit).tried) for t in sorted(largest_sizes)]
    assert max(tries) <= most_tries(limit) <= max(tries) + 3  # a bound, and not a loose one


def test_stop_ends_the_search_with_what_it_found():
    control = Control()

    def fits(size: int) -> bool:
        if size >= 64:
            control.stop()
        return True

    search = search_sizes(fits, 10_000, should_stop=lambda: control.stopped)
    assert search.stopped and search.largest == 64 and search.tried[-1] == (64, True)


def test_the_size_chosen_keeps_headroom_in_multiples_of_eight():
    assert with_headroom(1700, 50_000) == int(1700 * HEADROOM) // 8 * 8 == 1528
    assert with_headroom(1437, 1437) == 1437  # everything up to the training set fit: take it
    assert with_headroom(5, 100) == 4
    assert with_headroom(1, 100) == 1
    found = BatchSizeFound(1528, Search(((8, True), (2048, False), (1700, True)), 1700, 50_000), "cuda (H)")
    assert found.summary() == (
        "batch size 1,528 fits on cuda (H) (tried 8 … 2,048; the largest that fit, 1,700, less 10% of headroom)"
    )


def _capped(trainer: Trainer, budget: Budget) -> None:
    """Every layer's output taken from `budget` as the network computes it (forward in training and in
    evaluation alike); each forward starts from what the budget held before it."""

    def start(module, inputs):
        budget.release()

    def keep(module, inputs, output):
        budget.take(output)

    trainer.model.register_forward_pre_hook(start)
    for layer in trainer.model.children():
        layer.register_forward_hook(keep)


def test_the_probe_trains_real_steps_and_finds_where_the_budget_ends():
    """The engine's own step and train.py's evaluate at each size, on a network whose layers draw on a budget:
    the search ends where the layers' real outputs pass it (in validation, whose batches are twice as large)."""
    trainer = Trainer(with_settings(load_project(DIGITS_MLP), device="cpu"))
    per_sample = 0
    budget = Budget(0)
    _capped(trainer, budget)
    budget.limit = 10**12
    trainer.model(trainer.train_x[:1])
    per_sample = budget.used
    budget.limit = 300 * per_sample
    before = {name: p.detach().clone() for name, p in trainer.model.named_parameters()}
    probe = TrainingProbe(trainer)
    search = search_sizes(probe, trainer.train_size)
    fits = 300 // trainer.program.script.evaluation_batch(1)  # validation takes batches twice the training's
    assert fits * (1 - 1 / BISECT_TO) <= search.largest <= fits
    assert all(ok == (size <= fits) for size, ok in search.tried)
    after = dict(trainer.model.named_parameters())
    assert any(not torch.equal(before[name], after[name]) for name in before)  # real steps were taken
    assert all(p.grad is None for p in trainer.model.parameters())  # each try's memory given back


def test_the_probe_counts_evaluation_too():
    """A network that fits in training but runs out of memory in evaluation does not fit."""
    trainer = Trainer(with_settings(load_project(DIGITS_MLP), device="cpu"))

    def evaluation_only(module, inputs):
        if not module.training and len(inputs[0]) > 100:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory in evaluation")

    trainer.model.register_forward_pre_hook(evaluation_only)
    probe = TrainingProbe(trainer)
    assert probe(50) and not probe(51)  # validation's batches are twice the training's: 100, then 102


def test_an_error_that_is_not_memory_is_raised():
    trainer = Trainer(with_settings(load_project(DIGITS_MLP), device="cpu"))

    def broken(module, inputs):
        raise ValueError("a real bug")

    trainer.model.register_forward_pre_hook(broken)
    with pytest.raises(ValueError, match="a real bug"):
        TrainingProbe(trainer)(8)


def test_on_the_cpu_the_estimate_bounds_the_size(monkeypatch):
    """Nothing is tried on the CPU: a project's batch whose estimate does not fit in half the free memory is
    lowered to the largest that does."""
    project = with_settings(load_project(DIGITS_CNN), device="cpu", batch_size=1024)
    size = analyze(project.graph).size
    state = catalogue.get(analyze(project.graph).training_task.optimizer).state_per_parameter
    free = 2 * size.training_bytes(200, state)  # half of it holds 200 samples' estimate
    monkeypatch.setattr(batch_size_search, "available_ram_bytes", lambda: free)
    found = find_batch_size(project)
    assert found.device == "cpu" and found.estimate
    assert 200 * (1 - 1 / BISECT_TO) <= found.batch_size <= 200
    assert size.training_bytes(found.batch_size, state) <= free // 2
    assert "by estimate" in found.summary()


def test_on_the_cpu_a_batch_that_fits_stays_the_projects():
    """A larger batch is hardly faster on a CPU and takes fewer steps an epoch: where the project's fits, it stays."""
    found = find_batch_size(with_settings(load_project(DIGITS_MLP), device="cpu", batch_size=48))
    trainer_size = Trainer(with_settings(load_project(DIGITS_MLP), device="cpu")).train_size
    assert found.search.largest == found.search.limit == trainer_size  # the whole training set would fit
    assert found.batch_size == 48 and f"the project's; up to {trainer_size:,} would" in found.summary()


# ---- on a GPU -------------------------------------------------------------------------------------------


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_on_a_gpu_the_size_found_trains_and_a_larger_one_does_not_fit(precision):
    """Under a memory cap (torch.cuda.set_per_process_memory_fraction, which bounds what the allocator reserves:
    its cached blocks and the CUDA graphs' pools, not only the tensors alive) halfway from what the run reserves
    before its first step to what a full batch of the training set reserves: the search finds a size below the
    training set's, a run with the size chosen trains (CUDA graph and validation included) under the same cap,
    and the probe says a size well above the largest does not fit. (A cap counted from the tensors alive left no
    room for even one sample on an H200.)"""
    project = with_settings(load_project(RESIDUAL_CNN), device="cuda", precision=precision, epochs=1)
    total = torch.cuda.get_device_properties(0).total_memory
    trainer = Trainer(project)
    release_gpu_memory()
    base = torch.cuda.memory_reserved()
    torch.cuda.reset_peak_memory_stats()
    assert TrainingProbe(trainer)(trainer.train_size)
    peak = torch.cuda.max_memory_reserved()
    limit = trainer.train_size
    del trainer
    release_gpu_memory()  # the graphs hold the trainer in reference cycles: collected, its memory goes back
    cap = base + (peak - base) // 2
    torch.cuda.set_per_process_memory_fraction(cap / total)
    try:
        tried: list[int] = []
        found = find_batch_size(project, on_try=lambda size, tries, most: tried.append(size))
        assert found.device.startswith("cuda (")
        said = f"under a cap of {cap:,} bytes ({base:,} before a step, {peak:,} at a batch of {limit:,}): {found}"
        assert 0 < found.batch_size < found.search.largest < limit, said
        assert tried == [size for size, _ in found.search.tried]
        outcome = Trainer(with_settings(project, batch_size=found.batch_size)).run()
        assert outcome.status == "completed", outcome.message
        release_gpu_memory()  # that run's trainer, as the first one
        trainer = Trainer(project)
        assert not TrainingProbe(trainer)(min(limit, 2 * found.search.largest))
        del trainer
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)
        torch.cuda.empty_cache()


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
def test_tries_on_a_gpu_give_back_all_they_held_and_captures_share_one_side_stream():
    """Every try's memory goes back, cuBLAS's workspaces included: each stream cuBLAS computes on keeps one (32 MiB
    on a Hopper GPU) for the life of the process, so every capture of the process runs on one side stream rather
    than on a new one for each run, each validation and each try."""
    project = with_settings(load_project(RESIDUAL_CNN), device="cuda", precision="bf16", epochs=1)
    trainer = Trainer(project)
    probe = TrainingProbe(trainer)
    assert probe(64)
    held = torch.cuda.memory_allocated()
    for _ in range(3):
        assert probe(64)
    assert torch.cuda.memory_allocated() == held
    step = Trainer(with_settings(load_project(DIGITS_CNN), device="cuda")).graphed
    assert step._side is Trainer(with_settings(load_project(DIGITS_CNN), device="cuda")).graphed._side


@pytest.mark.slow
def test_netbuilder_train_batch_size_auto_finds_it_then_trains_with_it(tmp_path, capsys, monkeypatch):
    """On the CPU, by the estimate (here too little memory is free for the project's batch, so it is lowered);
    the run's record keeps the size found, the project file its own."""
    from netbuilder.cli import main
    from netbuilder.project.run_history import RunHistory

    own = load_project(DIGITS_MLP).training.batch_size
    analysis = analyze(load_project(DIGITS_MLP).graph)
    state = catalogue.get(analysis.training_task.optimizer).state_per_parameter
    free = 2 * analysis.size.training_bytes(own // 2, state)  # half of it holds half the project's batch
    monkeypatch.setattr(batch_size_search, "available_ram_bytes", lambda: free)
    project = Path(shutil.copy(DIGITS_MLP, tmp_path / "digits.nbproj"))
    assert main(["train", str(project), "--batch-size", "auto", "--epochs", "1", "--device", "cpu"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    (record,) = RunHistory(project).records
    found = record.settings["batch_size"]
    assert own // 2 * (1 - 1 / BISECT_TO) <= found <= own // 2 and record.status == "completed"
    assert f"netbuilder: batch size {found:,} fits on the CPU by estimate (about " in err
    assert "; training with it" in err
    assert load_project(project).training.batch_size == own


def test_auto_is_taken_only_by_the_batch_size(capsys):
    from netbuilder.cli import main

    with pytest.raises(SystemExit):
        main(["train", str(DIGITS_MLP), "--epochs", "auto"])
    assert "expected an integer from 1 to 100000, got 'auto'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", str(DIGITS_MLP), "--batch-size", "many"])
    assert "expected an integer from 1 to 1048576 or auto, got 'many'" in capsys.readouterr().err


def test_the_probe_takes_batches_as_the_run_does_augmented_and_mixed():
    """With every batch augmentation on (mixup and cutmix make the loss's targets class probabilities), a try
    trains on the augmented, mixed batch, as the run's step does (the inputs the network sees are not the stored
    ones), and validates on the validation part as stored, in batches of train.py's evaluation_batch of the size
    tried, as the run does."""
    from tests.test_augment_batch import ALL, stripes_project

    trainer = Trainer(with_settings(stripes_project(**ALL), device="cpu"))
    assert trainer._augment is not None and trainer._mix is not None
    seen: list[torch.Tensor] = []
    trainer.model.register_forward_pre_hook(lambda module, inputs: seen.append(inputs[0].detach().clone()))
    assert TrainingProbe(trainer)(16)
    assert trainer.val_size == 32 and [len(x) for x in seen] == [16, 16, 32]  # 2 steps, 1 validation batch
    assert not torch.equal(seen[0], trainer.train_x[:16])
    assert torch.equal(seen[2], trainer.val_x)

"""What Find batch size says while it searches: the sizes still to come bound every real search's (the rule run
for every kind of answer), the time left carries the growth of the last tries on to them (between no growth and
growth in proportion), nothing is said before two tries have ended, and the words the window and the command
line show ("try 3 of at most 19, 0:05 so far, about 0:17 left")."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
import torch

from netbuilder.cli import main
from netbuilder.cli.train_command import _say_trying
from netbuilder.time_words import duration
from netbuilder.training.batch_size_progress import (
    SearchClock,
    TryProgress,
    gpu_memory,
    memory_ceiling,
    seconds_left,
    sizes_left,
)
from netbuilder.training.batch_size_search import most_tries, search_sizes

SAMPLES = Path(__file__).parent.parent / "sample_projects"


@pytest.mark.parametrize("limit", [1, 2, 7, 8, 9, 100, 1437, 4096, 50_000, 65_535, 2**20])
def test_the_sizes_left_bound_what_every_search_still_tries(limit):
    """Whatever the largest size that fits, after every try the sizes still to come, largest first, are each at
    most the bound's at their place, and there are no more of them."""
    largest_sizes = {0, limit, *(2**k + d for k in range(21) for d in (-1, 0, 1) if 0 <= 2**k + d <= limit)}
    most = most_tries(limit)
    for largest in sorted(largest_sizes):
        sizes = [size for size, _ in search_sizes(lambda size, t=largest: size <= t, limit).tried]
        for done in range(1, len(sizes) + 1):
            bound = sorted(sizes_left(sizes[:done], most), reverse=True)
            still = sorted(sizes[done:], reverse=True)
            assert len(still) <= len(bound), (largest, done)
            assert all(size <= most_of for size, most_of in zip(still, bound, strict=False)), (largest, done)


def test_the_sizes_left_double_to_the_largest_limit_then_bisect_below_it():
    most = most_tries(50_000)  # 8 ... 32,768, then 50,000: 14 doublings, and 5 halvings of a gap
    assert most == 19
    assert sizes_left([8], most) == [2**k for k in range(4, 17)] + [65_535] * 5  # 50,000 <= 65,536 = 8 * 2**13
    # 4,096 did not fit: 3,072 halves the gap from 2,048, then 512, 256, 128 and 64 <= 3,072/32 ends it
    assert sizes_left([8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 3072], most) == [4095] * 4
    assert sizes_left([8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 3072, 3584, 3328], most) == [3583] * 2
    assert sizes_left(list(range(1, 20)), most) == []  # the last try
    # where the memory says the tries run out past 5,000, the doubling ends at 8,192, the bisection below it
    assert sizes_left([8, 16, 32], most, fits_to=5000.0) == [64, 128, 256, 512, 1024, 2048, 4096, 8192] + [8191] * 5
    assert sizes_left([8, 16, 32], most, fits_to=20.0) == [31] * 4  # 32 is expected not to fit: 16, 8, 4, 2, 1


def test_the_memory_of_the_tries_that_fit_says_where_it_runs_out():
    assert memory_ceiling([], 100) is None and memory_ceiling([(8, 10)], 100) is None
    assert memory_ceiling([(8, 10), (16, 20), (32, 40)], 100) == pytest.approx(80)  # 1.25 bytes a sample
    assert memory_ceiling([(8, 40), (16, 40)], 100) is None  # no growth: no end in sight
    assert memory_ceiling([(8, 40), (16, 30)], 100) is None


def test_the_time_left_carries_the_growth_of_the_last_tries_on():
    assert seconds_left([], [16]) is None and seconds_left([(8, 1.0)], [16]) is None  # one try: no growth yet
    assert seconds_left([(100, 1.0), (200, 2.0)], [400, 800]) == pytest.approx(4 + 8)  # in proportion
    assert seconds_left([(8, 0.5), (16, 0.5), (32, 0.5)], [64] * 3) == pytest.approx(1.5)  # fixed costs only
    assert seconds_left([(8, 100.0), (16, 1.0), (32, 2.0), (64, 4.0)], [128]) == pytest.approx(8)  # the last 3
    # the growth held between none and in proportion: a first slow try, and a jump
    assert seconds_left([(8, 2.0), (16, 1.0)], [32]) == pytest.approx(math.sqrt(2 * 1))
    assert seconds_left([(8, 1.0), (16, 4.0)], [32]) == pytest.approx(32 * math.sqrt(1 * 4) / math.sqrt(8 * 16))
    assert seconds_left([(8, 0.0), (16, 0.0)], [32, 64]) == pytest.approx(2e-3)  # never negative, never NaN


def test_the_clock_times_each_try_by_the_start_of_the_next():
    ticks = iter([0.0, 2.0, 3.0, 5.0, 6.5])  # asked for; then each try starts (loading took 2 s, tries 1 s ...)
    clock = SearchClock(clock=lambda: next(ticks))
    first = clock.trying(8, 1, 19)
    assert first == TryProgress(8, 1, 19, 2.0, None)  # nothing has ended
    assert clock.trying(16, 2, 19).left is None  # one try timed
    third = clock.trying(32, 3, 19)  # tries of 1 s and 2 s: in proportion to their sizes, 1/8 s a sample
    assert third.elapsed == 5.0 and third.left == pytest.approx((32 + sum(sizes_left([8, 16, 32], 19))) / 8)
    fourth = clock.trying(64, 4, 19)  # 1 s, 2 s, 1.5 s
    assert 0 < fourth.left < third.left
    assert third.words() == f"try 3 of at most 19, 0:05 so far, about {duration(third.left)} left"


def test_on_a_gpu_the_clock_ends_the_doubling_where_the_memory_runs_out():
    """Each try takes 1 s, and memory for 16 samples a gigabyte of 64: 1,024 samples fill it, so the search is
    taken to fail at 2,048 and to bisect below it; not to go on to 65,536, the largest its 19 tries allow."""
    gigabyte = 2**30
    ticks = iter([0.0, 1.0, 2.0, 3.0, 4.0])
    held = iter([0, gigabyte // 2, gigabyte, 2 * gigabyte])  # what the try before each call held
    clock = SearchClock(clock=lambda: next(ticks), memory=lambda: (next(held), 64 * gigabyte))
    for tries, size in enumerate((8, 16, 32), start=1):
        progress = clock.trying(size, tries, 19)
    assert sizes_left([8, 16, 32], 19, fits_to=1024.0) == [64, 128, 256, 512, 1024, 2048] + [2047] * 5
    assert progress.left == pytest.approx(1 + 11)  # this try and 11 more, of 1 s each
    assert clock.trying(64, 4, 19).left == pytest.approx(1 + 10)  # 32 held 2 GB: the same line


def test_the_words_say_the_time_left_once_it_is_known():
    assert TryProgress(1024, 3, 19, 4.2, 40.4).words() == "try 3 of at most 19, 0:04 so far, about 0:40 left"
    assert TryProgress(8, 1, 19, 2.0).words() == "try 1 of at most 19, 0:02 so far"
    assert TryProgress(8, 2, 19, 3.0, 3725.0).words() == "try 2 of at most 19, 0:03 so far, about 1:02:05 left"


def test_netbuilder_train_says_each_try_with_the_time_left(capsys):
    ticks = iter([0.0, 2.0, 3.0, 4.0])
    clock = SearchClock(clock=lambda: next(ticks))
    for tries, size in enumerate((8, 16, 32), start=1):
        _say_trying(clock.trying(size, tries, 19))
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "netbuilder: trying batch size 8 (try 1 of at most 19, 0:02 so far)"
    assert lines[2] == "netbuilder: trying batch size 32 (try 3 of at most 19, 0:04 so far, about 0:17 left)"


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
def test_on_a_gpu_netbuilder_train_says_about_how_long_is_left_from_the_third_try(tmp_path, capsys):
    project = Path(shutil.copy(SAMPLES / "residual_cnn.nbproj", tmp_path / "residual_cnn.nbproj"))
    assert main(["train", str(project), "--batch-size", "auto", "--device", "cuda", "--epochs", "1"]) == 0
    tries = [line for line in capsys.readouterr().err.splitlines() if line.startswith("netbuilder: trying ")]
    assert len(tries) >= 3 and all(" so far" in line for line in tries)
    assert [line.endswith(" left)") for line in tries] == [False, False] + [True] * (len(tries) - 2)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
def test_the_gpus_memory_is_the_most_held_since_the_last_call():
    gpu_memory()
    block = torch.empty(256 * 2**20, dtype=torch.uint8, device="cuda")
    held, capacity = gpu_memory()
    assert block.nbytes <= held <= capacity <= torch.cuda.get_device_properties(0).total_memory
    del block
    torch.cuda.empty_cache()
    gpu_memory()  # held the block until now
    assert gpu_memory()[0] <= held - 256 * 2**20
    total = torch.cuda.get_device_properties(0).total_memory
    torch.cuda.set_per_process_memory_fraction(0.5)  # a process's share bounds what its tries can take
    try:
        assert gpu_memory()[1] <= total // 2
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)

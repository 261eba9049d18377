"""What Find batch size says while it searches, in the window and in `netbuilder train --batch-size auto` alike:
the size being tried, the try of at most how many, the time so far and about how long is left.

The time left is estimated from the tries timed so far, once two have ended: one try cannot tell its fixed costs
(the CUDA graph's capture, the allocator giving memory back) from the part that grows with the batch. A try's
time grows with its size at most in proportion (its memory and arithmetic are linear in the batch) and at least
not at all (the fixed costs); where between, the last RECENT tries say, as the slope of log time against log
size held between 0 and 1, and the same growth is carried on to the sizes to come. Those are the largest the
search can still try (`sizes_left`): doubling on up to the largest limit its count of tries allows, then the
bisection's tries below that, as many as most_tries leaves. On a GPU the memory the tries held says more: it
grows in proportion to the batch too, so the last two tries that fit say at what size it runs out, and the
doubling is taken to end at the first size above that, as the search's does. The estimate leans long (a search
often ends sooner), and it is said as "about".
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import torch

from netbuilder.project.settings import MAX_BATCH_SIZE
from netbuilder.time_words import duration
from netbuilder.training.batch_size_search import BISECT_TO, most_tries

RECENT = 3  # the tries whose growth is carried on: flat while fixed costs lead, nearly linear once the GPU is busy
SHORTEST = 1e-3  # seconds: a try timed shorter is taken as this long (a logarithm needs a positive time)


def sizes_left(sizes: Sequence[int], most: int, fits_to: float | None = None) -> list[int]:
    """The largest sizes search_sizes can still try after `sizes` (those tried so far, in order, the last being
    tried now), `most` (most_tries of its limit) in all: the search's later sizes, largest first, are each at
    most the one at their place here, largest first. `fits_to`, where the memory the tries took says where it
    runs out (`memory_ceiling`), ends the doubling at the first size above it, as the search's would end."""
    count = most - len(sizes)
    if count <= 0 or not sizes:
        return []
    # A size is followed by a smaller one only where it did not fit, by a larger one only where it did; once one
    # has not, the search bisects, every later size below it, as many as the gap takes.
    failed = [size for size, after in pairwise(sizes) if after < size]
    if failed:
        fit = max((size for size, after in pairwise(sizes) if after > size), default=0)
        return [min(failed) - 1] * min(count, _bisection_tries(fit, min(failed)) - 1)
    ceiling = _largest_limit(most)
    left, size = [], sizes[-1]
    while len(left) < count and size < ceiling and (fits_to is None or size <= fits_to):
        size = min(2 * size, ceiling)
        left.append(size)
    # The first of these not to fit (this try, or one of the doublings) ends the doubling; the bisection then
    # takes at most its gap's tries, each below the last size doubled to.
    steps = [sizes[-2] if len(sizes) > 1 else 0, sizes[-1], *left]
    most_left = max(j + _bisection_tries(steps[j], steps[j + 1]) for j in range(len(left) + 1))
    return left + [size - 1] * (min(count, most_left) - len(left))


def memory_ceiling(peaks: Sequence[tuple[int, int]], capacity: int) -> float | None:
    """The size at which a try would take all of `capacity` bytes, on the line through the last two of `peaks`:
    (size, the most memory its try held) of tries that fit. None before two, or where memory did not grow."""
    if len(peaks) < 2:
        return None
    (small, low), (large, high) = peaks[-2:]
    per_sample = (high - low) / (large - small)
    return large + (capacity - high) / per_sample if per_sample > 0 else None


def seconds_left(timed: Sequence[tuple[int, float]], sizes: Sequence[int]) -> float | None:
    """About how long tries of `sizes` take, from `timed`: (size, seconds) of each try that ended, in order; None
    before two have (see the module's docstring)."""
    if len(timed) < 2:
        return None
    recent = timed[-RECENT:]
    xs = [math.log(size) for size, _ in recent]
    ys = [math.log(max(seconds, SHORTEST)) for _, seconds in recent]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread if spread else 0.0
    growth = min(1.0, max(0.0, slope))
    scale = mean_y - growth * mean_x
    return sum(math.exp(scale + growth * math.log(size)) for size in sizes)


@dataclass(frozen=True)
class TryProgress:
    """Where a search is as try `tries` of at most `most` starts with `size`: `elapsed` seconds since it was
    asked for, and about `left` seconds to go (None: not known yet)."""

    size: int
    tries: int
    most: int
    elapsed: float
    left: float | None = None

    def words(self) -> str:
        """'try 3 of at most 19, 0:04 so far, about 0:40 left' (without the time left while it is not known)."""
        left = f", about {duration(self.left)} left" if self.left is not None else ""
        return f"try {self.tries} of at most {self.most}, {duration(self.elapsed)} so far{left}"


Memory = Callable[[], tuple[int, int]]
"""memory() -> (the most bytes held since it was last called, the bytes the tries may hold in all)."""


def gpu_memory() -> tuple[int, int]:
    """The Memory of the current CUDA GPU (where find_batch_size tries sizes): the most torch's allocator reserved
    since the last call (a CUDA graph's pool included), and what it can reserve: free memory and its own, within
    the process's share (torch.cuda.set_per_process_memory_fraction); the peak starts again from now."""
    held = torch.cuda.max_memory_reserved()
    torch.cuda.reset_peak_memory_stats()
    free, total = torch.cuda.mem_get_info()
    share = int(torch.cuda.get_per_process_memory_fraction() * total)
    return held, min(free + torch.cuda.memory_reserved(), share)


class SearchClock:
    """Times a search's tries by the calls that start them (find_batch_size's `on_try`, before each size), from
    `began`: when the search was asked for, so that loading the data counts in the time so far. With `memory`
    (gpu_memory on a GPU), the memory each try that fit held says where the doubling will end."""

    def __init__(
        self, began: float | None = None, clock: Callable[[], float] = time.perf_counter, memory: Memory | None = None
    ) -> None:
        self._clock = clock
        self._memory = memory
        self.began = clock() if began is None else began
        self._sizes: list[int] = []
        self._timed: list[tuple[int, float]] = []
        self._peaks: list[tuple[int, int]] = []  # (size, the most memory its try held) of the tries that fit
        self._started = self.began

    def trying(self, size: int, tries: int, most: int) -> TryProgress:
        """The progress as try `tries` (of at most `most`) starts with `size`; the try before it ended now."""
        now = self._clock()
        held, capacity = self._memory() if self._memory is not None else (0, 0)
        if self._sizes:
            last = self._sizes[-1]
            self._timed.append((last, now - self._started))
            if size > last:  # the search went up: the last size fit
                self._peaks.append((last, held))
        self._sizes.append(size)
        self._started = now
        fits_to = memory_ceiling(self._peaks, capacity) if self._memory is not None else None
        left = seconds_left(self._timed, [size, *sizes_left(self._sizes, most, fits_to)])
        return TryProgress(size, tries, most, now - self.began, left)


def _bisection_tries(fit: int, failed: int) -> int:
    """How many sizes search_sizes tries at most between `fit`, the largest size that fit, and `failed`, the
    smallest that did not: the larger half of the gap each time, down to the search's precision."""
    tries, gap = 0, failed - fit
    while gap > max(1, fit // BISECT_TO):
        tries, gap = tries + 1, (gap + 1) // 2
    return tries


def _largest_limit(most: int) -> int:
    """The largest limit whose search takes at most `most` tries (most_tries grows with the limit): no size a
    search of `most` tries tries is larger."""
    low, high = 1, MAX_BATCH_SIZE
    if most_tries(high) <= most:
        return high
    while high - low > 1:  # most_tries(low) <= most < most_tries(high)
        middle = (low + high) // 2
        low, high = (middle, high) if most_tries(middle) <= most else (low, middle)
    return low

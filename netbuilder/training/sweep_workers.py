"""Several runs of a sweep at once on one GPU, each in a worker process of its own.

On an H200, four small bare engine runs in four processes took 1.4x to 2.1x less time than in turn (benchmarks/
bench_sweep_gpu.py): a small model leaves most of the GPU idle between its kernels, and the GPU time-slices the
processes' contexts. Threads cannot do it: the engine's CUDA-graph capture is process-wide. The whole sweep
command with 4 at once was still slower for a short sweep (docs/benchmarks.md): the workers' start comes first.

The pool's processes are forks of a fork server that imported torch once and never touched CUDA (a child forked
from a process with CUDA in use cannot use it), so a worker starts without importing torch again
(`bench_sweep_parallel.py --pool-start`); where there is no fork server (Windows), each is spawned and imports
torch itself. Each runs one run after another for the whole sweep. What crosses between the processes is plain
data: a run's `TrialJob` as a dict, and back the engine's events (RunStart, Progress, EpochEnd, Outcome) as their
fields, so the parent alone keeps the records. A worker writes its run's checkpoints and weights into the run's
folder as the queue does. A worker that dies (out of memory, killed) fails the run it had, in one line; the next
run it would have had starts a new worker.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from netbuilder.project.run_events import EpochEnd, Outcome, Progress, RunStart
from netbuilder.training.control import Control
from netbuilder.training.sweep_trial import TrialJob, run_trial

EVENTS = {kind.__name__: kind for kind in (RunStart, Progress, EpochEnd, Outcome)}
"""The engine's events a worker sends on: what the run's record and the sweep's listener read (the gradient
reports stay in the worker, where only the run's TensorBoard log reads them)."""
MAX_AUTO = 4  # runs at once `auto_workers` chooses at most: the benchmark's K, where the gain was measured
CONTEXT_BYTES = 512 * 2**20  # what a process's CUDA context takes on the GPU besides the run's own tensors
POLL_SECONDS = 0.2  # how often the parent looks at a stop while no run says anything
STOP_POLL_SECONDS = 0.05  # how often a worker looks whether the sweep was stopped


@dataclass(frozen=True)
class TrialHeard:
    """An engine event of the run `key` (the parent's name for it: the trial's index)."""

    key: int
    event: Any


@dataclass(frozen=True)
class TrialDone:
    """The run `key` ended: how (`outcome`) and where its weights were saved (None: none saved)."""

    key: int
    outcome: Outcome
    weights: Path | None


class _Worker:
    def __init__(self, process: Any, connection: Connection) -> None:
        self.process = process
        self.connection = connection  # its own pipe both ways: a worker killed mid-message blocks no other
        self.key: int | None = None  # the run it has, if any
        self.epochs_done = 0  # of that run, as far as its events said
        self.global_step = 0


class TrialPool:
    """`workers` processes that run TrialJobs at once: `submit` gives a run to a free one, `next` returns what
    the runs say (TrialHeard, TrialDone), each run's in the order it said it, `close` ends the processes. Once
    `control` is stopped (from any thread) every run stops after its current step, as a run stops. Use it from
    one thread."""

    def __init__(self, workers: int, control: Control) -> None:
        self.control = control
        self._context = _context()
        # a flag in shared memory the workers look at, not an Event: a worker killed while waiting on an Event
        # leaves it unable to be set
        self._stop = self._context.RawValue("b", 0)
        self._said: deque[TrialHeard | TrialDone] = deque()  # read from the pipes, not yet returned
        # the CPU's share of each run (its data, its Python) divided between the runs rather than fought over
        self._threads = max(1, (os.cpu_count() or 1) // workers)
        self._workers = [self._start(slot) for slot in range(workers)]  # all start at once: their imports overlap

    @property
    def size(self) -> int:
        return len(self._workers)

    @property
    def busy(self) -> int:
        """Runs going on now (or ended, with their end not yet returned by `next`)."""
        return sum(worker.key is not None for worker in self._workers) + sum(
            isinstance(said, TrialDone) for said in self._said
        )

    def submit(self, key: int, job: TrialJob) -> None:
        """Give the run `job`, called `key` in what `next` returns, to a free worker (ValueError when none is)."""
        slot = next((slot for slot, worker in enumerate(self._workers) if worker.key is None), None)
        if slot is None:
            raise ValueError("every worker has a run")
        if not self._workers[slot].process.is_alive():  # it died with its last run
            self._workers[slot].connection.close()
            self._workers[slot] = self._start(slot)
        worker = self._workers[slot]
        worker.key, worker.epochs_done, worker.global_step = key, job.done, 0
        worker.connection.send((key, asdict(job)))

    def next(self) -> TrialHeard | TrialDone:
        """What a run said next: an event of its, or its end; waits for it (call it only while `busy`). A worker
        that ended without saying its run ended is that run failed."""
        while not self._said:
            if self.control.stopped:
                self._stop.value = 1
            running = [worker for worker in self._workers if worker.key is not None]
            ready = set(wait([w.connection for w in running] + [w.process.sentinel for w in running], POLL_SECONDS))
            for worker in running:  # one message from each that has one: none waits behind a busy talker
                if worker.connection in ready:
                    try:
                        self._said.append(self._read(worker, worker.connection.recv()))
                    except (EOFError, OSError):
                        self._said.append(self._died(worker))
                elif worker.process.sentinel in ready:  # ended, with nothing left in its pipe
                    self._said.append(self._died(worker))
        return self._said.popleft()

    def _read(self, worker: _Worker, message: tuple) -> TrialHeard | TrialDone:
        kind, key, *rest = message
        if kind == "done":
            outcome, weights = rest
            worker.key = None
            return TrialDone(key, Outcome(**outcome), Path(weights) if weights else None)
        name, fields = rest
        event = EVENTS[name](**fields)
        if isinstance(event, EpochEnd):
            worker.epochs_done = event.epoch
        elif isinstance(event, Progress):
            worker.global_step = event.global_step
        return TrialHeard(key, event)

    def _died(self, worker: _Worker) -> TrialDone:
        key, worker.key = worker.key, None
        worker.process.join(timeout=POLL_SECONDS)
        code = worker.process.exitcode
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        message = f"the process running this run ended without finishing it ({how}: out of memory, or killed)"
        return TrialDone(key, Outcome("failed", message, worker.epochs_done, worker.global_step), None)

    def close(self) -> None:
        """End the workers: each once its run is over (a stop is sent first when one still runs)."""
        if any(worker.key is not None for worker in self._workers):
            self._stop.value = 1
        for worker in self._workers:
            with contextlib.suppress(OSError):
                worker.connection.send(None)
        deadline = time.monotonic() + 30
        for worker in self._workers:
            while worker.process.is_alive() and time.monotonic() < deadline:
                with contextlib.suppress(EOFError, OSError):  # what it still says, so that it can end
                    while worker.connection.poll():
                        worker.connection.recv()
                worker.process.join(timeout=POLL_SECONDS)
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join()
            worker.connection.close()

    def _start(self, slot: int) -> _Worker:
        here, there = self._context.Pipe()
        process = self._context.Process(
            target=_work, args=(there, self._stop, self._threads), name=f"netbuilder-sweep-{slot}", daemon=True
        )
        process.start()
        there.close()  # the worker's end lives in the worker: its death then reads as the pipe's end here
        return _Worker(process, here)


def _context() -> Any:
    """The fork server where the system has one, with this module (torch with it) imported in its server once;
    else spawning."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def _work(connection: Connection, stop: Any, threads: int) -> None:
    """A worker process: run the jobs it is given, one at a time, until it is given None (or the parent goes)."""
    # Ctrl+C in a terminal reaches every process of the group: the parent hears it and stops the runs itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import torch

    torch.set_num_threads(threads)
    control = Control()

    parent = multiprocessing.parent_process()

    def watch() -> None:  # the sweep stopped, or the process that runs it gone (killed): stop after this step
        while not stop.value and (parent is None or parent.is_alive()):
            time.sleep(STOP_POLL_SECONDS)
        control.stop()

    threading.Thread(target=watch, daemon=True).start()

    def say(message: tuple) -> None:
        with contextlib.suppress(OSError):  # the parent is gone: the run stops (watch) and no one hears it
            connection.send(message)

    while True:
        try:
            given = connection.recv()
        except (EOFError, OSError):
            return
        if given is None:
            return
        key, fields = given
        job = TrialJob(**fields)

        def heard(event: Any, key: int = key) -> None:
            name = type(event).__name__
            if name in EVENTS:
                say(("event", key, name, asdict(event)))

        try:
            outcome, weights = run_trial(job, control, heard)
        except Exception as err:  # whatever ends the run is said as its failure, and the worker goes on
            outcome, weights = Outcome("failed", f"{type(err).__name__}: {err}".splitlines()[0], job.done), None
        say(("done", key, asdict(outcome), str(weights) if weights is not None else None))


def auto_workers(run_bytes: int, free_bytes: int, trials: int) -> int:
    """How many runs at once `--parallel auto` chooses: as many as fit, each the largest run's estimated
    training memory (`run_bytes`: weights, gradients, the optimizer's state and a batch's activations, from the
    analysis) plus a CUDA context, in half the GPU's free memory (the estimate is rough, and the data and
    cuDNN's work space come on top); at most MAX_AUTO (the most the benchmark measured) and the sweep's trials,
    at least 1."""
    fits = (free_bytes // 2) // max(1, run_bytes + CONTEXT_BYTES)
    return max(1, min(MAX_AUTO, trials, fits))

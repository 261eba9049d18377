"""A run of several processes, started by the app itself (the window's Processes setting, `netbuilder train
--processes N` or `--gpus N`): the parent starts the workers, relays rank 0's events to its listener, passes
Stop and Pause on, and watches the processes.

The workers are started from a fork server (or spawned where there is none): the window has threads, so it
never forks itself. Each rebuilds the project from its file contents (`project_to_dict`) and trains it as a
distributed.ShardedTrainer. What crosses is plain data: the job as a dict, rank 0's events (Progress, EpochEnd,
the gradient reports) as their fields, and each worker's Outcome at the end; the run's state comes back as a checkpoint
that rank 0 writes, so that the parent, a Trainer of the same project on the CPU, ends where the run ended
(its weights saved by `save_weights`, its history, a later `run()` going on from there) as the window and the
console expect of a Trainer. A worker that dies or fails ends the run, with its error, within a few seconds:
the others are then ended too, whatever collective they wait in. The parent reads the data once, for its sizes,
and lets go of it: the workers hold it while they train.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import socket
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, replace
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

import torch

from netbuilder.project import Project
from netbuilder.project.gradient_samples import GradientReport, GradientSample
from netbuilder.project.project_file import project_from_dict, project_to_dict
from netbuilder.project.run_events import EpochEnd, Listener, Outcome, Progress, RunStart
from netbuilder.runtime.devices import resolve_device
from netbuilder.runtime.weights import first_line
from netbuilder.training.control import Control
from netbuilder.training.engine import Trainer, with_settings

EVENTS = {kind.__name__: kind for kind in (RunStart, Progress, EpochEnd, GradientReport)}
POLL_SECONDS = 0.1  # how often the parent passes Stop and Pause on while no worker says anything
GRACE_SECONDS = 2.0  # after one worker fails, how long the others have to say why before they are ended


@dataclass(frozen=True)
class WorkerJob:
    """One worker's part of a run; paths are strings, so that the job crosses as plain data."""

    project: dict[str, Any]
    path: str | None  # the project file's (relative data paths are read from beside it)
    rank: int
    world: int
    device: str
    port: int
    start: str  # the checkpoint every worker starts from: where the parent's run stands
    end: str  # where rank 0 writes where the run ended
    checkpoints: str | None  # rank 0's checkpoint folder
    max_steps: int | None
    threads: int


def new_trainer(project: Project, *, resume: Path | None = None, resume_name: str | None = None) -> Trainer:
    """The run's Trainer: in this process, or one whose steps run in `processes` worker processes."""
    if project.training.processes > 1:
        return ProcessTrainer(project, resume=resume, resume_name=resume_name)
    return Trainer(project, resume=resume, resume_name=resume_name)


class ProcessTrainer(Trainer):
    """A Trainer whose `run` trains in worker processes; it holds the run's state on the CPU between runs."""

    def __init__(self, project: Project, *, resume: Path | None = None, resume_name: str | None = None) -> None:
        self.processes = project.training.processes
        self.run_device = resolve_device(project.training.device)
        if self.run_device.type == "cuda" and torch.cuda.device_count() < self.processes:
            raise ValueError(
                f"{self.processes} processes on CUDA take one GPU each, and this machine has "
                f"{torch.cuda.device_count()}: choose at most that many"
            )
        settings = project.training
        if settings.batch_size < self.processes:
            raise ValueError(
                f"batches of {settings.batch_size} are smaller than the {self.processes} processes: each needs a "
                "share of every batch; take a larger batch or fewer processes"
            )
        if settings.sync_batchnorm == "on" and self.run_device.type != "cuda":
            raise ValueError("sync batch norm needs CUDA (torch's SyncBatchNorm): train on GPUs, or set it off")
        self.run_project = project
        super().__init__(with_settings(project, device="cpu"), resume=resume, resume_name=resume_name)
        self.settings = project.training  # as the run trains: on its device
        if not self.streamed:  # each worker reads the data itself: this process keeps its sizes, not a copy
            del self.train_x, self.train_y, self.val_x, self.val_y

    def run_start(self, *, resumed: bool = False) -> RunStart:
        start = super().run_start(resumed=resumed)
        if self.run_device.type == "cuda":
            device = f"cuda, {self.processes} GPUs (nccl; the step eagerly, not as a CUDA graph)"
        else:
            device = f"cpu, {self.processes} processes (gloo)"
        return replace(start, device=device)

    def run(
        self,
        on_event: Listener | None = None,
        control: Control | None = None,
        checkpoint_dir: Path | None = None,
        max_steps: int | None = None,
    ) -> Outcome:
        from netbuilder.training.distributed import SharedControl

        emit = on_event or (lambda event: None)
        control = control or Control()
        context = _context()
        shared = SharedControl(context)
        with tempfile.TemporaryDirectory(prefix="netbuilder-run-") as folder:
            start, end = Path(folder) / "start.pt", Path(folder) / "end.pt"
            self.save_checkpoint(start)
            port = _free_port()
            threads = max(1, torch.get_num_threads() // self.processes)
            data = project_to_dict(self.run_project)
            path = str(self.run_project.path) if self.run_project.path else None
            workers = []
            for rank in range(self.processes):
                job = WorkerJob(
                    data, path, rank, self.processes, str(self.run_device), port, str(start), str(end),
                    str(checkpoint_dir) if checkpoint_dir is not None and rank == 0 else None, max_steps, threads,
                )  # fmt: skip
                here, there = context.Pipe()
                process = context.Process(target=_work, args=(asdict(job), there, shared), name=f"rank {rank}")
                process.start()
                there.close()  # the worker's end lives in the worker: its death then reads as the pipe's end here
                workers.append((process, here))
            try:
                outcome = _watch(workers, emit, control, shared)
            finally:  # also when the listener raised: no worker outlives the run
                _end([process for process, _ in workers], at_once=False)
            if outcome.status != "failed" and end.is_file():
                self.load_checkpoint(end)
        if outcome.status == "failed":
            outcome = Outcome("failed", outcome.message, self.epoch, self.global_step, *_last(self))
        emit(outcome)
        return outcome


def _last(trainer: Trainer) -> tuple:
    """The outcome's figures of the last validated epoch, as the parent's state holds them."""
    metrics = dict(trainer.history[-1]) if trainer.history else {}
    return metrics, trainer.confusion, tuple(trainer.class_names), trainer.report


def _watch(workers: list, emit: Listener, control: Control, shared: Any) -> Outcome:
    """Relay rank 0's events and each worker's end until all have ended or one failed; then end the others."""
    ended: dict[int, Outcome] = {}
    failure = ""
    failed_at = 0.0
    while len(ended) < len(workers):
        if control.stopped:
            shared.stop()
        elif control.paused != shared.paused:
            shared.pause() if control.paused else shared.resume()
        wait([connection for _, connection in workers] + [process.sentinel for process, _ in workers], POLL_SECONDS)
        for rank, (process, connection) in enumerate(workers):
            while rank not in ended:
                try:
                    if not connection.poll():
                        break
                    message = connection.recv()
                except (EOFError, OSError):  # its end closed: it died
                    code = process.join(1) or process.exitcode
                    ended[rank] = Outcome("failed", f"process {rank} of the run ended (exit code {code})")
                    failure = failure or ended[rank].message  # a death says more than the others' lost peer
                    break
                if message[0] == "event":
                    emit(_event(message[1], message[2]))
                else:
                    ended[rank] = Outcome(**message[1])
        if any(outcome.status == "failed" for outcome in ended.values()):
            failed_at = failed_at or time.monotonic()
            if time.monotonic() - failed_at > GRACE_SECONDS or len(ended) == len(workers):
                break
    if failure or any(outcome.status == "failed" for outcome in ended.values()):
        _end([process for process, _ in workers], at_once=True)  # those waiting in a collective for one gone
    if failure:
        return Outcome("failed", failure)
    failures = [f"process {rank}: {o.message}" for rank, o in sorted(ended.items()) if o.status == "failed"]
    if failures:
        return Outcome("failed", failures[0].removeprefix("process 0: "))
    return ended[0]


def _end(processes: list, *, at_once: bool) -> None:
    """End the workers: at once (terminated), or given GRACE_SECONDS to finish first; killed if they do not."""
    for process in processes:
        if at_once and process.is_alive():
            process.terminate()
    for process in processes:
        process.join(GRACE_SECONDS)
        if process.is_alive():
            process.kill()
            process.join()


def _event(name: str, fields: dict[str, Any]) -> Any:
    """An engine event again from the fields a worker sent (a gradient report's samples are events of their own)."""
    if name == "GradientReport":
        return GradientReport(tuple(fields["layers"]), tuple(_sample(sample) for sample in fields["samples"]))
    return EVENTS[name](**fields)


def _sample(fields: dict[str, Any]) -> GradientSample:
    return GradientSample(fields["step"], *(tuple(fields[name]) for name in list(fields)[1:]))


def _work(fields: dict[str, Any], connection: Connection, control: Control) -> None:
    """A worker process: train its share of the run, say rank 0's events, then how it ended."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the parent, which stops the run
    import torch.distributed as dist

    from netbuilder.training.distributed import ShardedTrainer, join

    job = WorkerJob(**fields)

    def say(message: tuple) -> None:
        with contextlib.suppress(OSError):  # the parent is gone: nobody hears it
            connection.send(message)

    def heard(event: Any) -> None:
        if job.rank == 0 and type(event).__name__ in EVENTS:
            say(("event", type(event).__name__, asdict(event)))

    parent = multiprocessing.parent_process()

    def watch() -> None:  # the process that runs the run gone (killed): stop every worker after this step
        while parent is None or parent.is_alive():
            time.sleep(POLL_SECONDS)
        control.stop()

    threading.Thread(target=watch, daemon=True).start()
    try:
        torch.set_num_threads(job.threads)
        device = join(job.rank, job.world, job.device, job.port)
        project = project_from_dict(job.project, Path(job.path) if job.path else None)
        trainer = ShardedTrainer(project, rank=job.rank, world=job.world, device=device, resume=Path(job.start))
        checkpoints = Path(job.checkpoints) if job.checkpoints else None
        outcome = trainer.run(heard, control, checkpoint_dir=checkpoints, max_steps=job.max_steps)
        if job.rank == 0 and outcome.status != "failed":
            trainer.save_checkpoint(Path(job.end))
    except Exception as err:  # whatever ends this process's part is said as the run's failure
        outcome = Outcome("failed", f"{type(err).__name__}: {first_line(err)}")
    say(("done", asdict(outcome)))
    if dist.is_initialized():
        dist.destroy_process_group()


def _free_port() -> int:
    """A port on this machine that no one listens on, for the process group to meet at."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _context() -> Any:
    """The fork server where the system has one, with this module (torch with it) imported in its server once;
    else spawning. Never a plain fork: the window has threads."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context

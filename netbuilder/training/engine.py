"""The training engine: trains a project's generated model, reporting through a callback, stoppable within
one step, pausable, and resumable from a checkpoint with bit-identical results on the CPU.

It does what the exported train.py's `train()` does, in the same order, with the script's own functions
(see program.py): each step is train.py's `train_step`, each validation its `evaluate`, so the exported
script reproduces the app's run and the engine holds no training arithmetic of its own. Data that fits in
memory lives on the training device and batches are taken by index; per-step losses accumulate on the device
and are read at most every REPORT_SECONDS, so there is no host sync on each step. A streamed dataset (an
image folder) comes through train.py's own `batches()`, a DataLoader over the epoch's permutation, so a
resumed run re-reads the rest of the epoch from the saved permutation.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from netbuilder.codegen.training_loop import NOT_A_NUMBER_ADVICE, VOCABULARY_FILE
from netbuilder.project import Project
from netbuilder.project.run_events import EpochEnd, Listener, Outcome, Progress, RunStart
from netbuilder.project.run_recorder import epoch_entry
from netbuilder.runtime.devices import default_workers, resolve_device
from netbuilder.runtime.weights import first_line
from netbuilder.training.callbacks import Callback, Checkpoints, EarlyStopping
from netbuilder.training.checkpoint_file import (
    CHECKPOINT_FORMAT,
    CheckpointError,
    WriteError,
    read_checkpoint,
    save_file,
)
from netbuilder.training.compiled_step import CompiledStep, worth_compiling
from netbuilder.training.control import Control
from netbuilder.training.cuda_graph import GraphedStep, make_capturable, why_not_graphed
from netbuilder.training.cuda_start import CudaStart
from netbuilder.training.data_cache import prepared_data
from netbuilder.training.epoch_order import EpochOrder
from netbuilder.training.failure_message import explain_failure
from netbuilder.training.gradient_stats import GradientStats
from netbuilder.training.graphed_evaluation import GraphedEvaluation
from netbuilder.training.out_of_memory import is_out_of_memory, out_of_memory_message, release_gpu_memory
from netbuilder.training.pace import Pace
from netbuilder.training.program import Program, load_program
from netbuilder.training.run_start import run_start

REPORT_SECONDS = 0.1


# ---- the trainer -----------------------------------------------------------------------------------------


class Trainer:
    """One training run of a project: data, model, optimizer and schedule, and where the run stands.

    `run()` is a short loop around hooks: each epoch's steps (train.py's own `train_step`, replayed as a CUDA
    graph on a GPU where it can be), its validation (train.py's `evaluate`), then the callbacks (early
    stopping, checkpoints), each with its own state."""

    def __init__(
        self,
        project: Project,
        *,
        device: str | None = None,
        program: Program | None = None,
        workers: int | None = None,
        resume: Path | None = None,
        resume_name: str | None = None,
    ) -> None:
        """`workers`: processes that read a streamed dataset ahead of the steps (None: default_workers()).
        `resume`: a checkpoint to go on from, read and checked against the network before any data loads, so
        that a file that cannot be gone on from is refused at once (CheckpointError, one line naming it as
        `resume_name`, its path unless given)."""
        self.project = project
        self.settings = project.training
        self.epochs = self.settings.epochs
        self.program = program or load_program(project)
        saved = read_checkpoint(resume, self.program, name=resume_name) if resume is not None else None
        self.device = resolve_device(device or self.settings.device)
        cuda_start = CudaStart(self.device)  # the GPU starts in the background while the data is prepared
        self.workers = default_workers() if workers is None else workers
        script = self.program.script
        seed = self.settings.seed
        task = self.program.task
        self.classification = task.classification
        self.class_names = task.class_names

        # -- the same steps as train.py's train(), in the same order (so the same random numbers) --------
        self.streamed = task.dataset.streamed  # train.py reads its samples through batches(), a DataLoader
        self.vocabulary: list[str] | None = None  # a text dataset's tokens by index (train.py's vocab.json)
        augmented = task.dataset.images and task.dataset_params["augment"] != "none"
        self._epoch_seeds = self.streamed and augmented
        if self.streamed:
            self.train_part, self.val_part = script.prepare_data(self.settings.val_fraction, seed)
            self.train_size, self.val_size = len(self.train_part), len(self.val_part)
        else:
            if task.dataset.tokens:  # texts: the vocabulary made from the training part goes with the weights
                *parts, self.vocabulary = script.prepare_text(self.settings.val_fraction, seed)
            else:
                parts = prepared_data(script, self.program.script_source, self.settings.val_fraction, seed)
            train_x, train_y, val_x, val_y = parts
            self.train_x, self.train_y = train_x.to(self.device), train_y.to(self.device)
            self.val_x, self.val_y = val_x.to(self.device), val_y.to(self.device)
            self.train_size, self.val_size = len(train_x), len(val_x)
        cuda_start.join()
        torch.manual_seed(seed)
        self.model: nn.Module = self.program.new_model().to(self.device)
        # train.py's memory_format(): channels last for a convolutional network on CUDA, weights and batches alike
        layout = getattr(script, "memory_format", None)
        self.layout = layout(self.model, str(self.device)) if layout else torch.contiguous_format
        self._lay_out(self.layout)
        self.criterion: nn.Module = script.make_criterion()
        self.optimizer = script.make_optimizer(self.model)
        # a mixed-precision train.py says how: the autocast type and, for fp16, a gradient scaler
        mixed_precision = getattr(script, "mixed_precision", None)
        self._mixed = mixed_precision(self.settings.precision, str(self.device)) if mixed_precision else ()
        self._amp, self._scaler = self._mixed or (None, None)
        # per-layer gradient statistics every few steps, named by node; fp16's skipped steps have inf gradients
        self.gradient_stats = GradientStats(self.model, self._layer_labels(), skip_non_finite=self._scaler is not None)
        batch_size = self.settings.batch_size
        self.steps_per_epoch = -(-self.train_size // batch_size)
        make_scheduler = getattr(script, "make_scheduler", None)
        self.scheduler = make_scheduler(self.optimizer, self.epochs, self.steps_per_epoch) if make_scheduler else None
        self.schedule = type(self.scheduler).__name__ if self.scheduler else ""
        # train.py's shuffling: gathered on the device by index from memory; a DataLoader takes its order on the CPU
        self.orders = EpochOrder(self.train_size, seed, torch.device("cpu") if self.streamed else self.device)
        # train.py's augment() and mix() change each training batch on the device inside the step (and its CUDA
        # graph), drawing from this generator; a streamed run's per-sample crops and flips alone draw one seed an epoch
        self._augment, self._mix = getattr(script, "augment", None), getattr(script, "mix", None)
        on_device = not self.streamed or self._augment or self._mix
        self.augmentation = torch.Generator(self.device if on_device else "cpu").manual_seed(seed + 2)
        drawn = self.device.type == "cuda" and (self._augment or self._mix)
        self.drawn_in_step = (self.augmentation,) if drawn else ()  # the step's own generators, for its graphs

        # -- where the run stands -------------------------------------------------------------------------
        self.epoch = 0  # epochs completed
        self.position = 0  # samples of the current epoch already used
        self.order: torch.Tensor | None = None  # this epoch's permutation, drawn at its first step
        self.epoch_seed = 0  # a streamed run's seed of this epoch's crops and flips (see train.py's Part)
        self.global_step = 0
        self.history: list[dict[str, Any]] = []
        # the last validation's confusion matrix and its per-class figures (classification), kept for the outcome
        self.confusion: list[list[int]] | None = None
        self.report: dict[str, Any] | None = None
        self.stop_reason = ""  # set by a callback that ends the run before its last epoch
        self.early_stopping = EarlyStopping(self.settings.early_stopping)
        self.checkpoints = Checkpoints()
        # early stopping first: the checkpoint saved after an epoch holds its verdict, and one that stops the run
        # is always written
        self.callbacks: list[Callback] = [self.early_stopping, self.checkpoints]
        self._epoch_loss = torch.zeros((), device=self.device)
        self._epoch_correct = torch.zeros((), device=self.device)
        self.graphed: GraphedStep | None = None  # the step as a CUDA graph, where it can be one
        self.compiled: CompiledStep | None = None  # the step on the model compiled, where that pays
        self._pace: Pace | None = None  # the run() under way, which hears the compiled step's notes
        self.not_graphed = "" if self.device.type == "cuda" else "the CPU runs the step as it is"
        self.evaluation_batch = script.evaluation_batch(batch_size)  # train.py validates in larger batches
        evaluation = (script, self.model, self.criterion, self.evaluation_batch, self._mixed[:1], self._laid_out)
        self.evaluation = GraphedEvaluation(*evaluation, graphed=self.device.type == "cuda" and not self.streamed)
        if not self.not_graphed:
            self.not_graphed = why_not_graphed(self.optimizer, self.schedule, self._amp)
        if not self.not_graphed:
            make_capturable(self.optimizer)
            self.graphed = self._graphed_step()
            if worth_compiling(self.model, self.layout, self.epochs * self.steps_per_epoch):
                self.compile_step()
        if saved is not None:
            try:
                self.load_state_dict(saved)
            except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, IndexError) as err:
                # a value read_checkpoint does not look into (the schedule's, a random state's) is wrong
                raise CheckpointError(f"{resume_name or resume}: damaged: {first_line(err)}") from None

    # ---- running ---------------------------------------------------------------------------------------

    def run(
        self,
        on_event: Listener | None = None,
        control: Control | None = None,
        checkpoint_dir: Path | None = None,
        max_steps: int | None = None,
    ) -> Outcome:
        """Train until the epochs are done, `control` stops it, a callback stops it early, or a step fails.

        May be called again after a stop: it goes on from where it was. `max_steps` stops after that many
        steps in this call (for smoke tests and benchmarks)."""
        pace = Pace(
            on_event or (lambda event: None),
            control or Control(),
            max_steps,
            torch.empty(self.steps_per_epoch, device=self.device),
            reported=self.position // self.settings.batch_size,
        )
        self.checkpoints.folder = checkpoint_dir
        self.stop_reason = ""
        self._pace = pace
        try:
            while self.epoch < self.epochs:
                ended = self._train_epoch(pace)
                if ended:
                    return self._finish(pace.emit, *ended)
                self._end_epoch(pace)
                if self.stop_reason:
                    return self._finish(pace.emit, "early-stopped", self.stop_reason)
        except WriteError as err:  # a checkpoint could not be written (a full disk): the earlier one is whole
            return self._finish(pace.emit, "failed", str(err))
        except Exception as err:  # an exception in forward or backward ends the run with the node named
            failure = "" if is_out_of_memory(err) else self._explain(err)
        else:
            return self._finish(pace.emit, "completed", "")
        if not failure:  # out of the GPU's memory in a step, its capture or validation: freed once handled
            release_gpu_memory(self.optimizer)
            failure = out_of_memory_message(self.settings.batch_size, self.settings.accumulation)
        return self._finish(pace.emit, "failed", failure)

    def train_at_rates(self, rates: Iterable[float], after_step: Callable[[int, float, float], bool]) -> None:
        """One step of train.py's `train_step` at each rate in turn (what the learning-rate range test does):
        the rate is set on every parameter group before its step, the schedule is not stepped, and each step
        takes the next batch as training draws them, epoch after epoch. `after_step(step, rate, loss)` (step
        counted from 1) says whether to go on. The step runs outside the CUDA graph, which would keep the first
        rate. The batch reader (a DataLoader and its worker processes, for a streamed dataset) is closed when
        this returns, however it ends: stopped mid-epoch, or by an exception. The trainer is not trained on
        afterwards: where its epoch stands is left undefined."""
        self.model.train()
        batches = self._endless_batches()
        try:
            for step, rate in enumerate(rates, start=1):
                for group in self.optimizer.param_groups:
                    group["lr"] = rate
                loss = float(self._train_step(*self._augmented(*next(batches)))[0])
                if not after_step(step, rate, loss):
                    return
        finally:
            batches.close()

    def _endless_batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Batches epoch after epoch from the start of an epoch, each epoch with its own permutation."""
        while True:
            self.position = 0
            self._draw_epoch_order()
            yield from self._read_batches()  # closing this generator closes that one too

    def request_stop(self, reason: str) -> None:
        """End the run after this epoch, saying why (what early stopping calls)."""
        self.stop_reason = reason

    def _train_epoch(self, pace: Pace) -> tuple[str, str] | None:
        """The rest of this epoch's steps; (status, message) where the run ends before the epoch does."""
        pace.epoch_started = time.perf_counter()
        if self.order is None:
            self._draw_epoch_order()
            self._epoch_loss.zero_()
            self._epoch_correct.zero_()
            pace.reported = 0
        self.model.train()
        batches = self._read_batches()
        while self.position < self.train_size:
            pace.paused_for += pace.control.wait_while_paused()
            if pace.control.stopped or (pace.max_steps is not None and pace.steps >= pace.max_steps):
                self._report(pace)
                return "stopped", "stopped by request"
            step = self.position // self.settings.batch_size
            batch_x, batch_y = next(batches)
            pace.losses[step] = self._step(batch_x, batch_y)
            self.position += len(batch_y)
            self.global_step += 1
            pace.steps += 1
            if self._report_due(pace):
                failure = self._report(pace)
                if failure:
                    return "failed", failure
        if not self.streamed and self.epoch + 1 < self.epochs:  # while the device works through the queued steps
            self.orders.draw_ahead()
        failure = self._report(pace)
        return ("failed", failure) if failure else None

    def _report_due(self, pace: Pace) -> bool:  # every REPORT_SECONDS (several processes: when rank 0 says)
        return time.perf_counter() - pace.last_report >= REPORT_SECONDS

    def _draw_epoch_order(self) -> None:
        """This epoch's permutation (and a streamed run's seed for its crops and flips), as train() draws them."""
        self.order = self.orders.draw()
        if self._epoch_seeds:
            self.epoch_seed = int(
                torch.randint(2**62, (), generator=self.augmentation, device=self.augmentation.device)
            )

    def _augmented(self, batch_x: torch.Tensor, batch_y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A batch as read, changed by train.py's augment() and mix() as train() does: (inputs, what the loss
        compares them with); mix makes the targets class probabilities, while accuracy counts the labels."""
        if self._augment is not None:
            batch_x = self._augment(batch_x, self.augmentation)
        return self._mix(batch_x, batch_y, self.augmentation) if self._mix else (batch_x, batch_y)

    def _read_batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The rest of this epoch's batches from self.position on, on the device as they are (augmentation is
        part of the step): gathered in memory, or read and copied by train.py's batches()."""
        batch_size = self.settings.batch_size
        if self.streamed:
            self.train_part.epoch_seed = self.epoch_seed
            order = self.order[self.position :].tolist()
            yield from self.program.script.batches(self.train_part, order, batch_size, str(self.device), self.workers)
            return
        for start in range(self.position, self.train_size, batch_size):
            index = self.order[start : start + batch_size]
            yield self.train_x[index], self.train_y[index]

    def _step(self, batch_x: torch.Tensor, batch_y: torch.Tensor) -> torch.Tensor:
        """One training step, augmentation and the epoch's running sums included (as a CUDA graph where it can
        be); every few steps the gradient statistics, measured on the device."""
        sampled = self.gradient_stats.due(self.global_step)
        if sampled:
            self.gradient_stats.before_step()
        loss = (self.graphed or self._counted_step)(batch_x, batch_y)
        if sampled:
            self.gradient_stats.after_step(self.global_step + 1)
        if self.schedule == "OneCycleLR":
            self.scheduler.step()
        return loss

    def _counted_step(self, batch_x: torch.Tensor, batch_y: torch.Tensor) -> torch.Tensor:
        """The run's step on a batch as read, then its loss and right answers (against the labels) added to the
        epoch's sums in place: inside the step's CUDA graph, they replay with it."""
        loss, output = self._model_step(batch_x, batch_y)
        self._epoch_loss += loss * len(batch_y)
        if self.classification:
            self._epoch_correct += self.program.script.count_correct(output, batch_y)
        return loss

    def _model_step(self, batch_x: torch.Tensor, batch_y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The run's step on a batch as read: augmented, then on the model compiled where it is, else as it is."""
        return (self.compiled or self._train_step)(*self._augmented(batch_x, batch_y))

    def _train_step(self, batch_x: torch.Tensor, batch_y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """train.py's own train_step on this run's model as it is (not compiled), loss and optimizer, clipping and
        precision."""
        return self._step_on(self.model, batch_x, batch_y)

    def _step_on(
        self, model: nn.Module, batch_x: torch.Tensor, batch_y: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """train.py's own train_step on `model` (this run's, or it compiled)."""
        clip, parts, step = self.settings.grad_clip, self.settings.accumulation, self.program.script.train_step
        return step(model, self.criterion, self.optimizer, batch_x, batch_y, clip, *self._mixed, accumulation=parts)

    def _graphed_step(self) -> GraphedStep:
        """The step as CUDA graphs, reading batches laid out as the model's weights are."""
        step, size = self._counted_step, self.settings.batch_size
        return GraphedStep(step, self.optimizer, size, self._laid_out, self.drawn_in_step)

    def compile_step(self) -> None:
        """Take each step on the model compiled by torch.compile, the model and data in the usual layout: inductor
        lays its convolutions out channels last itself, while a model already so trips its checks of strides
        (torch 2.11, bf16). Validation runs on the model compiled too. Should compiling the step fail, the plain
        model and the layout train.py's memory_format() chose come back, for validation too."""
        self._lay_out(torch.contiguous_format)
        size = self.settings.batch_size
        self.compiled = CompiledStep(self._step_on, self.model, size, self._say, self._uncompiled)
        self.evaluation.use_compiled(self.compiled.compiled, self._say)

    def _uncompiled(self) -> None:  # compiling the step failed
        self._lay_out(self.layout)
        self.evaluation.use_compiled(None)

    def _lay_out(self, layout: torch.memory_format) -> None:
        """The model's weights, the data in memory and the CUDA graph's batch buffers in `layout`."""
        self._laid_out = layout
        self.model.to(memory_format=layout)
        if not self.streamed:
            self.train_x = self.train_x.contiguous(memory_format=layout)
            self.val_x = self.val_x.contiguous(memory_format=layout)
        if getattr(self, "graphed", None) is not None:
            self.graphed.memory_format = layout
        if getattr(self, "evaluation", None) is not None:  # its graphs read the weights as they were
            self.evaluation.lay_out(layout)

    def _report(self, pace: Pace) -> str:
        """Send the losses of the steps since the last report (one read from the device); a failure message
        if one of them is not a finite number. The gradient statistics sampled since go first, so a run that
        fails has shown how its gradients grew."""
        gradients = self.gradient_stats.collect()
        if gradients is not None:
            pace.emit(gradients)
        done = -(-self.position // self.settings.batch_size)
        new = pace.losses[pace.reported : done].tolist() if done > pace.reported else []
        for offset, value in enumerate(new):
            if not math.isfinite(value):
                step = self.epoch * self.steps_per_epoch + pace.reported + offset + 1
                return f"the loss became {value} at step {step} (epoch {self.epoch + 1}): {NOT_A_NUMBER_ADVICE}"
        pace.emit(self._progress(pace, done, new))
        pace.reported = done
        pace.last_report = time.perf_counter()
        return ""

    def _progress(self, pace: Pace, done: int, losses: list[float], note: str = "") -> Progress:
        """Where the run stands after `done` steps of this epoch, with the losses of the steps since the last report."""
        elapsed = max(1e-9, time.perf_counter() - pace.started - pace.paused_for)
        rate = pace.steps * self.settings.batch_size / elapsed
        remaining = (self.epochs - self.epoch) * self.steps_per_epoch - done
        seconds_left = max(0.0, remaining * elapsed / max(1, pace.steps))
        return Progress(
            self.epoch + 1,
            self.epochs,
            done,
            self.steps_per_epoch,
            self.global_step,
            losses,
            self.learning_rate,
            rate,
            seconds_left,
            note,
        )

    def _say(self, note: str) -> None:
        """A note for whoever follows the run (the compiled step's: compiling, and how long it took)."""
        if self._pace is not None:
            self._pace.emit(self._progress(self._pace, self._pace.reported, [], note))

    def _end_epoch(self, pace: Pace) -> None:
        """Validate, step a per-epoch schedule, remember the epoch, report it, then the callbacks."""
        n = self.train_size
        train_loss = self._epoch_loss.item() / n
        train_accuracy = self._epoch_correct.item() / n if self.classification else None
        val_loss, metrics, confusion = self.evaluate()
        if confusion is not None:
            self.confusion, self.report = confusion, self.program.script.classification_report(confusion)
        if self.scheduler is not None and self.schedule == "ReduceLROnPlateau":
            self.scheduler.step(val_loss if val_loss is not None else train_loss)
        elif self.scheduler is not None and self.schedule != "OneCycleLR":
            self.scheduler.step()
        self.epoch += 1
        self.position = 0
        self.order = None
        ended = EpochEnd(
            self.epoch,
            self.epochs,
            train_loss,
            train_accuracy,
            val_loss,
            metrics,
            self.learning_rate,
            time.perf_counter() - pace.epoch_started,
            confusion,
            self.report if confusion is not None else None,
        )
        record = epoch_entry(ended)  # as the run history keeps it
        self.history.append(record)
        pace.emit(ended)
        for callback in self.callbacks:
            callback.on_epoch_end(self, record)

    def evaluate(self) -> tuple[float | None, dict[str, float], list[list[int]] | None]:
        """Validation loss, metrics and confusion matrix by train.py's own evaluate() (or its evaluate_batch as
        CUDA graphs): accuracy, top-5 accuracy and matrix, or MAE, RMSE and R². (None, {}, None) without a part."""
        if self.val_size == 0:
            return None, {}, None
        if self.streamed:  # a mixed-precision train.py evaluates under the autocast it trains with (self._mixed[:1])
            part = (self.val_part, self.evaluation_batch, str(self.device), self.workers, *self._mixed[:1])
            metrics = self.program.script.evaluate(self.model, self.criterion, *part)
        else:  # as CUDA graphs where it can be (graphed_evaluation.py)
            metrics = self.evaluation.evaluate(self.val_x, self.val_y)
        loss = metrics.pop("loss")
        return loss, metrics, metrics.pop("confusion", None)

    @property
    def learning_rate(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def _finish(self, emit: Listener, status: str, message: str) -> Outcome:
        for callback in self.callbacks:
            callback.on_run_end(self, status)
        outcome = Outcome(
            status,
            message,
            self.epoch,
            self.global_step,
            dict(self.history[-1]) if self.history else {},
            self.confusion,
            self.class_names,
            self.report,
        )
        emit(outcome)
        return outcome

    def _explain(self, err: Exception) -> str:
        return explain_failure(err, self.program, self.project.graph, self._layer_labels())

    def _layer_labels(self) -> dict[str, str]:
        """The model's attributes and the labels of the nodes they hold."""
        return {attr: self.project.graph.nodes[node].label for node, attr in self.program.model_code.attributes.items()}

    # ---- checkpoints -----------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to go on exactly where the run stands: tensors, numbers and strings only, so
        torch.load(..., weights_only=True) reads it back."""
        return {
            "format": CHECKPOINT_FORMAT,
            "model": self.model.state_dict(),
            "optimizer": self._optimizer_state(),
            "scheduler": self.scheduler.state_dict() if self.scheduler else {},
            "scaler": self._scaler.state_dict() if self._scaler else {},
            "rng": {
                "torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
                "shuffle": self.orders.state(),
                "augmentation": self.augmentation.get_state(),
            },
            "epoch": self.epoch,
            "position": self.position,
            "order": self.order.cpu() if self.order is not None else torch.empty(0, dtype=torch.long),
            "epoch_seed": self.epoch_seed,
            "global_step": self.global_step,
            "epoch_loss": self._epoch_loss.cpu(),
            "epoch_correct": self._epoch_correct.cpu(),
            "history": self.history,
            "confusion": torch.tensor(self.confusion or [], dtype=torch.long),
            **{key: value for callback in self.callbacks for key, value in callback.state_dict().items()},
        }

    def _optimizer_state(self) -> dict[str, Any]:
        """The optimizer's state as a run without CUDA graphs would save it (so the CPU can go on from it)."""
        state = self.optimizer.state_dict()
        if self.graphed is not None:
            for group in state["param_groups"]:
                if "capturable" in group:
                    group["capturable"] = False
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Go on from `state` (a checkpoint's contents, as state_dict gives them and read_checkpoint checks)."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.graphed is not None:  # the state tensors are new: capture again, with them
            make_capturable(self.optimizer)
            self.graphed = self._graphed_step()
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        if self._scaler is not None and state["scaler"]:
            self._scaler.load_state_dict(state["scaler"])
        rng = state["rng"]  # generator states are CPU byte tensors, wherever map_location put them
        torch.set_rng_state(rng["torch"].cpu())
        if torch.cuda.is_available() and rng["cuda"]:
            torch.cuda.set_rng_state_all([generator_state.cpu() for generator_state in rng["cuda"]])
        self.orders.load_state(rng["shuffle"])
        # checkpoints from before augmentation have no such state (and needed none); one saved on another kind
        # of device holds another generator's state: augmentation goes on from this run's seed instead (runs
        # on different devices never draw the same numbers anyway)
        saved = rng.get("augmentation")
        if saved is not None and saved.numel() == self.augmentation.get_state().numel():
            self.augmentation.set_state(saved.cpu())
        order = state["order"]
        if state["position"] > self.train_size or order.numel() not in (0, self.train_size):
            raise ValueError(f"where the run stood does not fit the {self.train_size} training samples here")
        self.epoch = int(state["epoch"])
        self.position = int(state["position"])
        self.order = order.to(self.orders.device) if order.numel() else None
        self.epoch_seed = int(state.get("epoch_seed", 0))
        self.global_step = int(state["global_step"])
        for callback in self.callbacks:
            callback.load_state_dict(state)
        self._epoch_loss.copy_(state["epoch_loss"])  # in place: a captured step adds to these very tensors
        self._epoch_correct.copy_(state["epoch_correct"])
        self.history = list(state["history"])
        confusion = state.get("confusion")  # checkpoints from before it kept none
        self.confusion = confusion.tolist() if confusion is not None and confusion.numel() else None
        self.report = self.program.script.classification_report(self.confusion) if self.confusion else None

    def save_checkpoint(self, path: Path) -> Path:
        """Where the run stands, written atomically (WriteError, one line, when it cannot be)."""
        return save_file(self.state_dict(), path)

    def load_checkpoint(self, path: Path, *, name: str | None = None) -> None:
        """Go on from a checkpoint, read with weights_only (nothing in it is executed) and checked against this
        run's network first; CheckpointError (one line, naming the file as `name`) when it does not fit."""
        self.load_state_dict(read_checkpoint(path, self.program, name=name, map_location=self.device))

    def run_start(self, *, resumed: bool = False) -> RunStart:
        """What a run reports before its first step (run_start.py), going on from a checkpoint if `resumed`."""
        return run_start(self, resumed=resumed)

    def save_weights(self, path: Path) -> Path:
        """The trained weights alone (a state_dict, loadable with weights_only=True), written atomically; for
        a text dataset its vocabulary beside them, as train.py writes it (vocab.json)."""
        if self.vocabulary is not None:
            self.program.script.save_vocabulary(str(path.with_name(VOCABULARY_FILE)), self.vocabulary)
        return save_file(self.model.state_dict(), path)


def with_settings(project: Project, **changes: Any) -> Project:
    """The project with some training settings changed (epochs, batch_size, seed, device ...)."""
    return replace(project, training=replace(project.training, **changes))

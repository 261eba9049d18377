"""A trained run's network measured on a part of its data: `netbuilder evaluate`'s figures.

The figures come from the generated train.py's own `evaluate()` (the loss; accuracy, top-5 accuracy and the
confusion matrix, or MAE, RMSE and R²), run on the run's weights, so evaluating the validation part gives the
figures the run itself reported. The per-class figures are train.py's `classification_report` of that matrix.
In the same pass, forward hooks on the network and on its loss keep each batch's output and target: the class
probabilities (by the engine's rule, class_scores.py) that rank the samples for the ROC and precision-recall
curves, or the values a regression scatter plots; they also count the samples done, for a progress bar.

A split is the run's validation part or its training part (the project's split and seed), or another folder or
file of the same kind of data: the Dataset node's loader is run with that path for its own (the very code that
train.py holds, data/loading.py), scaled with the statistics of the run's training part as predict.py scales its
inputs, its classes matched to the network's by name, and every sample evaluated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy
import torch
from torch.utils.data import Dataset

from netbuilder.analysis import analyze
from netbuilder.blocks.dataset_files import csv_summary
from netbuilder.blocks.datasets import CLASSIFICATION
from netbuilder.data.loading import DataLoadError, load_dataset
from netbuilder.project import Project
from netbuilder.training.class_scores import class_probabilities
from netbuilder.training.curves import ClassCurves, one_vs_rest
from netbuilder.training.data_cache import program_data
from netbuilder.training.predict import (
    CLASSIFICATION_KIND,
    REGRESSION_KIND,
    PredictError,
    load_weights_into,
    read_weights,
)
from netbuilder.training.program import Program, ProgramError, load_program

VALIDATION, TRAINING = "val", "train"
AGREEMENT_TOLERANCE = 0.01  # a regression's values agree within this share of the spread of the reference's

Progress = Callable[[int, int], None]  # (samples done, samples in all), after each batch


class EvaluationError(Exception):
    """The run cannot be evaluated on this split; the message says why and what to do."""


class SplitError(EvaluationError):
    """The split asked for is not one this project's data can give (a folder for a generated set, a folder of
    other classes or columns, one that cannot be read)."""


@dataclass(frozen=True)
class Evaluation:
    """What the network did on one split. `metrics` holds train.py's evaluate() figures besides the loss
    (accuracy and top5_accuracy, or mae, rmse and r2); a classifier also has its `confusion` matrix (rows:
    the true class, columns: the predicted one), its per-class `report` (classification_report's) and each
    sample's class `probabilities` with its `true` class; a regression has `predicted` and `true` values
    (n, outputs)."""

    kind: str
    split: str  # VALIDATION, TRAINING, or the folder or file evaluated
    samples: int
    loss: float
    metrics: dict[str, float]
    class_names: tuple[str, ...] = ()
    confusion: list[list[int]] | None = None
    report: dict[str, Any] | None = None
    probabilities: numpy.ndarray | None = None
    predicted: numpy.ndarray | None = None
    true: numpy.ndarray | None = None

    @property
    def classification(self) -> bool:
        return self.kind == CLASSIFICATION_KIND

    @cached_property
    def class_curves(self) -> tuple[ClassCurves, ...]:
        """Each class against the rest (ROC and precision-recall curves with their areas), in class order;
        worked out once, when first asked for."""
        if not self.classification:
            return ()
        return tuple(one_vs_rest(self.probabilities, self.true, c) for c in range(len(self.class_names)))


def evaluate_run(
    project: Project,
    weights: Path,
    split: str = VALIDATION,
    *,
    device: str = "cpu",
    workers: int = 0,
    progress: Progress | None = None,
) -> Evaluation:
    """The network of `project` with the weights at `weights`, evaluated on `split` (VALIDATION, TRAINING, or
    a path to data of the Dataset node's kind) by train.py's own evaluate(). EvaluationError says what is
    wrong (SplitError when it is the split)."""
    check_split(project, split)
    try:
        program = load_program(project)
    except ProgramError as err:
        raise EvaluationError(str(err)) from None
    try:
        model = program.new_model()
        load_weights_into(model, read_weights(weights))
    except PredictError as err:
        raise EvaluationError(str(err)) from None
    return evaluate_model(project, program, model, split, device=device, workers=workers, progress=progress)


def evaluate_model(
    project: Project,
    program: Program,
    model: torch.nn.Module,
    split: str = VALIDATION,
    *,
    device: str = "cpu",
    workers: int = 0,
    progress: Progress | None = None,
    data: tuple | None = None,
) -> Evaluation:
    """`model` (the network of `program`, or anything that computes as it does: a compressed copy, a file run in
    its consumer and wrapped as a module) evaluated on `split` by train.py's own evaluate(), as evaluate_run
    evaluates a run's weights. `data`: the split's samples as split_data gives them, when the caller evaluates
    several networks on them (read once, not once a network)."""
    check_split(project, split)
    script, settings = program.script, project.training
    # what is wrong with a file, as the loaders say it: the split's fault when it is another path
    unreadable = EvaluationError if split in (VALIDATION, TRAINING) else SplitError
    try:
        data = split_data(project, program, split) if data is None else data
    except (SystemExit, DataLoadError, ValueError, OSError) as err:
        raise unreadable(str(err)) from None
    total = len(data[0])
    if total == 0:
        raise EvaluationError(f"the {_split_words(split)} holds no samples: {_no_samples_advice(split)}")
    if device != "cpu":  # the networks evaluated here are built on the CPU (a quantized one cannot move)
        model = model.to(torch.device(device))
    criterion = script.make_criterion()
    kept = _Kept(total, progress)
    hooks = [model.register_forward_hook(kept.output), criterion.register_forward_hook(kept.target)]
    batch_size = script.evaluation_batch(settings.batch_size)  # as train.py validates
    try:
        if program.task.dataset.streamed:
            figures = script.evaluate(model, criterion, data[0], batch_size, device, workers)
        else:
            x, y = (tensor.to(device) for tensor in data)
            figures = script.evaluate(model, criterion, x, y, batch_size)
    except ValueError as err:  # an image that cannot be read, named by the loader
        raise unreadable(_loader_words(err)) from None
    finally:
        for hook in hooks:
            hook.remove()
    loss = figures.pop("loss")
    outputs, targets = torch.cat(kept.outputs), torch.cat(kept.targets)
    if not program.task.classification:
        return Evaluation(
            REGRESSION_KIND,
            split,
            total,
            loss,
            figures,
            predicted=outputs.reshape(total, -1).numpy(),
            true=targets.reshape(total, -1).numpy(),
        )
    confusion = figures.pop("confusion")
    probabilities, _ = class_probabilities(outputs, criterion)
    return Evaluation(
        CLASSIFICATION_KIND,
        split,
        total,
        loss,
        figures,
        class_names=tuple(program.task.class_names),
        confusion=confusion,
        report=script.classification_report(confusion),
        probabilities=probabilities.numpy(),
        true=targets.long().reshape(-1).numpy(),
    )


def agreement(reference: Evaluation, other: Evaluation) -> float:
    """The share of samples on which `other` predicts what `reference` does (a compressed network against the float
    one, an exported file against torch): the same class, or every value within AGREEMENT_TOLERANCE of the spread
    of the reference's values."""
    if reference.classification:
        return float(numpy.mean(reference.probabilities.argmax(1) == other.probabilities.argmax(1)))
    want, got = reference.predicted, other.predicted
    allowed = AGREEMENT_TOLERANCE * max(float(want.std()), 1e-6)
    return float(numpy.mean(numpy.all(numpy.abs(got - want) <= allowed, axis=1)))


class _Kept:
    """Each batch's output (by a hook on the network) and target (by a hook on the loss, which evaluate() calls
    once a batch with what it compares the output with), on the CPU, and the samples done so far."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total, self.progress, self.done = total, progress, 0
        self.outputs: list[torch.Tensor] = []
        self.targets: list[torch.Tensor] = []

    def output(self, _module: torch.nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        self.outputs.append(output.detach().float().cpu())

    def target(self, _module: torch.nn.Module, inputs: tuple, _loss: torch.Tensor) -> None:
        batch = len(self.outputs[-1])
        self.targets.append(inputs[1].detach().float().cpu().reshape(batch, -1))
        self.done += batch
        if self.progress is not None:
            self.progress(self.done, self.total)


def split_data(project: Project, program: Program, split: str) -> tuple:
    """(x, y) tensors, or (part,) for a streamed set: the samples of `split` as evaluate() takes them."""
    script, settings = program.script, project.training
    streamed = program.task.dataset.streamed
    if split in (VALIDATION, TRAINING):
        prepared = program_data(program, settings.val_fraction, settings.seed)
        if not streamed:
            return prepared[2:] if split == VALIDATION else prepared[:2]
        train_part, val_part = prepared
        if split == VALIDATION:
            return (val_part,)
        # the training images as validation reads them: normalised, never cropped or flipped
        return (script.Part(train_part.dataset, train_part.indices, val_part.transform),)
    columns = _column_order(program, Path(split))
    params = {**program.task.dataset_params, "path": str(Path(split).resolve())}
    data = load_dataset(params, settings.seed)  # the loader's code that train.py holds, reading another path
    # an image folder's loader names its classes itself, even one alone (a test folder of one class), which
    # the catalogue refuses to train on; the other sets' names are the catalogue's (a table's from its file)
    names = data.classes if hasattr(data, "classes") else program.task.dataset.names_of_classes(params)
    mapping = _class_mapping(program, tuple(names), split)
    if streamed:
        _, val_part = script.prepare_data(settings.val_fraction, settings.seed)  # the run's normalisation
        dataset = _Relabelled(data, mapping)
        return (script.Part(dataset, list(range(len(dataset))), val_part.transform),)
    x, y = data
    if columns is not None:
        x = x[:, columns]
    predict = program.predict_module()
    if hasattr(predict, "scale"):  # standardised tables, normalised images: the run's training statistics
        x = predict.scale(x, program.config["split"])
    if mapping is not None:
        y = torch.as_tensor(mapping)[y]
    return x, y


def check_split(project: Project, split: str) -> None:
    """SplitError when `split` is not one the project's data can give: a path for a set that is not read
    from files (a generated or scikit-learn set), or a path where there is nothing."""
    if split in (VALIDATION, TRAINING):
        return
    task = analyze(project.graph).training_task
    if task is not None and "path" not in task.dataset.uses:
        raise SplitError(
            f"{task.dataset.title} comes with netbuilder, not from files of yours, so it has no other folder: "
            "evaluate with --split val or --split train"
        )
    if not Path(split).exists():
        raise SplitError(f"there is no file or folder at {split}: give --split val, train, or a path")


def _class_mapping(program: Program, found: tuple[str, ...], split: str) -> list[int] | None:
    """For each class of the other data (`found`, in its own order), the network's index of the class of that
    name; None when they are the same classes in the same order. SplitError for a class the network does not
    know."""
    if not program.task.classification:
        return None
    known, found = list(program.task.class_names), list(found)
    if found == known:
        return None
    strangers = [name for name in found if name not in known]
    if strangers:
        raise SplitError(
            f"{split} has class {strangers[0]!r}, which the network was not trained on (its classes: "
            f"{', '.join(known)})"
        )
    return [known.index(name) for name in found]


def _column_order(program: Program, path: Path) -> list[int] | None:
    """For a table, where each of the network's feature columns is in the table at `path` (None for other
    data); SplitError when the table lacks one or has one more."""
    wanted = program.config["dataset"]["feature_columns"]
    if not wanted:
        return None
    params = program.task.dataset_params
    found = csv_summary(str(path), params["target_column"], program.task.kind == CLASSIFICATION).features
    missing = [name for name in wanted if name not in found]
    extra = [name for name in found if name not in wanted]
    if missing or extra:
        what = f"has no column {missing[0]!r}" if missing else f"has a column {extra[0]!r} the network does not read"
        raise SplitError(f"{path} {what}: give a table with the columns {', '.join(wanted)}")
    return [found.index(name) for name in wanted]


class _Relabelled(Dataset):
    """A dataset whose class indices are put into the network's order (another folder may lack a class)."""

    def __init__(self, dataset: Dataset, mapping: list[int] | None) -> None:
        self.dataset, self.mapping = dataset, mapping

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        x, y = self.dataset[index]
        return x, (y if self.mapping is None else self.mapping[y])


def _loader_words(err: ValueError) -> str:
    """A loader's refusal in its own one line, also when a DataLoader worker raised it (torch re-raises it with
    the worker's whole traceback as its text, the refusal on the last line)."""
    text = str(err).strip()
    if text.startswith("Caught ") and "\nOriginal Traceback" in text:
        return text.splitlines()[-1].partition(": ")[2]
    return text


def _split_words(split: str) -> str:
    return {VALIDATION: "validation part", TRAINING: "training part"}.get(split, str(split))


def _no_samples_advice(split: str) -> str:
    if split == VALIDATION:
        return "set Validation above 0% and train again, or evaluate with --split train"
    if split == TRAINING:
        return "lower Validation below 100%"
    return "give a folder or file that holds samples"

"""What a trained network says about validation samples: class probabilities, the predicted and the true
class (or values, for regression), and each sample in a form a person can look at.

`Predictor.load` rebuilds the run's validation part with the generated train.py's own `prepare_data` (so the
samples are the very ones the run validated on), loads the run's weights with `weights_only=True` (nothing in
the file is executed) and answers in plain numpy, so the window that shows it needs no torch.
Classes are predicted by the rule of train.py's `predicted_classes` (by which `evaluate` counts the matrix): the
arg-max of several scores, or one score over a threshold (0.5 for BCE's probabilities, 0 for logits).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy
import torch
from torch import nn
from torch.nn import functional

from netbuilder.codegen.training_loop import VOCABULARY_FILE
from netbuilder.data.loading import DataLoadError, read_samples
from netbuilder.project import Project
from netbuilder.runtime.weights import WeightsFileError, read_state_dict
from netbuilder.training.class_scores import class_probabilities
from netbuilder.training.data_cache import program_data
from netbuilder.training.program import ProgramError, load_program

CLASSIFICATION_KIND = "classification"
REGRESSION_KIND = "regression"
MAX_STREAMED_SAMPLES = 1000  # of a streamed validation part (an image folder): read from disk to be shown
RANGE_SAMPLES = 32  # the images of a streamed part whose values set the black and white of all
MAX_IMAGE_SIDE = 64  # larger images are shown shrunk to this: enough to recognise, small to keep in memory
STALE = "the network changed since this run; train again"
PADDING_INDEX = 0  # train.py's encode pads with <pad> (0) on the right and writes <unk> (1) for other tokens
UNKNOWN_TOKEN = "<unk>"


class PredictError(Exception):
    """The run's predictions cannot be shown; the message says why and what to do."""


@dataclass(frozen=True)
class Predictions:
    """What the network says about some validation samples; row i is about validation sample `indices[i]`.

    Classification: `probabilities` (n, classes) sum to 1 per row; `predicted` and `true` are class indices.
    Regression: `predicted` and `true` are (n, k) values. Each sample is shown as `images` (n, H, W, C) uint8
    with C 1 (grey) or 3 (RGB), or as `values`: (n, features) for a table, (n, length, features) for a
    sequence. When the network learns to give back its input image, `output_images` holds what it gave.
    Token indices (a text dataset) are also given as `tokens`: each sample's tokens by the run's vocabulary
    (vocab.json beside its weights), padding left out, a token outside the vocabulary as `UNKNOWN_TOKEN`, in
    the order of the sample's first positions (attribution i is token i's); for byte pairs, `word_starts` says
    which tokens begin a word (the others are pieces that continue the word before them)."""

    indices: numpy.ndarray
    kind: str
    class_names: tuple[str, ...]
    predicted: numpy.ndarray
    true: numpy.ndarray
    probabilities: numpy.ndarray | None = None
    images: numpy.ndarray | None = None
    values: numpy.ndarray | None = None
    output_images: numpy.ndarray | None = None
    tokens: tuple[tuple[str, ...], ...] | None = None
    word_starts: tuple[tuple[bool, ...], ...] | None = None
    part_size: int = 0  # samples in the whole validation part (a streamed part offers only its first ones)

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def correct(self) -> numpy.ndarray | None:
        """(n,) bool: which classes were predicted right (None for regression)."""
        return self.predicted == self.true if self.kind == CLASSIFICATION_KIND else None


class ValidationPart:
    """The run's validation samples as train.py's prepare_data gives them: tensors in memory, or for a
    streamed set (an image folder) a Dataset whose samples are read from disk when asked for."""

    def __init__(self, prepared: tuple) -> None:
        if len(prepared) == 4:  # train_x, train_y, val_x, val_y
            self.tensors: tuple[torch.Tensor, torch.Tensor] | None = (prepared[2], prepared[3])
            self.dataset = None
        else:  # the training and validation parts, as Datasets
            self.tensors = None
            self.dataset = prepared[1]

    def __len__(self) -> int:
        return len(self.tensors[0]) if self.tensors is not None else len(self.dataset)

    def take(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """(x, y) of these samples, on the CPU; DataLoadError names a sample that cannot be read."""
        if self.tensors is None:
            return read_samples(self.dataset, indices)
        x, y = self.tensors
        index = torch.as_tensor(list(indices), dtype=torch.long)
        return x[index], y[index]


class Predictor:
    """A run's trained network and the validation part it was checked on. Build it with `load`."""

    def __init__(
        self,
        model: nn.Module,
        validation: ValidationPart,
        *,
        kind: str,
        class_names: tuple[str, ...],
        criterion: torch.nn.Module,
        target_is_input: bool,
        batch_size: int,
        attributes: dict[str, str] | None = None,
        vocabulary: list[str] | None = None,
        word_starts: list[tuple[bool, ...]] | None = None,
    ) -> None:
        self.model = model.eval()
        self.validation = validation
        self.kind = kind
        self.class_names = class_names
        self.criterion = criterion  # what a single output score means (a probability for BCE, else a logit)
        self.target_is_input = target_is_input
        self.batch_size = batch_size
        self.attributes = attributes or {}  # the model's attribute per node id (which layer Grad-CAM looks at)
        self.vocabulary = vocabulary  # a text run's tokens by index, which decode its samples (else None)
        self.word_starts = word_starts  # per validation sample, byte pairs only: which tokens begin a word
        self.device = next(model.parameters(), torch.empty(0)).device
        streamed = validation.dataset is not None
        # a streamed part is read from disk: only its first samples are offered, so that looking is quick
        self.count = min(len(validation), MAX_STREAMED_SAMPLES) if streamed else len(validation)
        x = validation.take(range(min(self.count, RANGE_SAMPLES)))[0] if streamed else validation.tensors[0]
        self.image_range = _display_range(x) if x.dim() == 4 else None

    @classmethod
    def load(cls, project: Project, weights_path: Path, *, device: str = "cpu") -> Predictor:
        """The network of `project` with the weights at `weights_path`, and the validation part that its
        training settings (split and seed) give. PredictError says what is wrong: the graph cannot train,
        the data cannot be read, there is no validation part, or the weights are not this network's."""
        try:
            program = load_program(project)
        except ProgramError as err:
            raise PredictError(str(err)) from None
        settings = project.training
        try:
            validation = ValidationPart(program_data(program, settings.val_fraction, settings.seed))
        except (SystemExit, DataLoadError) as err:  # the loaders' own words for missing or damaged files
            raise PredictError(str(err)) from None
        if len(validation) == 0:
            raise PredictError("this run held out no validation samples: set Validation above 0% and train again")
        model = program.new_model()
        load_weights_into(model, read_weights(weights_path))
        criterion = program.script.make_criterion()
        task = program.task
        try:
            return cls(
                model.to(torch.device(device)),
                validation,
                kind=CLASSIFICATION_KIND if task.classification else REGRESSION_KIND,
                class_names=task.class_names,
                criterion=criterion,
                target_is_input=task.target_is_input,
                batch_size=settings.batch_size,
                attributes=program.model_code.attributes,
                vocabulary=read_vocabulary(weights_path) if task.dataset.tokens else None,
                word_starts=_word_starts(program.script, settings, weights_path) if _byte_pairs(task) else None,
            )
        except DataLoadError as err:
            raise PredictError(str(err)) from None

    def __len__(self) -> int:
        """How many validation samples can be looked at (all, or the first of a streamed part)."""
        return self.count

    @torch.no_grad()
    def predict(self, indices: Sequence[int]) -> Predictions:
        """The network's answers for these validation samples (positions in the validation part), read and
        predicted a batch at a time, so a streamed part is never in memory at full size."""
        indices = [int(i) for i in indices]
        if not indices:
            raise ValueError("pick at least one validation sample")
        if any(not 0 <= i < len(self) for i in indices):
            raise IndexError(f"validation samples are numbered 0 to {len(self) - 1}")
        batches = []
        for start in range(0, len(indices), self.batch_size):
            try:
                x, y = self.validation.take(indices[start : start + self.batch_size])
            except DataLoadError as err:
                raise PredictError(str(err)) from None
            output = self.model(x.to(self.device)).float().cpu()
            batches.append(self._answers(x, y, output))
        return Predictions(
            numpy.asarray(indices, dtype=numpy.int64),
            self.kind,
            self.class_names,
            part_size=len(self.validation),
            **{name: _joined([batch[name] for batch in batches]) for name in batches[0] if name != "tokens"},
            tokens=None if self.vocabulary is None else tuple(t for batch in batches for t in batch["tokens"]),
            word_starts=None if self.word_starts is None else tuple(self.word_starts[i] for i in indices),
        )

    def _answers(self, x: torch.Tensor, y: torch.Tensor, output: torch.Tensor) -> dict[str, numpy.ndarray | None]:
        """One batch's fields of Predictions."""
        n = len(x)
        shown = (
            {"images": self.pictures(x), "values": None}
            if self.image_range is not None
            else {"images": None, "values": x.float().numpy()}
        )
        if self.vocabulary is not None:
            shown["tokens"] = self.decoded(x)
        if self.kind == CLASSIFICATION_KIND:
            probabilities, predicted = class_probabilities(output, self.criterion)
            return {
                "predicted": predicted.numpy(),
                "true": y.long().reshape(-1).numpy(),
                "probabilities": probabilities.numpy(),
                "output_images": None,
                **shown,
            }
        target = x if self.target_is_input else y
        reconstructs = self.image_range is not None and self.target_is_input and output[0].numel() == x[0].numel()
        return {
            "predicted": output.reshape(n, -1).numpy(),
            "true": target.float().reshape(n, -1).numpy(),
            "probabilities": None,
            "output_images": self.pictures(output.reshape(x.shape)) if reconstructs else None,
            **shown,
        }

    def decoded(self, x: torch.Tensor) -> list[tuple[str, ...]]:
        """(n, length) token indices as each sample's tokens, the padding at its end left out; an index the
        vocabulary lacks (weights and vocab.json of different runs) is written as its number."""
        vocabulary = self.vocabulary
        texts = []
        for row in x.tolist():
            while row and row[-1] == PADDING_INDEX:
                row.pop()
            texts.append(tuple(vocabulary[i] if 0 <= i < len(vocabulary) else f"#{i}" for i in row))
        return texts

    def pictures(self, x: torch.Tensor) -> numpy.ndarray:
        """(n, C, H, W) model inputs as (n, H, W, C) uint8 pictures: the set's value range mapped to 0..255,
        shrunk past MAX_IMAGE_SIDE; three channels as colour, any other count as grey (their mean)."""
        low, high = self.image_range
        x = x.float()
        if x.shape[1] != 3:
            x = x.mean(dim=1, keepdim=True)
            low, high = low.mean(dim=1, keepdim=True), high.mean(dim=1, keepdim=True)
        scaled = ((x - low) / (high - low).clamp_min(1e-8)).clamp(0.0, 1.0)
        side = max(scaled.shape[2:])
        if side > MAX_IMAGE_SIDE and len(scaled):
            size = [max(1, round(d * MAX_IMAGE_SIDE / side)) for d in scaled.shape[2:]]
            scaled = functional.interpolate(scaled, size=size, mode="area")
        return (scaled * 255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()


def _joined(parts: list[numpy.ndarray | None]) -> numpy.ndarray | None:
    return None if parts[0] is None else numpy.concatenate(parts)


def device_for(setting: str) -> str:
    """Where to predict for a run with this device setting: its GPU when there is one, else the CPU (a run
    trained on a GPU can be looked at on a machine without one)."""
    return "cuda" if setting != "cpu" and torch.cuda.is_available() else "cpu"


def read_weights(path: Path) -> dict[str, torch.Tensor]:
    """A saved state_dict, read with weights_only=True; PredictError when it is missing or is not one."""
    if not path.is_file():
        raise PredictError(f"the weights of this run are gone ({path.name} is not in {path.parent}); train again")
    try:
        return read_state_dict(path, path.name)
    except WeightsFileError as err:
        raise PredictError(str(err)) from None


def read_vocabulary(weights_path: Path) -> list[str]:
    """A text run's tokens by index, from the vocab.json that train.py and the engine write beside its
    weights; PredictError when it is missing or damaged (the indices mean nothing without it)."""
    path = weights_path.with_name(VOCABULARY_FILE)
    try:
        tokens = json.loads(path.read_text(encoding="utf-8"))["tokens"]
    except FileNotFoundError:
        raise PredictError(
            f"this run's vocabulary ({VOCABULARY_FILE}) is not beside its weights; train again"
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise PredictError(f"{path} cannot be read as a vocabulary ({err}); train again") from None
    if not isinstance(tokens, list) or not all(isinstance(token, str) for token in tokens):
        raise PredictError(f"{path} holds no list of tokens; train again")
    return tokens


def _byte_pairs(task) -> bool:
    return task.dataset.tokens and task.dataset_params.get("tokenizer") == "bpe"


def _word_starts(script, settings, weights_path: Path) -> list[tuple[bool, ...]]:
    """For a run on byte pairs: whether each token of each validation text begins a word, so that the pieces
    of a word are shown together. The validation texts' words and their pieces come from train.py's own
    load_data, parts and word_pieces, with the run's tokenizer from its vocab.json (read_vocabulary)."""
    texts = script.load_data(settings.seed)
    _, val_index = texts.parts(settings.val_fraction, settings.seed)
    tokenizer = script.read_vocabulary(str(weights_path.with_name(VOCABULARY_FILE)))
    _, _, sizes = script.word_pieces(texts.words, tokenizer)  # pieces per distinct word
    starts = []
    for i in val_index.tolist():
        counts = sizes[texts.ids[texts.offsets[i] : texts.offsets[i + 1]].long()]
        first = torch.zeros(int(counts.sum()), dtype=torch.bool)
        first[counts.cumsum(0) - counts] = True
        starts.append(tuple(first[: script.MAX_LENGTH].tolist()))
    return starts


def load_weights_into(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """The weights into the network, or PredictError naming the first difference between the two."""
    own = model.state_dict()
    for name, tensor in own.items():
        if name not in state:
            raise PredictError(f"{STALE} ({name} is new)")
        if tensor.shape != state[name].shape:
            run, now = _shape(state[name]), _shape(tensor)
            raise PredictError(f"{STALE} ({name} was {run} in the run and is {now} now)")
    gone = [name for name in state if name not in own]
    if gone:
        raise PredictError(f"{STALE} ({gone[0]} is gone)")
    model.load_state_dict(state)


def _shape(tensor: torch.Tensor) -> str:
    return "×".join(str(d) for d in tensor.shape) or "a single number"


def _is_image(x: torch.Tensor) -> bool:
    return x.dim() == 4


def _display_range(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per channel (1, C, 1, 1) low and high values that map to black and white. Values already within
    [0, 1] are shown as they are; others (normalised images) span their channel's 0.5th to 99.5th
    percentile over the validation part, which undoes a per-channel normalisation."""
    x = x.float()
    channels = x.shape[1]
    if len(x) == 0 or (x.min() >= 0 and x.max() <= 1):
        return torch.zeros(1, channels, 1, 1), torch.ones(1, channels, 1, 1)
    per_channel = x.transpose(0, 1).reshape(channels, -1).cpu()
    stride = max(1, per_channel.shape[1] // 1_000_000)  # quantile has a size limit; a sample is plenty
    sample = per_channel[:, ::stride]
    low = torch.quantile(sample, 0.005, dim=1).view(1, channels, 1, 1)
    high = torch.quantile(sample, 0.995, dim=1).view(1, channels, 1, 1)
    return low, high

"""Graph -> train.py: a standalone training script that needs only torch (and scikit-learn or torchvision
where its dataset does).

The script is a set of small functions (load_data, split, prepare_data, augment, make_optimizer, make_scheduler,
train_step, evaluate, train) so that a person can read and change it, and so that the app's engine can run
these very functions: the data, split, optimizer, schedule and step of an exported run are those of the app's
run by construction. This module writes the data part, the loss, the optimizer and the schedule;
training_loop.py the step and everything after it.
Batches are taken by index from tensors that live on the training device, with one shuffle generator
seeded from --seed; a streamed dataset (an image folder) is read instead by `batches()`, a DataLoader with
worker processes over the same seeded permutation.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from netbuilder.analysis import Analysis
from netbuilder.analysis.structure import batch_statistics_in
from netbuilder.blocks import catalogue
from netbuilder.blocks.spec import BlockSpec, ForwardContext
from netbuilder.codegen.augment_code import Augmentation, crop_padding
from netbuilder.codegen.identifiers import safe_text
from netbuilder.codegen.line_wrap import docstring_opening
from netbuilder.codegen.model_code import CodegenError, ModelCode
from netbuilder.codegen.render import constructor, forward_lines, literal
from netbuilder.codegen.training_loop import VOCABULARY_FILE, LoopOptions, loop_functions
from netbuilder.graph import Graph

TORCH_REQUIREMENT = "torch>=2.1"
SAFETENSORS_REQUIREMENT = "safetensors>=0.4"
STARTING_WEIGHTS_FILE = "starting_weights.safetensors"
REQUIREMENT_VERSIONS = {
    "scikit-learn": "scikit-learn>=1.3",
    "torchvision": "torchvision>=0.16",
    "numpy": "numpy>=1.24",
    "scipy": "scipy>=1.10",
    "pillow": "pillow>=9",
    "tokenizers": "tokenizers>=0.15",
}


@dataclass(frozen=True)
class TrainingCode:
    """The script's source and the pip requirements it imports."""

    source: str
    requirements: tuple[str, ...]


def generate_training(
    graph: Graph,
    analysis: Analysis,
    model: ModelCode,
    *,
    settings: Mapping[str, Any],
    source: str = "",
    starting_weights: bool = False,
) -> TrainingCode:
    """train.py for a graph whose training problems are all fixed (else CodegenError says which).
    `settings` are the project's training settings by name (TrainingSettings.to_dict()): the defaults of
    train.py's options, one per setting. With `starting_weights`, train() loads STARTING_WEIGHTS (the
    package's starting_weights.safetensors) into the new model, as the app's Program.new_model does. A
    precision of bf16 or fp16 adds `--precision` and mixed_precision(): autocast (and for fp16 a gradient
    scaler) on CUDA, as the engine's step does; fp32 keeps the loop plain."""
    problems = [d.message for d in analysis.diagnostics if d.is_error]
    if problems:
        raise CodegenError("training code needs a graph without errors: " + "; ".join(problems[:3]))
    task = analysis.training_task
    if task is None:
        raise CodegenError("training needs a Dataset, a loss fed by the model and the Dataset, and an optimizer")
    dataset, dataset_params = task.dataset, task.dataset_params
    loss_spec = catalogue.get(task.loss)
    optimizer_spec = catalogue.get(task.optimizer)
    optimizer_params = analysis.resolved_params(task.optimizer_node)
    loss_edges = graph.inputs_of(task.loss_node)
    target_var = "batch_x" if task.target_is_input else "batch_y"
    if loss_edges["input"].src not in model.attributes:
        raise CodegenError("the loss must be fed by a layer of the model")
    loss_inputs = {port: analysis.edge_type(loss_edges[port]) for port in ("input", "target")}
    loss_ctx = ForwardContext(
        analysis.resolved_params(task.loss_node),
        "criterion",
        {"input": "output", "target": target_var},
        "loss",
        loss_inputs,
    )
    loss_lines = forward_lines(loss_spec, loss_ctx)
    loss_lines[-1] = "return " + loss_lines[-1].split(" = ", 1)[1]

    normalize = dataset.images and dataset_params["normalize"]
    image_shape = dataset.input_shape(dataset_params)
    streamed = dataset.streamed
    augmentation = Augmentation.of(dataset.images, dataset_params, image_shape, streamed)
    extra_imports = dataset.import_lines(dataset_params) + augmentation.imports
    if streamed:
        extra_imports += _streamed_imports(normalize=normalize, augment=augmentation.per_sample)
    if starting_weights:
        extra_imports += ("from pathlib import Path", "from safetensors.torch import load_file")
    imports = _import_block(extra_imports)
    imports += ["", f"from model import {model.class_name}"]

    origin = f" from {safe_text(source)}" if source else ""
    schedule = optimizer_params["schedule"]
    loader = dataset.loader_source(dataset_params).rstrip()
    starting = [
        "# The weights this project started from (netbuilder import --weights); layers not in it start",
        "# from the seed.",
        f'STARTING_WEIGHTS = Path(__file__).with_name("{STARTING_WEIGHTS_FILE}")',
        "",
    ]
    classes = _class_names_constant(task.class_names) if task.classification else []
    # isort's spacing: two blank lines before a definition, one before a statement (a loader's constants)
    definition_next = starting_weights or classes or loader.startswith(("def ", "class ", "@"))
    parts = [
        docstring_opening(f"Train {model.class_name} on {safe_text(dataset.title)}: generated by netbuilder{origin}.")
        + "\n\n"
        "Run `python train.py --help` for the options. Needs only the packages in requirements.txt.\n"
        '"""',
        "",
        *imports,
        "",
        *(starting if starting_weights else []),
        *classes,
        *([""] if definition_next else []),
        loader,
        "",
        "",
    ]
    if streamed:
        parts += _streamed_data_functions(image_shape, normalize=normalize, augment=augmentation.mode)
    elif dataset.tokens:
        saving = _SAVE_PIECES if dataset_params["tokenizer"] == "bpe" else _SAVE_VOCABULARY
        parts += [_PREPARE_TEXT, "", "", _PREPARE_TEXT_DATA, "", "", saving]
    else:
        parts.append(_SPLIT)
        if dataset.standardize:
            parts += ["", "", _STANDARDIZE]
        if normalize:
            parts += ["", "", _NORMALIZE_CHANNELS]
        parts += ["", "", _prepare_function(standardize=dataset.standardize, normalize=normalize)]
    for function in augmentation.functions():  # the batch's random changes (mix needs CLASS_NAMES, defined above)
        parts += ["", "", function]
    loop = LoopOptions(
        model.class_name,
        settings,
        schedule=schedule,
        classification=task.classification,
        target=target_var,
        augment=augmentation.batch_augment,
        streamed=streamed,
        mix=augmentation.mixes,
        epoch_seeds=augmentation.per_sample,
        starting_weights=starting_weights,
        class_count=task.class_count,
        text=dataset.tokens,
        batch_norm=batch_statistics_in(graph, analysis.model_nodes),  # where --sync-batchnorm has something to sync
        images=len(image_shape) == 3,  # batches (N, C, H, W)
    )
    functions = [
        "def make_criterion() -> nn.Module:\n"
        f"    return {constructor(loss_spec, analysis.resolved_params(task.loss_node))}",
        _optimizer_function(optimizer_spec, optimizer_params),
        *([_scheduler_function(schedule, optimizer_params)] if schedule != "none" else []),
        "def compute_loss(criterion: nn.Module, output: torch.Tensor, batch_x: torch.Tensor,\n"
        "                 batch_y: torch.Tensor) -> torch.Tensor:\n" + "\n".join(f"    {line}" for line in loss_lines),
        *(_class_functions(task.loss) if task.classification else []),  # values have no accuracy
        *loop_functions(loop),
        'if __name__ == "__main__":\n    main()',
    ]
    for function in functions:
        parts += ["", "", function]
    needed = dataset.requirements(dataset_params)
    if any(line.startswith("from torchvision") for line in extra_imports) and "torchvision" not in needed:
        needed += ("torchvision",)
    requirements = [TORCH_REQUIREMENT, *(REQUIREMENT_VERSIONS[r] for r in needed)]
    if starting_weights:
        requirements.append(SAFETENSORS_REQUIREMENT)
    return TrainingCode("\n".join(parts) + "\n", tuple(requirements))


def _import_block(extra: tuple[str, ...]) -> list[str]:
    """The script's imports in isort's order: standard library, then third party, then the model."""

    def module(line: str) -> str:
        return line.split()[1].split(".")[0]

    lines = {"import argparse", "import json", "import os", "import time", "import torch", "from torch import nn"}
    lines |= {"import gc", "import torch.distributed as dist"}  # under torchrun
    lines |= {"import contextlib", "import io", "import warnings"}  # log_graph's, as tensorboard_summaries.py has them
    names_from: dict[str, set[str]] = {}
    for line in extra:
        if line.startswith("from "):
            _, source, _, names = line.split(" ", 3)
            names_from.setdefault(source, set()).update(name.strip() for name in names.split(","))
        else:
            lines.add(line)
    lines |= {f"from {source} import {', '.join(sorted(names))}" for source, names in names_from.items()}
    standard = [line for line in lines if module(line) in sys.stdlib_module_names]
    third = [line for line in lines if line not in standard]

    def order(group: list[str]) -> list[str]:  # plain imports before from-imports, each alphabetical
        return sorted(line for line in group if line.startswith("import ")) + sorted(
            line for line in group if line.startswith("from ")
        )

    return [*order(standard), "", *order(third)]


def _class_names_constant(names: tuple[str, ...]) -> list[str]:
    """CLASS_NAMES = [...]: the dataset's classes in class-index order, packed a few to a line."""
    head = "# The dataset's classes in class-index order: the rows and columns of the confusion matrix."
    one_line = f"CLASS_NAMES = [{', '.join(literal(name) for name in names)}]"
    if len(one_line) <= 120:
        return [head, one_line, ""]
    lines, line = [], "   "
    for name in names:
        item = f" {literal(name)},"
        if len(line) + len(item) > 120 and line.strip():
            lines.append(line)
            line = "   "
        line += item
    return [head, "CLASS_NAMES = [", *lines, line, "]", ""]


def _class_functions(loss: str) -> list[str]:
    """predicted_classes (the class rule of training/class_scores.py: the highest score, or one score over
    BCE's 0.5 or a logit's 0) and count_correct, which evaluate() and the engine's training accuracy share."""
    if loss in ("CrossEntropy", "NLL"):
        rule, body = "the class with the highest score", "output.argmax(dim=1)"
    else:
        threshold = "0.5" if loss == "BCE" else "0.0"
        rule, body = f"class 1 where its one score is over {threshold}", f"(output > {threshold}).long().reshape(-1)"
    return [
        "def predicted_classes(output: torch.Tensor) -> torch.Tensor:\n"
        f'    """The predicted class of each sample: {rule}."""\n'
        f"    return {body}",
        "def count_correct(output: torch.Tensor, batch_y: torch.Tensor) -> torch.Tensor:\n"
        '    """How many predictions in the batch are right (a tensor, so no sync with the device)."""\n'
        "    return (predicted_classes(output).view_as(batch_y) == batch_y).sum()",
    ]


_SPLIT = '''\
def split(x: torch.Tensor, y: torch.Tensor, val_fraction: float, seed: int):
    """Shuffle with the seed, then hold out val_fraction of the samples for validation."""
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    n_val = int(len(x) * val_fraction)
    val, train = order[:n_val], order[n_val:]
    return x[train], y[train], x[val], y[val]'''

_STANDARDIZE = '''\
def standardize(train_x: torch.Tensor, val_x: torch.Tensor):
    """Scale each feature to mean 0 and standard deviation 1, with statistics of the training part only."""
    mean = train_x.mean(dim=0)
    std = train_x.std(dim=0).clamp_min(1e-8)
    return (train_x - mean) / std, (val_x - mean) / std'''


_NORMALIZE_CHANNELS = '''\
def normalize_channels(train_x: torch.Tensor, val_x: torch.Tensor):
    """Scale each colour channel to mean 0 and standard deviation 1, with statistics of the training part only."""
    mean = train_x.mean(dim=(0, 2, 3), keepdim=True)
    std = train_x.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-8)
    return (train_x - mean) / std, (val_x - mean) / std'''


# torch's optimizers with a fused CUDA kernel: one pass over every weight, its gradient and state, where the
# multi-tensor (foreach) one reads and writes them once for each operation of the update (SGD's momentum: three)
FUSED_ON_CUDA = frozenset({"SGD", "Adam", "AdamW"})


def _optimizer_function(spec: BlockSpec, params: dict) -> str:
    """make_optimizer(model), fused on a GPU where torch has the kernel (FUSED_ON_CUDA). With weight decay,
    only weights of two or more dimensions decay: biases and normalisation weights are offsets and scales,
    which decay would pull towards zero for nothing (as nanoGPT's configure_optimizers does)."""
    call = constructor(spec, params)
    fused = spec.type in FUSED_ON_CUDA
    if fused:
        call = f"{call[:-1]}, fused=fused)"
    head = "def make_optimizer(model: nn.Module) -> torch.optim.Optimizer:\n"
    docs = []
    if fused:
        docs.append("On a GPU one fused kernel updates every weight.")
    if params["weight_decay"]:
        docs.append("Weight decay on the weights of two or more dimensions only, not on biases and normalisation.")
    lines = [head.rstrip("\n")]
    if docs:
        lines.append('    """' + "\n    ".join(docs) + '"""')
    if fused:
        lines.append("    fused = next(model.parameters()).is_cuda")
    if params["weight_decay"]:
        lines += [
            "    decay = [p for p in model.parameters() if p.dim() >= 2]",
            "    no_decay = [p for p in model.parameters() if p.dim() < 2]",
            '    groups = [{"params": decay}, {"params": no_decay, "weight_decay": 0.0}]',
        ]
        call = call.replace("(model.parameters()", "(groups", 1)
    lines.append(f"    return {call}")
    return "\n".join(lines)


def _scheduler_function(schedule: str, p: dict) -> str:
    head = (
        "def make_scheduler(optimizer: torch.optim.Optimizer, epochs: int, steps_per_epoch: int):\n"
        '    """The learning-rate schedule."""\n'
    )
    lr_sched = "torch.optim.lr_scheduler"
    body = {
        "step": f"    return {lr_sched}.StepLR(optimizer, step_size={literal(p['step_size'])}, "
        f"gamma={literal(p['gamma'])})",
        "cosine": f"    return {lr_sched}.CosineAnnealingLR(optimizer, T_max=epochs)",
        "onecycle": f"    return {lr_sched}.OneCycleLR(optimizer, max_lr={literal(p['lr'])}, "
        "total_steps=epochs * steps_per_epoch)",
        "plateau": f"    return {lr_sched}.ReduceLROnPlateau(optimizer, factor={literal(p['gamma'])}, "
        f"patience={literal(p['patience'])})",
    }[schedule]
    return head + body


def _prepare_function(*, standardize: bool, normalize: bool) -> str:
    scale = "    train_x, val_x = standardize(train_x, val_x)\n" if standardize else ""
    if normalize:
        scale += "    train_x, val_x = normalize_channels(train_x, val_x)\n"
    return f'''\
def prepare_data(val_fraction: float, seed: int):
    """The training and validation parts, ready for the model (on the CPU)."""
    x, y = load_data(seed)
    train_x, train_y, val_x, val_y = split(x, y, val_fraction, seed)
{scale}    return train_x, train_y, val_x, val_y'''


# ---- texts: the vocabulary is made after the split, from the training part only --------------------------

_PREPARE_TEXT = '''\
def prepare_text(val_fraction: float, seed: int):
    """The training and validation parts as (N, MAX_LENGTH) token indices, and the vocabulary they index: the
    training part's most frequent tokens (a token that only validation texts hold is <unk>, as in a new text)."""
    texts = load_data(seed)
    train_index, val_index = texts.parts(val_fraction, seed)
    vocabulary = texts.vocabulary(train_index)
    x = texts.encode(vocabulary)
    return x[train_index], texts.labels[train_index], x[val_index], texts.labels[val_index], vocabulary'''

_PREPARE_TEXT_DATA = '''\
def prepare_data(val_fraction: float, seed: int):
    """The training and validation parts, ready for the model (on the CPU): token indices and labels."""
    train_x, train_y, val_x, val_y, _ = prepare_text(val_fraction, seed)
    return train_x, train_y, val_x, val_y'''

_SAVE_VOCABULARY = f'''\
def save_vocabulary(path: str, vocabulary: list[str]) -> None:
    """The vocabulary as {VOCABULARY_FILE}, plain JSON (the tokens by index, and how a text is split into them),
    written whole or not at all."""
    settings = {{"lowercase": LOWERCASE, "max_length": MAX_LENGTH, "pad": 0, "unk": 1, "tokens": vocabulary}}
    save_atomically(path, json.dumps(settings, ensure_ascii=False, indent=0).encode())


def read_vocabulary(path: str) -> list[str]:
    """The tokens by index from a {VOCABULARY_FILE} that save_vocabulary wrote, for encode_texts."""
    with open(path, encoding="utf-8") as stream:
        return json.load(stream)["tokens"]'''

_SAVE_PIECES = f'''\
def save_vocabulary(path: str, tokenizer) -> None:
    """The byte-pair tokenizer as {VOCABULARY_FILE}, plain JSON (its pieces by index, how a text is split into
    words, and the tokenizers library's own description of it, `tokenizer`), written whole or not at all."""
    pieces = [tokenizer.id_to_token(i) for i in range(tokenizer.get_vocab_size())]
    settings = {{"lowercase": LOWERCASE, "max_length": MAX_LENGTH, "pad": 0, "unk": 1, "tokens": pieces}}
    settings["tokenizer"] = json.loads(tokenizer.to_str())
    save_atomically(path, json.dumps(settings, ensure_ascii=False, indent=0).encode())


def read_vocabulary(path: str):
    """The byte-pair tokenizer from a {VOCABULARY_FILE} that save_vocabulary wrote, for encode_texts."""
    from tokenizers import Tokenizer  # only byte pairs need the library

    with open(path, encoding="utf-8") as stream:
        return Tokenizer.from_str(json.dumps(json.load(stream)["tokenizer"]))'''


# ---- the streamed path: a torch Dataset read by DataLoader workers, batch by batch -----------------------


def _streamed_imports(*, normalize: bool, augment: bool) -> tuple[str, ...]:
    data = "from torch.utils.data import DataLoader, Dataset" + (", Subset" if normalize else "")
    return (data, "from torchvision.transforms import v2") if normalize or augment else (data,)


_SPLIT_INDICES = '''\
def split(dataset: Dataset, val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Shuffle with the seed, then hold out val_fraction of the samples: the training and validation indices."""
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed)).tolist()
    n_val = int(len(dataset) * val_fraction)
    return order[n_val:], order[:n_val]'''

_CHANNEL_STATISTICS = '''\
def channel_statistics(dataset: Dataset, indices: list[int], samples: int = 500):
    """Mean and standard deviation of each colour channel over (up to `samples` of) the training images."""
    total = squares = count = 0
    for batch_x, _ in DataLoader(Subset(dataset, indices[:samples]), batch_size=100):
        pixels = batch_x.double().transpose(0, 1).flatten(1)  # (channels, every pixel of the batch)
        total = total + pixels.sum(dim=1)
        squares = squares + pixels.square().sum(dim=1)
        count += pixels.shape[1]
    mean = total / count
    std = (squares / count - mean.square()).clamp_min(1e-16).sqrt()
    return mean.tolist(), std.tolist()'''

_PART = '''\
class Part(Dataset):
    """The samples of `dataset` at `indices`, each passed through `transform` (normalisation, augmentation).

    A sample's random crop and flip come from its own seed, the epoch's seed plus its place in the part: a batch
    is the same whatever worker process reads it, and a run resumed mid-epoch reads what it would have read.
    """

    def __init__(self, dataset: Dataset, indices: list[int], transform=None) -> None:
        self.dataset, self.indices, self.transform = dataset, indices, transform
        self.epoch_seed = 0

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, position: int) -> tuple[torch.Tensor, int]:
        x, y = self.dataset[self.indices[position]]
        if self.transform is not None:
            with torch.random.fork_rng(devices=[]):  # the transforms draw from torch's generator: seed a copy
                torch.default_generator.manual_seed(self.epoch_seed + position)
                x = self.transform(x)
        return x, y'''

_BATCHES = '''\
def batches(part: Part, order: list[int], batch_size: int, device: str, workers: int):
    """The samples of `part` in this order, in batches on the device. `workers` processes read and decode
    them ahead of the training step; for a GPU they arrive in pinned memory, so the copy need not wait."""
    loader = DataLoader(
        part,
        batch_size=batch_size,
        sampler=order,
        num_workers=workers,
        pin_memory=torch.device(device).type == "cuda",
        generator=torch.Generator(),  # starting the workers then draws nothing from torch's own generator
    )
    for batch_x, batch_y in loader:
        yield batch_x.to(device, non_blocking=True), batch_y.to(device, non_blocking=True)'''


def _streamed_data_functions(image_shape: tuple[int, ...], *, normalize: bool, augment: str) -> list[str]:
    """split, channel_statistics, Part, prepare_data and batches: the data of a streamed dataset."""
    transforms = []
    if augment in ("crop", "crop+flip"):
        size, padding = literal(tuple(image_shape[-2:])), literal(crop_padding(image_shape))
        transforms.append(f"v2.RandomCrop({size}, padding={padding})")
    if augment in ("flip", "crop+flip"):
        transforms.append("v2.RandomHorizontalFlip()")
    lines = ["    dataset = load_data(seed)", "    train_indices, val_indices = split(dataset, val_fraction, seed)"]
    train_transform = val_transform = ""
    if normalize:
        lines += [
            "    mean, std = channel_statistics(dataset, train_indices)",
            "    normalize = v2.Normalize(mean, std)",
        ]
        transforms.insert(0, "normalize")
        val_transform = ", normalize"
    if len(transforms) > 1:
        lines.append(f"    augment = v2.Compose([{', '.join(transforms)}])")
        train_transform = ", augment"
    elif transforms:
        train_transform = f", {transforms[0]}"
    lines.append(f"    return Part(dataset, train_indices{train_transform}), Part(dataset, val_indices{val_transform})")
    prepare = (
        "def prepare_data(val_fraction: float, seed: int):\n"
        '    """The training and validation parts, as datasets that read each image when a batch needs it."""\n'
        + "\n".join(lines)
    )
    functions = [_SPLIT_INDICES, *([_CHANNEL_STATISTICS] if normalize else []), _PART, prepare, _BATCHES]
    return [part for function in functions for part in (function, "", "")][:-2]

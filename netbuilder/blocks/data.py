"""Where tensors come from: a Dataset (inputs and targets for training) or an Input of a given shape."""

from __future__ import annotations

from netbuilder.blocks.dataset_files import DatasetFileError
from netbuilder.blocks.datasets import CLASSIFICATION, DATASETS, MEMORY_LIMIT_BYTES, REGRESSION
from netbuilder.blocks.errors import SetOwnParam
from netbuilder.blocks.spec import DATA, TARGET, TENSOR, BlockSpec, ParamSpec, PortSpec, RuleContext
from netbuilder.blocks.tensor_type import FLOAT, LONG, TensorType, batched


def _users(param: str) -> tuple[str, ...]:
    return tuple(name for name, spec in DATASETS.items() if param in spec.uses)


IMAGE_SETS = tuple(name for name, spec in DATASETS.items() if spec.images)
AUGMENTATIONS = ("none", "flip", "crop", "crop+flip")
MAX_CLASSES = 100
"""The most classes a generated set may have (CIFAR-100 has as many)."""


def _dataset_rule(ctx: RuleContext) -> dict[str, TensorType]:
    spec = DATASETS[ctx.p["dataset"]]
    try:  # the shapes of a CSV table or an image folder's classes come from the files themselves
        if spec.tokens:  # token indices, each below the vocabulary's size (an Embedding checks its rows)
            x = batched(*spec.input_shape(ctx.p), dtype=LONG, classes=ctx.p["vocab_size"])
        else:
            x = batched(*spec.input_shape(ctx.p))
        if spec.task_of(ctx.p) == CLASSIFICATION:
            target = batched(dtype=LONG, classes=spec.num_classes(ctx.p))
        else:
            target = batched(1)
    except DatasetFileError as err:
        raise ctx.fail(f"{spec.title}: {err}", param="path") from None
    try:  # MNIST, CIFAR ... have the catalogue's shape with or without their files: only training needs them
        if spec.check is not None:
            spec.check(ctx.p)
    except DatasetFileError as err:
        ctx.stop_training(f"{spec.title}: {err}", param="path")
    if "classes" in spec.uses and ctx.p["samples"] < 2 * ctx.p["classes"]:
        raise ctx.fail(
            f"{spec.title}: {ctx.p['classes']} classes need at least {2 * ctx.p['classes']} samples (two per "
            "class): raise samples or lower classes",
            param="samples",
        )
    if {"classes", "length"} <= set(spec.uses) and ctx.p["classes"] > ctx.p["length"]:
        # class k is a wave of k + 1 half cycles: past one half cycle a step, it aliases a slower class
        ctx.warn(
            f"{spec.title}: with more classes than steps ({ctx.p['classes']} > length {ctx.p['length']}), the "
            "waves of the classes above the length look like those of slower ones: raise length",
            param="length",
            hint=SetOwnParam("length", ctx.p["classes"]),
        )
    size = spec.in_memory_bytes(ctx.p)
    if size is not None and size > MEMORY_LIMIT_BYTES:
        smaller = " or image_size" if "image_size" in spec.uses else ""
        raise ctx.fail(
            f"{spec.title}: {size / 1e9:.1f} GB of samples would have to fit in memory, more than the "
            f"{MEMORY_LIMIT_BYTES / 1e9:.1f} GB a generated set may take: lower samples{smaller}",
            param="samples",
        )
    return {"x": x, "target": target}


DATASET = BlockSpec(
    type="Dataset",
    category="Data",
    role=DATA,
    doc="A dataset: outputs input samples `x` and their `target` (class index or value).\n"
    "Shapes follow the dataset chosen; the split and seed come from the training settings.",
    params=(
        ParamSpec("dataset", "choice", "digits", "Which dataset to read.", choices=tuple(DATASETS)),
        ParamSpec(
            "path",
            "text",
            "data",
            "The folder (or, for CSV and tables of texts, the file) to read; relative paths start from where "
            "netbuilder runs.",
            when=("dataset", _users("path")),
        ),
        ParamSpec(
            "download",
            "bool",
            False,
            "Download the files into the folder if they are missing (needs internet; the image sets also need "
            "torchvision; text downloads IMDB's 50,000 reviews).",
            when=("dataset", _users("download")),
        ),
        ParamSpec(
            "target_column",
            "text",
            "target",
            "The column to predict (of a CSV table, all others are features).",
            when=("dataset", _users("target_column")),
        ),
        ParamSpec(
            "text_column",
            "text",
            "text",
            "The column (or JSON key) of a table of texts that holds the text.",
            when=("dataset", _users("text_column")),
        ),
        ParamSpec(
            "task",
            "choice",
            CLASSIFICATION,
            "Predict classes (any values) or numbers.",
            choices=(CLASSIFICATION, REGRESSION),
            when=("dataset", _users("task")),
        ),
        ParamSpec(
            "samples",
            "int",
            1000,
            "Number of samples to generate.",
            min=20,
            max=1_000_000,
            when=("dataset", _users("samples")),
        ),
        ParamSpec(
            "classes", "int", 3, "Number of classes.", min=2, max=MAX_CLASSES, when=("dataset", _users("classes"))
        ),
        ParamSpec(
            "features",
            "int",
            2,
            "Number of input features per sample (or step).",
            min=1,
            max=4096,
            when=("dataset", _users("features")),
        ),
        ParamSpec(
            "image_size",
            "int",
            32,
            "Width and height of each image in pixels.",
            min=4,
            max=512,
            when=("dataset", _users("image_size")),
        ),
        ParamSpec("length", "int", 32, "Steps per sequence.", min=2, max=4096, when=("dataset", _users("length"))),
        ParamSpec(
            "noise",
            "float",
            0.1,
            "Standard deviation of the added noise.",
            min=0.0,
            max=5.0,
            when=("dataset", _users("noise")),
        ),
        ParamSpec(
            "mean_length",
            "int",
            40,
            "Words per generated review on average; lengths are skewed as IMDB's (most short, a few several "
            "times as long), so max_length cuts only the longest.",
            min=3,
            max=2000,
            when=("dataset", _users("mean_length")),
        ),
        ParamSpec(
            "max_length",
            "int",
            256,
            "Tokens per text: longer texts are cut after this many, shorter ones padded with <pad> (index 0).",
            min=1,
            max=100_000,
            when=("dataset", _users("max_length")),
        ),
        ParamSpec(
            "vocab_size",
            "int",
            20_000,
            "The most token indices, <pad> and <unk> included: the training part's most frequent tokens; any "
            "other token is <unk> (index 1). An Embedding after the dataset needs this many rows.",
            min=3,
            max=10_000_000,
            when=("dataset", _users("vocab_size")),
        ),
        ParamSpec(
            "min_frequency",
            "int",
            1,
            "A token enters the vocabulary only if the training part has it at least this many times (bpe: a "
            "pair of pieces is merged only if it occurs this often).",
            min=1,
            max=1_000_000,
            when=("dataset", _users("min_frequency")),
        ),
        ParamSpec(
            "lowercase",
            "bool",
            True,
            "Lower-case every text before splitting it into tokens (The and the are one token).",
            when=("dataset", _users("lowercase")),
        ),
        ParamSpec(
            "tokenizer",
            "choice",
            "words",
            "words: each word and punctuation mark is a token (plain Python: train.py needs torch alone). bpe: "
            "byte-pair encoding by the tokenizers library, trained on the training part's words, so a word never "
            "seen whole becomes known pieces (train.py then needs tokenizers).",
            choices=("words", "bpe"),
            when=("dataset", _users("tokenizer")),
        ),
        ParamSpec(
            "normalize",
            "bool",
            True,
            "Scale each colour channel to mean 0 and standard deviation 1, with statistics of the training "
            "part only (image networks train faster and more reliably on normalised inputs).",
            when=("dataset", IMAGE_SETS),
        ),
        ParamSpec(
            "augment",
            "choice",
            "none",
            "Random changes to each training image, new in every epoch: a horizontal flip, a crop from the "
            "image padded by an eighth of its size (4 px at 32 px), or both. Validation images are never "
            "changed. Leave flips off where left and right matter (digits, letters).",
            choices=AUGMENTATIONS,
            when=("dataset", IMAGE_SETS),
        ),
        ParamSpec(
            "rotation",
            "float",
            0.0,
            "Turn each training image by a random angle of up to this many degrees, either way (0: off). A few "
            "degrees (10-15) help with photos; leave it low for digits, where a 6 turned far looks like a 9.",
            min=0.0,
            max=180.0,
            when=("dataset", IMAGE_SETS),
        ),
        ParamSpec(
            "crop_scale",
            "float",
            1.0,
            "Random resized crop: cut a random part of each training image, covering at least this share of "
            "its area (width to height between 3:4 and 4:3), and stretch it back to full size (1: off; 0.08 "
            "as for ImageNet, 0.35 or more for small images).",
            min=0.08,
            max=1.0,
            when=("dataset", IMAGE_SETS),
        ),
        ParamSpec(
            "jitter",
            "float",
            0.0,
            "Colour jitter: multiply each training image's brightness, contrast and saturation (grey images: "
            "brightness and contrast) by random factors between 1 - jitter and 1 + jitter (0: off; 0.2 to 0.4 "
            "is usual).",
            min=0.0,
            max=0.9,
            when=("dataset", IMAGE_SETS),
        ),
        ParamSpec(
            "erasing",
            "float",
            0.0,
            "Random erasing (cutout): the chance that a training image gets a random rectangle blanked out (2 % "
            "to 33 % of its area, set to 0: the average colour after normalisation), so the network cannot rely "
            "on one small part (0: off; 0.25 to 0.5 is usual).",
            min=0.0,
            max=1.0,
            when=("dataset", IMAGE_SETS),
        ),
        ParamSpec(
            "mixup",
            "float",
            0.0,
            "Mixup: blend each training batch with itself in another order, images and class targets alike, by a "
            "weight drawn from Beta(mixup, mixup) (0: off; 0.2 to 1 is usual). Needs CrossEntropy on the "
            "class targets; training accuracy is then counted against each image's main class.",
            min=0.0,
            max=10.0,
            when=("dataset", IMAGE_SETS),
        ),
        ParamSpec(
            "cutmix",
            "float",
            0.0,
            "CutMix: paste a random rectangle of another image of the batch into each training image, and mix "
            "the class targets by the areas; the share pasted is drawn from Beta(cutmix, cutmix) (0: off; 1 is "
            "usual). With mixup as well, each batch gets one of the two at random. Needs CrossEntropy.",
            min=0.0,
            max=10.0,
            when=("dataset", IMAGE_SETS),
        ),
    ),
    inputs=(),
    outputs=(
        PortSpec("x", TENSOR, doc="Input samples."),
        PortSpec("target", TARGET, doc="Targets: class indices or values, for a loss."),
    ),
    rule=_dataset_rule,
    label_prefix="data",
)


def _input_rule(ctx: RuleContext) -> dict[str, TensorType]:
    return {"x": batched(*ctx.p["shape"], dtype=ctx.p["dtype"])}


INPUT = BlockSpec(
    type="Input",
    category="Data",
    role=DATA,
    doc="A model input of a fixed shape (without the batch dimension).\n"
    "For networks exported without a dataset; use int64 for token indices that feed an Embedding.",
    params=(
        ParamSpec(
            "shape",
            "ints",
            (3, 32, 32),
            "Shape of one sample, without the batch dimension.",
            min=1,
            max=100_000,
            lengths=(1, 2, 3, 4),
        ),
        ParamSpec("dtype", "choice", FLOAT, "Element type: float32 values, or int64 indices.", choices=(FLOAT, LONG)),
    ),
    inputs=(),
    outputs=(PortSpec("x", TENSOR, doc="The input tensor."),),
    rule=_input_rule,
    label_prefix="input",
)

SPECS = (DATASET, INPUT)

"""README.md of an exported package: what each file is, how to install, train and predict.

Project text (its name, the file it came from) enters only through `markdown_text`: one line, with every
character that could start Markdown structure (a heading, a code span or block, a link, a table cell, HTML)
escaped, so a label cannot change what the README shows. Everything else is fixed text, identifiers and
numbers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from netbuilder.codegen.identifiers import safe_text
from netbuilder.codegen.run_description import RunDescription
from netbuilder.codegen.script_files import WRITING_SHARE

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#|~&])")

FILE_ROLES = {
    "model.py": "the network, `{model_class}`: a plain `torch.nn.Module`",
    "train.py": "trains it from scratch: the data, split, optimizer and schedule of the app",
    "predict.py": "runs the trained network on your files and prints one line per input",
    "config.json": "the dataset, split, seed, training settings, class names and input shape",
    "requirements.txt": "the packages the scripts import",
    "model.pt": "the trained weights (a state_dict: `torch.load(..., weights_only=True)`)",
    "model.safetensors": "the trained weights (safetensors)",
    "starting_weights.safetensors": "the imported weights train.py starts from; other layers start from the seed",
    "README.md": "this file",
}


def markdown_text(text: str, limit: int = 120) -> str:
    """Free text fit for one line of Markdown: no line breaks, and no character that Markdown would read."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", safe_text(text, limit))


def generate_readme(
    *,
    name: str,
    source: str,
    model_class: str,
    files: list[str],
    run: RunDescription | None,
    settings: Mapping[str, Any],
    weights_file: str,
    torchvision_classes: Sequence[str] = (),
) -> str:
    """The package's README.md; `files` are the names the package holds besides the README;
    `torchvision_classes` the torchvision modules model.py imports (LibraryModule)."""
    origin = f" from {markdown_text(source)}" if source else ""
    lines = [
        f"# {markdown_text(name) or 'Model'}",
        "",
        f"Exported by netbuilder{origin}: plain PyTorch, runnable without netbuilder.",
        "",
        "| file | what it is |",
        "| --- | --- |",
        *(f"| `{file}` | {FILE_ROLES[file].format(model_class=model_class)} |" for file in [*files, "README.md"]),
        "",
        "## Install",
        "",
        "    pip install -r requirements.txt",
    ]
    if torchvision_classes:
        names = ", ".join(f"`{name}`" for name in torchvision_classes)
        lines += ["", f"model.py builds torchvision's own {names}, so it needs torchvision as well as torch."]
    if run is not None and run.dataset.tokens:
        lines += ["", _TOKENS[run.dataset_params.get("tokenizer", "words")]]
    if "train.py" in files:
        lines += _training_section(settings, weights_file)
    if "predict.py" in files and run is not None:
        lines += _prediction_section(run, weights_file)
    lines += _DEPLOYMENT_SECTION
    return "\n".join(lines) + "\n"


_TOKENS = {
    "words": "train.py splits each text into words and punctuation marks in plain Python (`tokenize`) and makes the "
    "vocabulary from the training part only; it saves the vocabulary as `vocab.json` beside `model.pt`, and "
    "`read_vocabulary` with `encode_texts` index new texts by it.",
    "bpe": "train.py splits each text into byte pairs: the tokenizers library (in requirements.txt for this alone) "
    "learns them from the training part's words; `vocab.json` beside `model.pt` holds the trained tokenizer as "
    "JSON, which `read_vocabulary` reads back for `encode_texts` to index new texts by it.",
}
"""What the README says of a text dataset's tokens, by the Dataset's tokenizer."""


def _training_section(settings: Mapping[str, Any], weights_file: str) -> list[str]:
    return [
        "",
        "## Train",
        "",
        "    python train.py",
        "    python train.py --help",
        "",
        f"It trains for {int(settings['epochs'])} epochs in batches of {int(settings['batch_size'])}, holding out "
        f"{float(settings['val_fraction']):.0%} of the samples for validation, with seed {int(settings['seed'])}, "
        "and writes the weights to `model.pt`. With the same seed, on the CPU, it repeats the app's training step "
        "for step: the same split, the same batches, the same losses (`history.json` holds every step's loss "
        "and each epoch's metrics). At the end of an epoch it saves `checkpoint.pt`, after every one unless "
        f"writing it would take more than about {WRITING_SHARE:.0%} of the run (a large network on a fast GPU), "
        "and always after the last: `python train.py --resume checkpoint.pt` goes on from there.",
        "",
        "`python train.py --tensorboard runs` also writes TensorBoard event files into `runs/<when it started>/` "
        "(every step's loss, each epoch's metrics and learning rate, the hyperparameters, the model's graph), "
        "as the app does; it needs `pip install tensorboard`, then `tensorboard --logdir runs` shows the runs.",
        *(
            [
                "",
                "`model.safetensors` holds the weights of the app's run; predict.py reads it by default, or "
                "`model.pt` once train.py has written newer weights.",
            ]
            if weights_file.endswith(".safetensors")
            else []
        ),
    ]


_DEPLOYMENT_SECTION = [
    "",
    "Other formats: `netbuilder export PROJECT -o DIR --format torchscript,pt2,onnx,onnx-int8 --weights "
    "RUN/model.pt` writes the trained network for runtimes without this Python code (and runs each file on "
    "the validation split to show that it predicts as torch does). `x` below is a batch of inputs as "
    "`model.py` takes them (predict.py prepares them: read, stacked and scaled).",
    "",
    '- `model.ts` (TorchScript): `model = torch.jit.load("model.ts")`, then `model(x)`.',
    '- `model.pt2` (torch.export, any batch size): `model = torch.export.load("model.pt2").module()`, then `model(x)`.',
    "- `model.onnx`, and `model.int8.onnx` quantized to 8-bit integers (its weights a quarter of the size, "
    "predicting nearly always as the float network does): with onnxruntime,",
    "",
    '      session = onnxruntime.InferenceSession("model.onnx")',
    "      (output,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})",
    "",
    "- `model.tflite` (LiteRT, `--format litert`, fixed batch size): "
    '`interpreter = ai_edge_litert.interpreter.Interpreter(model_path="model.tflite")`, '
    "`interpreter.allocate_tensors()`, then `set_tensor`, `invoke()` and `get_tensor` with the indices of "
    "`get_input_details()` and `get_output_details()`.",
    "- `model.pte` (ExecuTorch, `--format executorch`, fixed batch size): "
    '`program = executorch.runtime.Runtime.get().load_program("model.pte")`, then '
    '`program.load_method("forward").execute([x])`.',
]
"""How to run each file `netbuilder export` can write beside the package, in a few lines each."""


def _text_prediction_section(run: RunDescription, weights_file: str) -> list[str]:
    answer = "the predicted class and its probability" if run.classification else "the network's output values"
    return [
        "",
        "## Predict",
        "",
        '    python predict.py review.txt folder_of_reviews --text "What a wonderful film!"',
        "",
        f"predict.py reads texts: .txt files, folders of them, texts given with `--text` or as arguments; it prints "
        f"one line per text with {answer}. It splits and indexes a text by train.py's own `encode_texts`, with "
        "the `vocab.json` saved beside the weights (train.py writes it with `model.pt`; `--vocabulary` names "
        f"another), so it must be the vocabulary of those weights. It loads `{weights_file}` unless `--weights` "
        "names another file.",
    ]


def _prediction_section(run: RunDescription, weights_file: str) -> list[str]:
    if run.dataset.tokens:
        return _text_prediction_section(run, weights_file)
    if run.pictures:
        example, kind = "python predict.py picture.png folder_of_pictures", "image files"
    elif run.table:
        example, kind = "python predict.py rows.csv", "CSV files (a header row may name the columns)"
    else:
        example, kind = "python predict.py samples.pt", ".pt or .npy tensors"
    answer = "the predicted class and its probability" if run.classification else "the network's output values"
    shape = ", ".join(str(int(size)) for size in run.input_shape)
    lines = [
        "",
        "## Predict",
        "",
        f"    {example}",
        "",
        f"predict.py reads {kind}, and .pt or .npy tensors of shape ({shape}) or (N, {shape}); it prints one line "
        f"per input with {answer}. It loads `{weights_file}` unless `--weights` names another file.",
    ]
    if run.scaled:
        lines += [
            "",
            "The training data is scaled with statistics of its training part, so predict.py computes them again "
            "with train.py's own functions and the split in config.json: it needs the training data where "
            "train.py reads it.",
        ]
    return lines

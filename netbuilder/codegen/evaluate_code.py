"""train.py's validation, in the pieces the app's engine runs too: `evaluation_sums` (zero tensors on the device),
`evaluate_batch` (one batch's figures added to them in place, with no sync with the device, so that the engine
can replay it as a CUDA graph), `evaluation_metrics` (the sums read once, as the metrics) and `evaluate` (the
three in a loop over the batches). For classification the sums are the loss, the confusion matrix and the top-5
hits; for values the loss alone, and each batch's outputs and targets come back as rows for `errors()` (MAE,
RMSE and R² over all of them at once: R² needs the targets' mean, which sums of squares would only give at the
cost of cancellation).
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from netbuilder.codegen.training_loop import LoopOptions

ERRORS = '''\
def errors(output: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """Mean absolute error, root mean square error and R² (the share of the targets' variance that the outputs
    explain: 1 is perfect) of outputs against targets, one row of values per sample."""
    error = output - target
    spread = (target - target.mean(dim=0)).pow(2).sum()
    return {
        "mae": error.abs().mean().item(),
        "rmse": error.pow(2).mean().sqrt().item(),
        "r2": 1.0 - (error.pow(2).sum() / spread).item() if spread > 0 else float("nan"),
    }'''


EVALUATION_BATCH = '''\
def evaluation_batch(batch_size: int) -> int:
    """The batches evaluate() takes for training batches of `batch_size`: twice as many samples, since evaluation
    keeps no activations for a backward pass (so they fit where a training step does) and a GPU launches half
    as many kernels for the same samples."""
    return 2 * batch_size'''


def evaluate_functions(options: LoopOptions) -> list[str]:
    """The validation's functions, in the order train.py holds them."""
    return [
        EVALUATION_BATCH,
        *([] if options.classification else [ERRORS]),
        _sums(options),
        _evaluate_batch(options),
        _metrics(options),
        _evaluate(options),
    ]


def _sums(options: LoopOptions) -> str:
    head = "def evaluation_sums(device: str | torch.device) -> dict[str, torch.Tensor]:\n"
    if not options.classification:
        return (
            f'{head}    """Zero sums on the device, for evaluate_batch() to add to: the loss times the samples."""\n'
            '    return {"loss": torch.zeros((), device=device)}'
        )
    top = ", and the top-5 hits" if options.top_k else ""
    return (
        f'{head}    """Zero sums on the device, for evaluate_batch() to add to: the loss times the samples, the\n'
        f'    confusion matrix as one row (true class * classes + predicted class){top}."""\n'
        "    classes = len(CLASS_NAMES)\n"
        "    return {\n"
        '        "loss": torch.zeros((), device=device),\n'
        '        "confusion": torch.zeros(classes * classes, dtype=torch.long, device=device),\n'
        + ('        "in_top5": torch.zeros((), device=device),\n' if options.top_k else "")
        + "    }"
    )


def _evaluate_batch(options: LoopOptions) -> str:
    amp = ", amp: torch.dtype | None = None" if options.mixed else ""
    returns = "None" if options.classification else "tuple[torch.Tensor, torch.Tensor]"
    head = (
        "@torch.no_grad()\n"
        "def evaluate_batch(model: nn.Module, criterion: nn.Module, batch_x: torch.Tensor, batch_y: torch.Tensor,\n"
        f"                   sums: dict[str, torch.Tensor]{amp}) -> {returns}:\n"
    )
    if options.classification:
        what = "its (true, predicted) pairs to the confusion matrix" + (" and its top-5 hits" if options.top_k else "")
        summary = f"Add one batch's loss (times its samples), {what} to `sums`, in place"
        after = (
            "    pairs = batch_y.long().reshape(-1) * len(CLASS_NAMES) + predicted_classes(output).reshape(-1)\n"
            "    # index_add_ rather than bincount, which would wait for the device to size its result\n"
            '    sums["confusion"].index_add_(0, pairs, torch.ones_like(pairs))\n'
            + (
                '    sums["in_top5"] += (output.topk(5, dim=1).indices == batch_y.unsqueeze(1)).any(dim=1).sum()'
                if options.top_k
                else ""
            )
        ).rstrip()
        tail = "."
    else:
        summary = "Add one batch's loss (times its samples) to `sums`, in place"
        after = (
            "    rows = len(output)\n"
            f"    return output.float().reshape(rows, -1), {options.target}.float().reshape(rows, -1)"
        )
        tail = ", and return its outputs and targets as rows of values, one per sample, for errors()."
    forward = (
        "    output = model(batch_x)\n"
        '    sums["loss"] += compute_loss(criterion, output, batch_x, batch_y) * len(batch_x)\n'
    )
    if options.mixed:  # the forward pass in the precision the step trains in (amp None: fp32)
        forward = (
            '    with torch.autocast("cuda", dtype=amp, enabled=amp is not None, cache_enabled=False):\n'
            + textwrap.indent(forward, "    ")
        )
        tail += " The forward pass runs under autocast to `amp` as train_step's does, without the weight cache."
    text = f"{summary}, without waiting for the device (so the app can replay it as a CUDA graph){tail}"
    doc = textwrap.fill(text, width=116, initial_indent='    """', subsequent_indent="    ")
    return f'{head}{doc}"""\n{forward}{after}'


def _metrics(options: LoopOptions) -> str:
    if not options.classification:
        return '''\
def evaluation_metrics(sums: dict[str, torch.Tensor], size: int,
                       rows: list[tuple[torch.Tensor, torch.Tensor]]) -> dict[str, float]:
    """The mean loss over `size` samples, and how far the outputs are from the targets: `rows` holds each
    batch's (outputs, targets) from evaluate_batch()."""
    outputs, targets = zip(*rows, strict=True)
    return {"loss": sums["loss"].item() / size, **errors(torch.cat(outputs), torch.cat(targets))}'''
    top = '        "top5_accuracy": sums["in_top5"].item() / size,\n' if options.top_k else ""
    return (
        "def evaluation_metrics(sums: dict[str, torch.Tensor], size: int) -> dict:\n"
        '    """The mean loss, the accuracy,' + (" the top-5 accuracy" if options.top_k else "") + " and the confusion "
        "matrix (rows: the true class,\n"
        '    columns: the predicted one) of `size` samples from their sums."""\n'
        "    classes = len(CLASS_NAMES)\n"
        '    confusion = sums["confusion"].view(classes, classes)\n'
        "    return {\n"
        '        "loss": sums["loss"].item() / size,\n'
        '        "accuracy": confusion.trace().item() / size,\n'
        f"{top}"
        '        "confusion": confusion.tolist(),\n'
        "    }"
    )


def _evaluate(options: LoopOptions) -> str:
    """evaluate(): the validation metrics, over tensors on the device or a streamed part."""
    returns = "dict" if options.classification else "dict[str, float]"  # a classifier's holds its matrix
    amp = ", amp: torch.dtype | None = None" if options.mixed else ""  # as train_step's autocast
    if options.streamed:
        head = (
            "def evaluate(model: nn.Module, criterion: nn.Module, part: Part, batch_size: int, device: str,\n"
            f"             workers: int{amp}) -> {returns}:"
        )
        where, size, device = "the samples of `part`", "len(part)", "device"
        loop = "    for batch_x, batch_y in batches(part, list(range(len(part))), batch_size, device, workers):\n"
    else:
        head = (
            "def evaluate(model: nn.Module, criterion: nn.Module, x: torch.Tensor, y: torch.Tensor,\n"
            f"             batch_size: int{amp}) -> {returns}:"
        )
        where, size, device = "(x, y)", "len(x)", "x.device"
        loop = (
            "    for start in range(0, len(x), batch_size):\n"
            "        batch_x, batch_y = x[start:start + batch_size], y[start:start + batch_size]\n"
        )
    call = f"evaluate_batch(model, criterion, batch_x, batch_y, sums{', amp' if options.mixed else ''})"
    if options.classification:
        top = " the top-5 accuracy (the true class among the five highest scores)," if options.top_k else ""
        summary = textwrap.fill(
            f"The mean loss, the accuracy,{top} and the confusion matrix (rows: the true class, columns: the "
            f"predicted one) over {where}, in batches, counted on the device.",
            width=112,
            subsequent_indent="    ",
        )
        body = f"{loop}        {call}\n    return evaluation_metrics(sums, {size})"
    else:
        summary = f"The mean loss over {where}, in batches, and how far the outputs are from the targets."
        body = f"    rows = []\n{loop}        rows.append({call})\n    return evaluation_metrics(sums, {size}, rows)"
    if options.mixed:
        summary += "\n    The forward pass runs under autocast to `amp`, as train_step's does."
    return f'''\
@torch.no_grad()
{head}
    """{summary}"""
    model.eval()
    sums = evaluation_sums({device})
{body}'''

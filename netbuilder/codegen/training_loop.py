"""The training half of train.py: `train_step` and `evaluate`, which the app's engine runs too, checkpoints a
person can resume from, `train()` around them and the command line.

`train_step` is the step of both: forward, loss, backward, clipping and the optimizer's step (under autocast,
with a gradient scaler for fp16, in a mixed-precision project), with no sync with the device, so that the
engine can capture it as a CUDA graph. `evaluate` gives the validation metrics of both: for classification
the loss, the accuracy, the top-5 accuracy (the true class among the five highest scores, where there are more
than five classes) and the confusion matrix, counted on the device by the class rule of `count_correct`; for
values the loss, MAE, RMSE and R². The engine reads each epoch's per-class figures from that matrix with the
script's own `classification_report` (codegen/class_report.py, carried by its source), so there is no second
pass. `train()` saves out/history.json (each epoch's metrics and every step's loss) after each epoch and
out/checkpoint.pt (everything `--resume` needs: model, optimizer, schedule, random generators, epoch, the last
confusion matrix) after the first, the last, an early stop and as often in between as keeps writing it to about
WRITING_SHARE of the run, as the app keeps last.pt (a ResNet-18's is 90 MB), and out/model.pt at the end, then
prints the last validation's per-class table (codegen/report_table.py) and writes out/metrics.json (the last
epoch's metrics, and for classification its matrix and per-class figures), each by `save_atomically` (a temporary
file, synced, then renamed: a stop or a full disk mid-write leaves the previous file whole); a `--resume` file it
cannot go on from ends the script with one line. Under `torchrun --nproc_per_node N train.py` each process takes
its share of every batch (codegen/processes_code.py) and the steps stay those of one process. Its options are the
project's training settings as declared once in project/settings.py (flag, type, choices, help), with the
project's values as defaults; an fp32 project's script leaves out precision, since its loop has no mixed precision
to choose.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from netbuilder.codegen import device_code
from netbuilder.codegen import processes_code as processes
from netbuilder.codegen.class_report import classification_report
from netbuilder.codegen.evaluate_code import evaluate_functions
from netbuilder.codegen.render import literal
from netbuilder.codegen.report_table import report_table
from netbuilder.codegen.script_files import (
    LOAD_CHECKPOINT,
    SAVE_ATOMICALLY,
    SAVE_CHECKPOINT,
    WRITE_CLASS_METRICS,
    WRITE_VALUE_METRICS,
    WRITING_SHARE,
)
from netbuilder.codegen.tensorboard_summaries import log_epoch, log_graph, log_run_end, log_step_losses, run_hparams
from netbuilder.project.settings import CHOICE, SETTINGS, SettingSpec

TOP_K = 5  # evaluate() counts a top-5 accuracy where the dataset has more classes than this

# train()'s leading parameters, in this order, before `out`; the other settings are keywords
_POSITIONAL = ("epochs", "batch_size", "val_fraction", "seed", "device")


@dataclass(frozen=True)
class LoopOptions:
    """What shapes the loop: the project's settings and what its graph learns."""

    class_name: str
    settings: Mapping[str, Any]  # the project's training settings by name: the options' defaults
    schedule: str  # the optimizer's schedule: none, step, cosine, onecycle or plateau
    classification: bool  # evaluate() counts right classes; else it measures errors of values
    target: str  # what the loss compares the output with: batch_y, or batch_x for an autoencoder
    augment: bool  # train.py's augment(batch_x, generator) changes each training batch on its device
    streamed: bool
    starting_weights: bool = False
    mix: bool = False  # mix(batch_x, batch_y, generator) mixes each training batch: the loss takes class probabilities
    epoch_seeds: bool = False  # a streamed set's per-sample crops and flips, seeded once an epoch
    class_count: int = 0  # the dataset's classes (classification): the confusion matrix is this square
    text: bool = False  # token indices of texts: train() saves the vocabulary beside the weights
    batch_norm: bool = False  # the model has batch norm: train.py takes --sync-batchnorm
    images: bool = False  # batches of images (N, C, H, W): laid out as memory_format() says

    @property
    def mixed(self) -> bool:
        return self.settings["precision"] != "fp32"

    @property
    def top_k(self) -> bool:
        """Whether evaluate() counts a top-5 accuracy: a classifier of more than TOP_K classes."""
        return self.classification and self.class_count > TOP_K

    @property
    def options(self) -> list[SettingSpec]:
        """The settings that train.py takes as options: all but precision in an fp32 project, sync_batchnorm
        without batch norm, and processes (torchrun starts them: `torchrun --nproc_per_node N train.py`)."""
        left_out = {
            "processes",
            *([] if self.mixed else ["precision"]),
            *([] if self.batch_norm else ["sync_batchnorm"]),
        }
        return [spec for spec in SETTINGS if spec.name not in left_out]


VOCABULARY_FILE = "vocab.json"
"""Where train.py (beside model.pt) and the app (beside the run's model.pt) save a text dataset's vocabulary."""

NOT_A_NUMBER_ADVICE = "lower the learning rate, or add normalization or gradient clipping"
"""What to do when the loss becomes NaN or infinite: said by the app's run and by train.py alike."""


def loop_functions(options: LoopOptions) -> list[str]:
    """The functions from the step on, each a block of source, in the order train.py holds them."""
    functions = [
        *([device_code.MIXED_PRECISION] if options.mixed else []),
        processes.START_PROCESSES,
        processes.SHARD,
        *([device_code.MEMORY_FORMAT] if options.images else []),
        _train_step(options),
        *evaluate_functions(options),
        *([_source(classification_report), _source(report_table)] if options.classification else []),
        SAVE_ATOMICALLY,
        SAVE_CHECKPOINT,
        LOAD_CHECKPOINT,
        WRITE_CLASS_METRICS if options.classification else WRITE_VALUE_METRICS,
        *(_source(f) for f in (log_step_losses, log_epoch, run_hparams, log_run_end, log_graph)),
        _train(options),
        _main(options),
    ]
    return functions


_CLIP = """\
    if grad_clip:  # the gradients' norm is at most grad_clip
        nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
"""


_WEIGHTED = "weighted = loss * (share * weight) if share * weight != 1 else loss  # 1: the loss itself"


def _train_step(options: LoopOptions) -> str:
    mixed = options.mixed
    head = (
        "def train_step(model: nn.Module, criterion: nn.Module, optimizer: torch.optim.Optimizer, "
        "batch_x: torch.Tensor,\n"
    )
    if mixed:
        head += (
            "               batch_y: torch.Tensor, grad_clip: float = 0.0, amp: torch.dtype | None = None,\n"
            "               scaler: torch.amp.GradScaler | None = None, accumulation: int = 1,\n"
            "               weight: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:\n"
        )
        forward = (
            '            with torch.autocast("cuda", dtype=amp, enabled=amp is not None, cache_enabled=False):\n'
            "                output = model(part_x)\n"
            "                loss = compute_loss(criterion, output, part_x, part_y)\n"
            f"            {_WEIGHTED}\n"
            "            (scaler.scale(weighted) if scaler is not None else weighted).backward()\n"
        )
        how = (
            "forward and loss under autocast to `amp` (without the weight cache,\n"
            "    which a CUDA graph cannot hold), backward (for fp16 with the loss scaled by `scaler`, the gradients\n"
            "    unscaled before clipping),"
        )
    else:
        head += (
            "               batch_y: torch.Tensor, grad_clip: float = 0.0, accumulation: int = 1,\n"
            "               weight: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:\n"
        )
        forward = (
            "            output = model(part_x)\n"
            "            loss = compute_loss(criterion, output, part_x, part_y)\n"
            f"            {_WEIGHTED}\n"
            "            weighted.backward()\n"
        )
        how = "forward, loss, backward,"
    unscale = "    if scaler is not None:\n        scaler.unscale_(optimizer)\n" if mixed else ""
    step = (
        "    if scaler is not None:\n        scaler.step(optimizer)\n        scaler.update()\n"
        "    else:\n        optimizer.step()\n"
        if mixed
        else "    optimizer.step()\n"
    )
    return f'''\
{head}    """One step on one batch: {how} clipping (0: none) and the optimizer's step.

    The batch goes through in `accumulation` parts, one after another, each part's loss weighted by its share
    of the batch and the gradients added up: the step of the whole batch, in the memory of one part. `weight`
    scales the gradients: under DistributedDataParallel, which averages the processes' gradients, it is the
    number of processes times this process's share of the global batch, so that the step is the global batch's.
    Returns the loss (this batch's mean) and the output, detached. Nothing here waits for the device, so the
    app can replay the step as a CUDA graph."""
    optimizer.zero_grad(set_to_none=True)
    parts = min(accumulation, len(batch_x))
    losses, outputs = [], []
    pieces = [(batch_x, batch_y)]
    if parts > 1:
        pieces = zip(batch_x.tensor_split(parts), batch_y.tensor_split(parts), strict=True)
    for part, (part_x, part_y) in enumerate(pieces):
        share = len(part_x) / len(batch_x)
        # DistributedDataParallel averages the processes' gradients at the last part's backward only
        last = part == parts - 1 or not hasattr(model, "no_sync")
        with contextlib.nullcontext() if last else model.no_sync():
{forward}        losses.append(loss.detach() * share if parts > 1 else loss.detach())
        outputs.append(output.detach())
{unscale}{_CLIP}{step}    if parts == 1:
        return losses[0], outputs[0]
    return torch.stack(losses).sum(), torch.cat(outputs)'''


def _source(function: Any) -> str:
    """A plain-Python function of netbuilder's as train.py carries it: its own source, so there is one text."""
    return inspect.getsource(function).rstrip()


def _train(o: LoopOptions) -> str:
    """train(): the epochs around train_step and evaluate, over tensors on the device or streamed parts."""
    train_data, val_data = ("train_part", "val_part") if o.streamed else ("train_x", "val_x")
    by_name = {spec.name: spec for spec in o.options}
    parameters = [f"{name}: {by_name[name].python_type.__name__}" for name in _POSITIONAL]
    parameters += ["out: str", *(["workers: int"] if o.streamed else []), "*"]
    parameters += [
        f"{spec.name}: {spec.python_type.__name__} = {literal(o.settings[spec.name])}"
        for spec in o.options
        if spec.name not in _POSITIONAL
    ]
    parameters += ['resume: str = ""', 'tensorboard: str = ""']
    lines = [
        "def train(",
        *(f"    {parameter}," for parameter in parameters),
        f") -> {o.class_name}:",
        '    """Train with this seed, from scratch or from the checkpoint `resume`; print one line per epoch.',
        "",
        "    out/checkpoint.pt holds what `--resume` needs to go on. It is written after the first epoch, the last,",
        "    an early stop, and in between as often as keeps writing it to about "
        f"{WRITING_SHARE:.0%} of the run (after a write",
        f"    that took s seconds, none sooner than s / {WRITING_SHARE} seconds later: a large network's is large).",
        "    out/history.json holds each epoch's metrics and every step's loss; at the end out/model.pt holds the",
        "    trained weights and out/metrics.json the last validation's figures. With `tensorboard`, TensorBoard",
        "    event files go into tensorboard/<when the run started>/ as the app writes them.",
        "",
        "    Under torchrun each process takes its share of every batch and DistributedDataParallel averages their",
        "    gradients, so the steps are those of one process with the whole batch; every process validates on the",
        "    whole validation part (the same figures on each), and only the first (rank 0) prints and writes files.",
        '    """',
        *processes.JOIN_PROCESSES,
    ]
    if o.streamed:
        lines.append("    train_part, val_part = prepare_data(val_fraction, seed)")
    elif o.text:
        lines += [
            "    train_x, train_y, val_x, val_y, vocabulary = prepare_text(val_fraction, seed)",
            "    if rank == 0:",
            f'        save_vocabulary(os.path.join(out, "{VOCABULARY_FILE}"), vocabulary)',
            "    train_x, train_y = train_x.to(device), train_y.to(device)",
            "    val_x, val_y = val_x.to(device), val_y.to(device)",
        ]
    else:
        lines += [
            "    train_x, train_y, val_x, val_y = prepare_data(val_fraction, seed)",
            "    train_x, train_y = train_x.to(device), train_y.to(device)",
            "    val_x, val_y = val_x.to(device), val_y.to(device)",
        ]
    lines += [
        f"    steps_per_epoch = -(-len({train_data}) // batch_size)",
        "",
        "    torch.manual_seed(seed)",
        f"    model = {o.class_name}().to(device)",
        *(
            ["    model.load_state_dict(load_file(STARTING_WEIGHTS), strict=False)  # the rest keep their seeded start"]
            if o.starting_weights
            else []
        ),
        *(processes.SYNC_BATCHNORM if o.batch_norm else []),
        *device_code.layout_lines(images=o.images, streamed=o.streamed),
        "    criterion = make_criterion()",
        "    optimizer = make_optimizer(model)",
        *(["    amp, scaler = mixed_precision(precision, device)"] if o.mixed else []),
        *(["    scheduler = make_scheduler(optimizer, epochs, steps_per_epoch)"] if o.schedule != "none" else []),
        "    shuffle = torch.Generator().manual_seed(seed + 1)",
    ]
    augmented = o.augment or o.mix or o.epoch_seeds
    on_device = o.augment or o.mix or not o.streamed  # a streamed set's per-sample seeds alone come from the CPU
    if augmented:
        generator = "torch.Generator(device)" if on_device else "torch.Generator()"
        lines.append(f"    augmentation = {generator}.manual_seed(seed + 2)")
    parts = ["model", "optimizer", *(["scheduler"] if o.schedule != "none" else []), "shuffle"]
    parts += ["augmentation"] if augmented else []
    lines += [
        "    # what a checkpoint saves, and where the run stands",
        "    parts = {" + ", ".join(f'"{name}": {name}' for name in parts) + "}",
        *(["    if scaler is not None:", '        parts["scaler"] = scaler'] if o.mixed else []),
        '    run = {"epochs_done": 0, "history": [], "losses": [], "best_val_loss": float("inf"),',
        '           "epochs_without_improvement": 0' + (', "confusion": None}' if o.classification else "}"),
        "    if resume:",
        "        run = load_checkpoint(resume, parts)",
        "        if rank == 0:",
        """            print(f"going on from {resume} after epoch {run['epochs_done']}")""",
        *processes.STEP_MODEL,
        *_tensorboard_start(o, train_data),
        "    checkpoint_due = time.perf_counter()  # from when checkpoint.pt is written again at an epoch's end",
        "",
        '    for epoch in range(run["epochs_done"] + 1, epochs + 1):',
        "        started = time.perf_counter()",
        "        model.train()",
        "        total_loss = torch.zeros((), device=device)",
        "        losses = torch.zeros(steps_per_epoch, device=device)  # read once an epoch, so no step waits",
    ]
    # a batch augmented or mixed on the device is drawn whole, as one process draws it, then shared out
    whole = o.augment or o.mix
    if o.streamed:
        lines.append("        order = torch.randperm(len(train_part), generator=shuffle).tolist()")
        if o.epoch_seeds:
            where = ", device=device" if on_device else ""
            lines.append(
                f"        train_part.epoch_seed = int(torch.randint(2**62, (), generator=augmentation{where}))"
            )
        if whole:
            lines += [
                "        epoch_batches = batches(train_part, order, batch_size, device, workers)",
                "        for step, (batch_x, batch_y) in enumerate(epoch_batches):",
                "            part, count = shard(len(batch_y), rank, world)",
                "            weight = world * count / len(batch_y)  # DistributedDataParallel averages the processes'",
            ]
        else:
            lines += processes.STREAMED_SHARES
    else:
        lines += [
            "        order = torch.randperm(len(train_x), generator=shuffle).to(device)",
            "        for step, start in enumerate(range(0, len(train_x), batch_size)):",
            "            index = order[start:start + batch_size]",
            "            part, count = shard(len(index), rank, world)  # this process's samples of the batch",
            "            weight = world * count / len(index)  # DistributedDataParallel averages the processes'",
            "            batch_x, batch_y = train_x[index], train_y[index]"
            if whole
            else "            batch_x, batch_y = train_x[index[part]], train_y[index[part]]",
        ]
    mixed = ", amp, scaler" if o.mixed else ""
    amp = ", amp" if o.mixed else ""
    targets = "targets" if o.mix else "batch_y"
    lines += [
        *(["            batch_x = augment(batch_x, augmentation)"] if o.augment else []),
        *(
            ["            batch_x, targets = mix(batch_x, batch_y, augmentation)  # class probabilities"]
            if o.mix
            else []
        ),
        *(
            [f"            batch_x, {targets} = batch_x[part], {targets}[part]  # as one process draws it"]
            if whole
            else []
        ),
        "            loss, _ = train_step(",
        f"                step_model, criterion, optimizer, batch_x, {targets}, grad_clip{mixed}, accumulation, weight",
        "            )",
        *(["            scheduler.step()"] if o.schedule == "onecycle" else []),
        "            total_loss += loss * count",
        "            losses[step] = loss * weight",
        "        if world > 1:  # over every process's samples: each step's loss is the sum of the weighted ones",
        "            dist.all_reduce(total_loss)",
        "            dist.all_reduce(losses)",
        "            losses /= world",
        "        if not torch.isfinite(total_loss):  # as in the app: a loss that is no number ends the run",
        "            step = int((~torch.isfinite(losses)).nonzero()[0]) + 1",
        "            raise SystemExit(",
        '                f"the loss became {losses[step - 1].item()} at step {(epoch - 1) * steps_per_epoch + step} "',
        f'                f"(epoch {{epoch}}): {NOT_A_NUMBER_ADVICE}"',
        "            )",
        f"        train_loss = total_loss.item() / len({train_data})",
        '        record = {"epoch": epoch, "train_loss": train_loss}',
        '        line = f"epoch {epoch}/{epochs}  train loss {train_loss:.4f}"',
        f"        if len({val_data}):",
        "            metrics = "
        + (
            f"evaluate(model, criterion, val_part, evaluation_batch(batch_size), device, workers{amp})"
            if o.streamed
            else f"evaluate(model, criterion, val_x, val_y, evaluation_batch(batch_size){amp})"
        ),
        *(
            ['            run["confusion"] = metrics.pop("confusion")  # the last, for metrics.json']
            if o.classification
            else []
        ),
        '            record.update({f"val_{name}": value for name, value in metrics.items()})',
        "            line += f\"  val loss {metrics['loss']:.4f}"
        + ("  val accuracy {metrics['accuracy']:.1%}" if o.classification else "")
        + '"',
        *(["            line += f\"  val top-5 {metrics['top5_accuracy']:.1%}\""] if o.top_k else []),
        '            if metrics["loss"] < run["best_val_loss"]:  # for early stopping',
        '                run["best_val_loss"], run["epochs_without_improvement"] = metrics["loss"], 0',
        "            else:",
        '                run["epochs_without_improvement"] += 1',
    ]
    if o.schedule == "plateau":
        lines.append('        scheduler.step(record.get("val_loss", train_loss))')
    elif o.schedule in ("step", "cosine"):
        lines.append("        scheduler.step()")
    lines += [
        '        record["learning_rate"] = optimizer.param_groups[0]["lr"]',
        '        run["epochs_done"] = epoch',
        '        run["history"].append(record)',
        '        run["losses"] += losses.tolist()',
        '        stop_early = epoch < epochs and 0 < early_stopping <= run["epochs_without_improvement"]',
        "        if rank == 0:  # one process prints and writes",
        '            print(f"{line}  ({time.perf_counter() - started:.1f} s)", flush=True)',
        "            if writer is not None:",
        "                log_step_losses(writer, losses.tolist(), (epoch - 1) * steps_per_epoch + 1)",
        "                log_epoch(writer, record)",
        "                writer.flush()  # a run stopped later keeps its epochs",
        "            if epoch == epochs or stop_early or time.perf_counter() >= checkpoint_due:",
        "                began = time.perf_counter()",
        '                save_checkpoint(os.path.join(out, "checkpoint.pt"), run, parts)',
        "                ended = time.perf_counter()",
        f"                checkpoint_due = ended + (ended - began) / {WRITING_SHARE}  # writing: about "
        f"{WRITING_SHARE:.0%} of the run",
        '            history = json.dumps({"epochs": run["history"], "losses": run["losses"]}, indent=1)',
        '            save_atomically(os.path.join(out, "history.json"), history.encode())',
        "        if stop_early:",
        "            if rank == 0:",
        '                print(f"validation loss did not improve for {early_stopping} epochs: stopping early")',
        "            break",
        "",
        "    if rank == 0:",
        '        path = os.path.join(out, "model.pt")',
        "        save_atomically(path, model.state_dict())",
        '        print(f"saved the weights to {path}")',
        "        write_metrics(out, run)",
        "        if writer is not None:",
        '            log_run_end(writer, hparams, run["history"][-1] if run["history"] else {})',
        "            writer.close()",
        "    if world > 1:",
        "        # DistributedDataParallel sits in a reference cycle, so only the cyclic collector frees it and the",
        "        # process group it holds: collected now, before the group is destroyed, not while Python exits",
        "        del step_model",
        "        gc.collect()",
        "        dist.destroy_process_group()",
        "    return model",
    ]
    return "\n".join(lines)


def _tensorboard_start(o: LoopOptions, train_data: str) -> list[str]:
    """With --tensorboard: the writer (torch.utils.tensorboard imported only then), the run's hyperparameters
    as it starts, and the model's graph traced on one training sample."""
    # each setting as this run has it: train.py's option, the processes torchrun started, or the project's value
    values = {spec.name: spec.name for spec in o.options} | {"processes": "world"}
    settings = [
        f'            "{spec.name}": {values.get(spec.name) or literal(o.settings[spec.name])},' for spec in SETTINGS
    ]
    sample = f"next(batches({train_data}, [0], 1, device, 0))[0]" if o.streamed else f"{train_data}[:1]"
    return [
        "    writer = None",
        "    if tensorboard and rank == 0:",
        "        from torch.utils.tensorboard import SummaryWriter  # only with --tensorboard: pip install tensorboard",
        "",
        '        writer = SummaryWriter(os.path.join(tensorboard, time.strftime("%Y-%m-%d_%H-%M-%S")))',
        "        settings = {",
        *settings,
        "        }",
        "        hparams = run_hparams(settings, optimizer, {})",
        f"        note = log_graph(writer, model, {sample})",
        "        if note:",
        "            print(note)",
    ]


def _main(o: LoopOptions) -> str:
    """main(): the command line, one option per training setting (the project's values as defaults)."""
    options = [line for spec in o.options for line in _option(spec, o.settings[spec.name])]
    options += [
        '    parser.add_argument("--out", default=".", help="folder for the weights, the checkpoint and the history")',
        '    parser.add_argument("--resume", metavar="CHECKPOINT", default="",',
        '                        help="go on from the checkpoint.pt that an earlier run saved")',
        '    parser.add_argument("--tensorboard", metavar="DIR", default="",',
        '                        help="TensorBoard event files of the run, in DIR/<when it started>/")',
    ]
    positional = [f"args.{name}" for name in _POSITIONAL if name != "device"]
    arguments = [*positional, "device", "args.out"]
    if o.streamed:
        options += [
            '    parser.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 1),',
            '                        help="processes that read images ahead of training (0: read them in this one)")',
        ]
        arguments.append("args.workers")
    arguments += [f"{spec.name}=args.{spec.name}" for spec in o.options if spec.name not in _POSITIONAL]
    arguments += ["resume=args.resume", "tensorboard=args.tensorboard"]
    call = "    train(" + ", ".join(arguments) + ")"
    if len(call) > 120:
        call = "    train(\n" + "".join(f"        {argument},\n" for argument in arguments) + "    )"
    return "\n".join(
        [
            "def main() -> None:",
            "    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])",
            *options,
            "    args = parser.parse_args()",
            '    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device',
            "    os.makedirs(args.out, exist_ok=True)",
            call,
        ]
    )


def _option(spec: SettingSpec, value: Any) -> list[str]:
    """The argparse call of one setting: its flag, its type or choices, the project's value, its help."""
    kind = f"choices={literal(spec.choices)}" if spec.kind == CHOICE else f"type={spec.python_type.__name__}"
    text = spec.help.replace("%", "%%")  # argparse formats help with %
    help_line = f"        help={literal(text)},"
    if len(help_line) > 120:  # a long help, in pieces that Python joins
        pieces = textwrap.wrap(text, 96, drop_whitespace=False)
        help_lines = ["        help=(", *(f"            {literal(piece)}" for piece in pieces), "        ),"]
    else:
        help_lines = [help_line]
    return [
        "    parser.add_argument(",
        f'        "{spec.flag}", {kind}, default={literal(value)},',
        *help_lines,
        "    )",
    ]

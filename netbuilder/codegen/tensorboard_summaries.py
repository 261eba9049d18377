"""What a run writes to TensorBoard, and under which tags: one scheme for the window, `netbuilder train` and the
exported train.py, so `tensorboard --logdir` shows their runs side by side.

The exported train.py carries these functions by their source (as it carries classification_report) and the
app's listener (training/tensorboard_log.py) calls them, so both write the same tags. They take the writer
(torch.utils.tensorboard's SummaryWriter) as an argument: this module imports neither torch nor tensorboard.

Tags: `loss/train_step`, every step's training loss at its global step (counted from 1); per epoch, at the
epoch's number, `<metric>/<part>` for each figure the run history keeps (`loss/train`, `loss/val`,
`accuracy/train`, `accuracy/val`, `top5_accuracy/val`, `mae/val`, `rmse/val`, `r2/val`) and `learning_rate`;
at the end `final/<figure>` with the run's hyperparameters, which the HPARAMS tab shows; and the model's graph.
"""

from __future__ import annotations

import contextlib
import io
import warnings


def log_step_losses(writer, losses: list[float], first_step: int) -> None:
    """Every step's training loss as `loss/train_step`, the first of `losses` at global step `first_step`."""
    for step, loss in enumerate(losses, start=first_step):
        writer.add_scalar("loss/train_step", loss, step)


def log_epoch(writer, record: dict) -> None:
    """One epoch's figures (epoch, train_loss, val_accuracy ..., learning_rate, as history.json keeps them) at
    the epoch's number: `train_loss` as `loss/train` and `val_loss` as `loss/val`, so that one chart of
    TensorBoard holds a metric's training and validation curves; a figure that is None (no validation part)
    is left out."""
    for name, value in record.items():
        part, _, metric = name.partition("_")
        if name != "epoch" and value is not None:
            writer.add_scalar(f"{metric}/{part}" if part in ("train", "val") else name, value, record["epoch"])


def run_hparams(settings: dict, optimizer, swept: dict) -> dict:
    """The run's hyperparameters: the training settings, the optimizer's class and learning rate as the run
    starts (a one-cycle schedule's peak, its max_lr), and the swept values by what they set (fc1.out_features);
    a value that is not a number, text or truth value is shown as text."""
    group = optimizer.param_groups[0]
    lr = group.get("max_lr", group.get("initial_lr", group["lr"]))  # a schedule keeps the starting rate there
    found = {**settings, "optimizer": type(optimizer).__name__, "lr": lr, **swept}
    return {name: value if isinstance(value, bool | int | float | str) else str(value) for name, value in found.items()}


def log_run_end(writer, hparams: dict, final: dict) -> None:
    """The last epoch's figures as `final/<figure>` with the run's hyperparameters, in this run's own folder
    (so the HPARAMS tab lists the run under its own name), then everything written to disk."""
    metrics = {f"final/{name}": value for name, value in final.items() if name != "epoch" and value is not None}
    writer.add_hparams(hparams, metrics, run_name=".", global_step=final.get("epoch", 0))
    writer.flush()


def log_graph(writer, model, batch_x) -> str:
    """The model's graph, traced on `batch_x` in eval mode (nothing learns, no random number is drawn); a
    network the tracer cannot follow is left out, and the reason comes back in one line ("" once written)."""
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):  # the tracer's own notes
            warnings.simplefilter("ignore")
            writer.add_graph(model, batch_x)
    except Exception as err:  # never a reason to stop the run
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return f"TensorBoard: the model's graph was left out: {type(err).__name__}: {reason}"
    return ""

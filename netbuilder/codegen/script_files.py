"""How train.py keeps its files: each written all at once (`save_atomically`), the checkpoint that `--resume`
goes on from, saved and read back, and out/metrics.json (`write_metrics`, for classes or for values); and how
much of a run writing checkpoints may take (`WRITING_SHARE`), in train.py and in the app alike."""

from __future__ import annotations

WRITING_SHARE = 0.05  # at most about this share of a run's time goes to writing its checkpoints (app and train.py)

SAVE_ATOMICALLY = '''\
def save_atomically(path: str, contents) -> None:
    """Save `contents` at `path` all at once (bytes as they are, anything else with torch.save): into path.tmp,
    synced to the disk, then renamed over `path`, so a run stopped while saving, or a full disk, leaves the
    previous file whole."""
    temporary = path + ".tmp"
    try:
        with open(temporary, "wb") as file:
            if isinstance(contents, bytes):
                file.write(contents)
            else:
                torch.save(contents, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise'''

SAVE_CHECKPOINT = '''\
def save_checkpoint(path: str, run: dict, parts: dict) -> None:
    """Save what `python train.py --resume PATH` needs to go on after this epoch: where the run stands, the state
    of each part (model, optimizer, schedule, random generators) and torch's own random state."""
    checkpoint = {
        name: part.get_state() if isinstance(part, torch.Generator) else part.state_dict()
        for name, part in parts.items()
    }
    checkpoint["run"] = run
    checkpoint["rng"] = torch.get_rng_state()
    checkpoint["cuda_rng"] = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
    save_atomically(path, checkpoint)'''

LOAD_CHECKPOINT = '''\
def load_checkpoint(path: str, parts: dict) -> dict:
    """Put each part back as the checkpoint at `path` saved it, and say where the run stood. It is read with
    weights_only: a checkpoint holds tensors and numbers, and nothing in it is run. A file that is not such a
    checkpoint of this network ends the script with one line saying why."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        for name, part in parts.items():
            if isinstance(part, torch.Generator):
                part.set_state(checkpoint[name])
            else:
                part.load_state_dict(checkpoint[name])
        torch.set_rng_state(checkpoint["rng"])
        if checkpoint["cuda_rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(checkpoint["cuda_rng"])
        return checkpoint["run"]
    except Exception as err:  # missing, truncated, another network's or not a checkpoint at all
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise SystemExit(f"--resume {path}: cannot go on from it: {type(err).__name__}: {reason}") from None'''

WRITE_CLASS_METRICS = '''\
def write_metrics(out: str, run: dict) -> None:
    """Print the last validation's figures per class and write out/metrics.json: the last epoch's metrics,
    the class names, the confusion matrix (rows: the true class, columns: the predicted one) and the per-class
    precision, recall, F1 and support with their averages."""
    metrics = {"epochs_done": run["epochs_done"], **(run["history"][-1] if run["history"] else {})}
    confusion = run.get("confusion")  # None without a validation part
    if confusion is not None:
        report = classification_report(confusion)
        print(report_table(report, CLASS_NAMES))
        metrics.update(class_names=CLASS_NAMES, confusion=confusion, report=report)
    save_atomically(os.path.join(out, "metrics.json"), json.dumps(metrics, indent=1).encode())'''

WRITE_VALUE_METRICS = '''\
def write_metrics(out: str, run: dict) -> None:
    """Print the last validation's errors and write out/metrics.json: the last epoch's metrics, with the
    validation MAE, RMSE and R²."""
    metrics = {"epochs_done": run["epochs_done"], **(run["history"][-1] if run["history"] else {})}
    if "val_mae" in metrics:
        print(f"validation: MAE {metrics['val_mae']:.4g}  RMSE {metrics['val_rmse']:.4g}  R² {metrics['val_r2']:.4g}")
    save_atomically(os.path.join(out, "metrics.json"), json.dumps(metrics, indent=1).encode())'''

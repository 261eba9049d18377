"""The runs of a project: each finished run's settings, curves, final metrics and status, kept as one JSON file
per run in a folder beside the project file (`digits.nbproj` -> `digits.runs/2025-06-01_14-05-22.json`), with
that run's weights and checkpoints in a folder of the same name, and `digits.runs/latest` naming the folder of
the last run that finished (see latest_run.py). Plain JSON only: nothing read back is
executed. A project that was never saved keeps its runs in memory until it is.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from netbuilder.atomic_file import sweep_stale_temporaries, write_atomically
from netbuilder.project.latest_run import latest_run, point_latest

MAX_RUNS = 100  # records kept (a record is small): enough for a few sweeps beside a day's runs
MAX_RUNS_WITH_FILES = 10  # the newest runs that keep their weights and checkpoints (starred ones always do)
TENSORBOARD_FOLDER = "tensorboard"  # the window's TensorBoard logs: RUNS/tensorboard/<run id>/, one logdir
MAX_NAME_CHARS = 80  # a run's name, as a person gives it in the Runs view
FINISHED = ("completed", "early-stopped")  # the runs that may move `latest` and drop the oldest
RECORD_FORMAT = 1
MAX_STEP_POINTS = 500  # the step-loss curve of a past run is kept this coarse: it is only drawn faintly
_RUN_NAME = re.compile(r"^\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d(-\d+)?$")


def runs_folder(project_path: Path) -> Path:
    """Where the runs of the project saved at `project_path` live."""
    return project_path.with_name(project_path.stem + ".runs")


def sweep_interrupted_writes(project_path: Path) -> list[Path]:
    """Remove what writes killed an hour or more ago left beside the project file and among its runs (a save,
    a checkpoint or a weights file cut short, a `latest` pointer half made): their temporary files. The files
    removed."""
    runs = runs_folder(project_path)
    folders = [project_path.parent, runs]
    if runs.is_dir():
        folders += [path for path in runs.iterdir() if _RUN_NAME.match(path.name) and path.is_dir()]
        folders += [path / "checkpoints" for path in folders[2:]]
    return [removed for folder in folders for removed in sweep_stale_temporaries(folder)]


def new_run_id(now: float | None = None, taken: set[str] = frozenset()) -> str:
    """A file-name-safe id from the start time, sorting in time order; '-2', '-3' ... on a clash."""
    base = time.strftime("%Y-%m-%d_%H-%M-%S", time.localtime(now))
    run_id, n = base, 1
    while run_id in taken:
        n += 1
        run_id = f"{base}-{n}"
    return run_id


@dataclass
class RunRecord:
    """One run as it ended. `history` holds one dict per epoch (epoch, train_loss, train_accuracy, val_loss,
    val_<metric>..., learning_rate), `steps` the smoothed step losses as [step, loss] pairs (coarsened),
    `weights` and `checkpoint` paths relative to the runs folder (None when not saved). A classifier's last
    validated epoch (`final`) keeps its `confusion` matrix and its per-class figures, `report` (as
    classification_report gives them; None in records written before runs kept it): one matrix a run, never one
    an epoch, so a record stays small however long the run.

    `project` is the project as its file held it when the run started (graph, definitions, training settings;
    None in older records): what the Runs view compares with the current graph and opens again. `name` and
    `starred` are the person's (a starred run keeps its files however many runs follow); `sweep` says which
    sweep the run belongs to and the values it tried (`{"id": ..., "values": {"optimizer.lr": 0.01}}`; the
    sweep's best run so far has `"best": True`, and keeps its files as a starred run does)."""

    run_id: str
    status: str
    message: str = ""
    started: float = 0.0
    seconds: float = 0.0
    device: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    epochs_done: int = 0
    global_step: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    steps: list[list[float]] = field(default_factory=list)
    final: dict[str, Any] = field(default_factory=dict)
    confusion: list[list[int]] | None = None
    report: dict[str, Any] | None = None
    class_names: list[str] = field(default_factory=list)
    weights: str | None = None
    checkpoint: str | None = None
    project: dict[str, Any] | None = None
    name: str = ""
    starred: bool = False
    sweep: dict[str, Any] | None = None

    @property
    def title(self) -> str:
        """What the Runs view and a legend call the run: its name, else its id."""
        return self.name or self.run_id

    def to_dict(self) -> dict[str, Any]:
        return _finite(
            {
                "format": RECORD_FORMAT,
                "run_id": self.run_id,
                "status": self.status,
                "message": self.message,
                "started": self.started,
                "seconds": self.seconds,
                "device": self.device,
                "settings": self.settings,
                "epochs_done": self.epochs_done,
                "global_step": self.global_step,
                "history": self.history,
                "steps": self.steps,
                "final": self.final,
                "confusion": self.confusion,
                "report": self.report,
                "class_names": self.class_names,
                "weights": self.weights,
                "checkpoint": self.checkpoint,
                "project": self.project,
                "name": self.name,
                "starred": self.starred,
                "sweep": self.sweep,
            }
        )

    def to_json(self) -> str:
        """The record as its file holds it (`<run id>.json`, or `netbuilder train --out`'s metrics.json)."""
        return json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n"

    @classmethod
    def from_dict(cls, data: Any) -> RunRecord:
        """A record from JSON values; ValueError when it is not one (the caller skips such a file)."""
        if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
            raise ValueError("not a run record of a format this netbuilder reads")
        try:
            return cls(
                run_id=str(data["run_id"]),
                status=str(data["status"]),
                message=str(data.get("message", "")),
                started=float(data.get("started", 0.0)),
                seconds=float(data.get("seconds", 0.0)),
                device=str(data.get("device", "")),
                settings=dict(data.get("settings") or {}),
                epochs_done=int(data.get("epochs_done", 0)),
                global_step=int(data.get("global_step", 0)),
                history=[_numbers(e) for e in data.get("history") or [] if isinstance(e, dict)],
                steps=[[float(s), _float(v)] for s, v in data.get("steps") or []],
                final=_numbers(data.get("final") or {}),
                confusion=[[int(c) for c in row] for row in data["confusion"]] if data.get("confusion") else None,
                report=_report(data.get("report")),
                class_names=[str(n) for n in data.get("class_names") or []],
                weights=_relative(data.get("weights")),
                checkpoint=_relative(data.get("checkpoint")),
                project=data["project"] if isinstance(data.get("project"), dict) else None,
                name=str(data.get("name") or "")[:MAX_NAME_CHARS],
                starred=data.get("starred") is True,
                sweep=_sweep(data.get("sweep")),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"malformed run record: {err}") from None


class RunHistory:
    """The last MAX_RUNS runs of one project, oldest first; on disk when the project has a path."""

    def __init__(self, project_path: Path | None) -> None:
        self.project_path = project_path
        self.records: list[RunRecord] = []
        if project_path is not None:
            self.records = self._read()

    @property
    def folder(self) -> Path | None:
        return runs_folder(self.project_path) if self.project_path is not None else None

    def run_dir(self, run_id: str) -> Path | None:
        """The folder for a run's weights and checkpoints (None for a project never saved)."""
        folder = self.folder
        return folder / run_id if folder is not None else None

    def file_path(self, record: RunRecord, name: str | None) -> Path | None:
        """A file a record names (its weights or checkpoint), if it is still there."""
        folder = self.folder
        if folder is None or not name:
            return None
        path = folder / name
        return path if path.is_file() else None

    def continuable(self) -> tuple[RunRecord, Path] | None:
        """The last run and its checkpoint, when it was stopped and its checkpoint is still there (Continue)."""
        last = self.records[-1] if self.records else None
        if last is None or last.status != "stopped":
            return None
        checkpoint = self.file_path(last, last.checkpoint)
        return (last, checkpoint) if checkpoint is not None else None

    def relative(self, path: Path | None) -> str | None:
        """A run's file as its record names it: relative to the runs folder, or None for a file kept
        elsewhere (a project never saved, `netbuilder train --out DIR`, a save under a new name mid-run)."""
        folder = self.folder
        if path is None or folder is None or not path.is_relative_to(folder):
            return None
        return path.relative_to(folder).as_posix()

    def new_id(self, now: float | None = None, also: Collection[str] = ()) -> str:
        """A new run's id, taken by no run kept, no file in the runs folder, nor any of `also` (runs begun but
        not kept yet: a sweep's runs at once)."""
        taken = {r.run_id for r in self.records} | set(also)
        folder = self.folder
        if folder is not None and folder.is_dir():
            taken |= {p.stem for p in folder.iterdir()}
        return new_run_id(now, taken)

    def add(self, record: RunRecord) -> None:
        """Keep a run that ended (written at once when the project has a path; OSError when it cannot be).

        A run that finished (completed or early-stopped) with its folder in the runs folder becomes the one
        `latest` names, and only a finished run drops the oldest runs beyond MAX_RUNS, their weights with them,
        and the files of those beyond MAX_RUNS_WITH_FILES, never the run `latest` names nor a starred one: a
        failed or stopped run never removes an earlier run's files (a stopped one is kept to go on from,
        without moving `latest`)."""
        self.records.append(record)
        folder = self.folder
        if folder is None:
            self.records = self.records[-MAX_RUNS:]
            return
        self._write(record)
        if record.status not in FINISHED:
            return
        if (folder / record.run_id).is_dir():
            point_latest(folder, folder / record.run_id)
        self._prune()

    def update(self, record: RunRecord) -> None:
        """Keep a changed record of a run already here (renamed, starred), written at once (OSError when it
        cannot be). A name is cut to MAX_NAME_CHARS."""
        record = replace(record, name=record.name.strip()[:MAX_NAME_CHARS])
        index = next(i for i, kept in enumerate(self.records) if kept.run_id == record.run_id)
        self.records[index] = record
        if self.folder is not None:
            self._write(record)

    def remove(self, run_id: str) -> None:
        """Delete a run: its record and its folder of weights and checkpoints. `latest`, if it named the run,
        names the newest finished run still here (or nothing)."""
        self.records = [r for r in self.records if r.run_id != run_id]
        folder = self.folder
        if folder is None:
            return
        named_latest = latest_run(folder)
        self._delete(run_id)
        if named_latest is not None and named_latest.name == run_id:
            (folder / "latest").unlink(missing_ok=True)
            finished = [r for r in self.records if r.status in FINISHED and (folder / r.run_id).is_dir()]
            if finished:
                point_latest(folder, folder / finished[-1].run_id)

    def set_project_path(self, path: Path | None) -> None:
        """The project was saved (perhaps under a new name): its runs go with it from now on; those kept so
        far are written into the new folder (weights stay where they were)."""
        if path == self.project_path or path is None:
            return
        self.project_path = path
        existing = {r.run_id for r in self._read()}
        for record in self.records:
            if record.run_id not in existing:
                self._write(replace(record, weights=None, checkpoint=None))

    # ---- disk ------------------------------------------------------------------------------------------

    def _read(self) -> list[RunRecord]:
        folder = self.folder
        if folder is None or not folder.is_dir():
            return []
        records = []
        named = [path for path in folder.glob("*.json") if _RUN_NAME.match(path.stem)]
        for path in sorted(named, key=lambda path: _start_order(path.stem)):
            try:
                records.append(RunRecord.from_dict(json.loads(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError):
                continue  # a damaged or foreign file is left alone, and the other runs still show
        return records  # bounded by _prune: MAX_RUNS, the starred ones and `latest`

    def _write(self, record: RunRecord) -> None:
        folder = self.folder
        folder.mkdir(parents=True, exist_ok=True)
        write_atomically(folder / f"{record.run_id}.json", record.to_json().encode("utf-8"))

    def _prune(self) -> None:
        """Drop the runs on disk older than the newest MAX_RUNS, and the files (weights, checkpoints) of those
        older than the newest MAX_RUNS_WITH_FILES, their records saying so; never the run `latest` names, a
        starred one, nor the best run of a sweep (whose weights its table names)."""
        folder = self.folder
        ids = sorted((p.stem for p in folder.glob("*.json") if _RUN_NAME.match(p.stem)), key=_start_order)
        latest = latest_run(folder)
        kept = {r.run_id for r in self.records if r.starred or (r.sweep or {}).get("best")}
        kept.add(latest.name if latest else "")
        for run_id in ids[:-MAX_RUNS]:
            if run_id not in kept:
                self._delete(run_id)
        for run_id in ids[-MAX_RUNS:-MAX_RUNS_WITH_FILES]:
            run_dir = folder / run_id
            if run_id not in kept and run_dir.is_dir():
                shutil.rmtree(run_dir, ignore_errors=True)
                self._forget_files(run_id)
        self.records = self._read()

    def _forget_files(self, run_id: str) -> None:
        """Rewrite a run's record without the files just removed, so nothing offers weights that are gone."""
        path = self.folder / f"{run_id}.json"
        try:
            record = RunRecord.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return
        self._write(replace(record, weights=None, checkpoint=None))

    def _delete(self, run_id: str) -> None:
        if not _RUN_NAME.match(run_id):  # only ever what new_run_id named
            return
        folder = self.folder
        (folder / f"{run_id}.json").unlink(missing_ok=True)
        for run_files in (folder / run_id, folder / TENSORBOARD_FOLDER / run_id):  # its logs go with it
            if run_files.is_dir():
                shutil.rmtree(run_files, ignore_errors=True)


def _start_order(run_id: str) -> tuple[str, int]:
    """Runs in the order they started: by time, then by the '-2', '-3' ... of runs started in the same second
    (a plain sort of names puts '...-05-2' before '...-05', since '-' comes before '.json''s dot)."""
    base, n = run_id[:19], run_id[20:]  # "YYYY-MM-DD_hh-mm-ss", then "-n" or nothing
    return base, int(n) if n else 1


def coarsen(steps: Sequence[float], losses: Sequence[float], points: int = MAX_STEP_POINTS) -> list[list[float]]:
    """At most `points` [step, loss] pairs spread evenly over a curve (always keeping its last point)."""
    n = len(steps)
    if n == 0:
        return []
    stride = max(1, math.ceil(n / points))
    kept = list(range(0, n, stride))
    if kept[-1] != n - 1:
        kept.append(n - 1)
    return [[float(steps[i]), float(losses[i])] for i in kept]


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: such numbers (a loss that blew up) become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def _numbers(data: dict[str, Any]) -> dict[str, Any]:
    """A metrics dict read back: numbers and nulls (no value, or not a finite one) kept, anything else dropped."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            out[str(key)] = value
    return out


def _report(data: Any) -> dict[str, Any] | None:
    """A record's per-class figures read back, as classification_report gave them (numbers under its keys); None
    where there are none (an older record, a regression run) or where they are damaged: the run still shows,
    with its matrix, from which the window can read them again."""
    if not isinstance(data, dict) or not isinstance(data.get("classes"), list):
        return None
    figures = ("precision", "recall", "f1")
    try:
        classes = [
            {**{name: float(row[name]) for name in figures}, "support": int(row["support"])} for row in data["classes"]
        ]
        averages = {key: {name: float(data[key][name]) for name in figures} for key in ("macro", "weighted")}
        return {"classes": classes, **averages, "accuracy": float(data["accuracy"]), "support": int(data["support"])}
    except (KeyError, TypeError, ValueError):
        return None


def _sweep(data: Any) -> dict[str, Any] | None:
    """A record's sweep read back: its id and the values it tried (numbers, strings, booleans), or None."""
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not isinstance(data.get("values"), dict):
        return None
    values = {str(k): v for k, v in data["values"].items() if isinstance(v, int | float | str | bool)}
    return {**{k: v for k, v in data.items() if isinstance(v, int | float | str | bool)}, "values": values}


def _relative(value: Any) -> str | None:
    """A path inside the runs folder, or None: an absolute path or one climbing out with '..' is refused."""
    if not isinstance(value, str) or not value:
        return None
    path = Path(value)
    if path.is_absolute() or ".." in path.parts:
        return None
    return value

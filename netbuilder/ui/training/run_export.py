"""The Runs view's exports: the table as CSV (the rows and columns as shown, plain numbers) and the overlaid
curves as PNG or SVG, each written atomically (a temporary file beside the target, then renamed), after asking
where; what was written, or why not, goes to the view's message line."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtWidgets import QFileDialog

from netbuilder.atomic_file import write_atomically
from netbuilder.ui.training.runs_overlay import RunsOverlay
from netbuilder.ui.training.runs_table import PLAIN_ROLE, STAR

if TYPE_CHECKING:
    from netbuilder.ui.training.runs_view import RunsView

PICTURE_FILTER = "PNG image (*.png);;SVG drawing (*.svg)"
TABLE_FILTER = "CSV table (*.csv)"


def table_csv(model: QAbstractItemModel, columns: list[int]) -> str:
    """The model's rows (in its order: the proxy's, sorted and filtered) under the headers of `columns` (the
    table's visible columns, in their visual order); each cell's plain value: numbers without units, the star
    as 1 or 0, times as YYYY-MM-DD hh:mm:ss."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    headers = [model.headerData(column, Qt.Orientation.Horizontal) for column in columns]
    writer.writerow(["starred" if column == STAR else header for column, header in zip(columns, headers, strict=True)])
    for row in range(model.rowCount()):
        writer.writerow([model.index(row, column).data(PLAIN_ROLE) for column in columns])
    return out.getvalue()


def write_table(model: QAbstractItemModel, columns: list[int], path: Path) -> Path:
    """The CSV of `table_csv` at `path` (UTF-8); OSError when it cannot be written."""
    write_atomically(path, table_csv(model, columns).encode("utf-8"))
    return path


def picture_path(path: Path, chosen_filter: str) -> Path:
    """The path a file dialog gave, ending in .png or .svg: its own suffix when it has one of them, else the
    chosen filter's."""
    if path.suffix.lower() in (".png", ".svg"):
        return path
    return path.with_name(path.name + (".svg" if "svg" in chosen_filter.lower() else ".png"))


def write_picture(overlay: RunsOverlay, path: Path) -> Path:
    """The overlay and its legend as PNG or SVG, by the path's suffix; OSError when it cannot be written."""
    data = overlay.svg_bytes() if path.suffix.lower() == ".svg" else overlay.png_bytes()
    write_atomically(path, data)
    return path


def _start_folder(view: RunsView) -> Path:
    return view.document.path.parent if view.document.path is not None else Path()


def export_table(view: RunsView) -> None:
    """The view's table as shown to a CSV file the person names."""
    default = str(_start_folder(view) / f"{view.document.project.name} runs.csv")
    chosen, _ = QFileDialog.getSaveFileName(view, "Export the runs as CSV", default, TABLE_FILTER)
    if not chosen:
        return
    path = Path(chosen) if chosen.lower().endswith(".csv") else Path(chosen + ".csv")
    try:
        write_table(view.proxy, view.visible_columns(), path)
    except OSError as err:
        view.message.emit(f"The table was not written to {path}: {err.strerror or err}")
        return
    view.message.emit(f"Wrote {path}")


def export_curves(view: RunsView) -> None:
    """The view's overlaid curves with their legend to a PNG or SVG file the person names."""
    overlay = view.ensure_overlay()
    default = str(_start_folder(view) / f"{view.document.project.name} curves.png")
    chosen, chosen_filter = QFileDialog.getSaveFileName(view, "Export the curves", default, PICTURE_FILTER)
    if not chosen:
        return
    path = picture_path(Path(chosen), chosen_filter)
    try:
        write_picture(overlay, path)
    except OSError as err:
        view.message.emit(f"The curves were not written to {path}: {err.strerror or err}")
        return
    view.message.emit(f"Wrote {path}")

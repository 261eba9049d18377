"""File > Export, File > Export Diagram and File > Import Model, from the dialog to the report (part of
MainWindow)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from netbuilder.analysis import Diagnostic
from netbuilder.codegen.model_code import CodegenError
from netbuilder.pipeline import write_code_package
from netbuilder.project import copy_project
from netbuilder.project.import_gaps import gaps_headline
from netbuilder.ui.canvas.diagram_export import DiagramExportError, export_diagram, export_diagrams
from netbuilder.ui.import_export.export_dialog import ExportChoice, ExportDialog
from netbuilder.ui.import_export.model_import_dialog import ModelImportDialog
from netbuilder.ui.widgets.text import sentence

DIAGRAM_FILTER = "SVG drawing (*.svg);;PNG image (*.png)"


class ImportExportMixin:
    """The window's side of importing and exporting: the dialogs open window-modal (not exec, so the window
    keeps painting); the code package and diagrams are written at once, the formats and starting weights by the
    FormatExporter off the window's thread, an import by the ModelImporter; what was written goes to the status
    bar, what failed to the banner above the canvas."""

    def export_dialog(self) -> None:
        """File > Export: the folder and formats in a window-modal dialog (not exec), so the window keeps painting."""
        if self.document is None:
            return
        start = str(self.document.path.parent / f"{self.document.path.stem}_export") if self.document.path else ""
        self.export_dialog_box = ExportDialog(self.settings, start, self.last_run_weights(), self)
        self.export_dialog_box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.export_dialog_box.accepted.connect(self._export_accepted)
        self.export_dialog_box.destroyed.connect(self._export_dialog_gone)
        self.export_dialog_box.open()

    def last_run_weights(self) -> tuple[str, Path] | None:
        """(run id, weights file) of the newest run that kept its weights, as the Predict tab picks it."""
        history = self.training.history if self.training is not None else None
        if history is None:
            return None
        for record in reversed(history.records):
            weights = history.file_path(record, record.weights)
            if weights is not None:
                return record.run_id, weights
        return None

    def _export_accepted(self) -> None:
        choice = self.export_dialog_box.choice()
        self.export_to(choice.folder, choice.formats, choice.weights, choice.diagrams)

    def _export_dialog_gone(self) -> None:
        self.export_dialog_box = None

    def export_to(
        self,
        folder: Path,
        formats: tuple[str, ...] = (),
        weights: Path | None = None,
        diagrams: tuple[str, ...] = (),
    ) -> bool:
        """Write the code package and `diagrams` ("svg", "png": this canvas drawn, on this thread as Qt wants)
        now, then `formats` (netbuilder.export's names) and the project's starting weights, which the package's
        train.py loads, on a thread; the outcome is said in the status bar, and what failed in the banner above
        the canvas. False when nothing was written."""
        project = self.document.project
        if (formats or project.weights is not None) and self.exporter.running:
            self.statusBar().showMessage("An export is still being written; try again when it is done", 6000)
            return False
        choice = ExportChoice(folder, tuple(formats), weights, tuple(diagrams))
        analysis = self.document.reanalyze()
        errors = analysis.errors(training=False)
        if errors:  # the model's code would silently stop before the first of them: `netbuilder export` refuses too
            QMessageBox.warning(self, "Nothing exported", self._refusal(errors))
            return False
        if project.import_gaps:  # the import left out calls; where the last of forward() is one, nothing errs
            QMessageBox.warning(self, "Nothing exported", self._gaps_refusal(len(project.import_gaps)))
            return False
        try:
            export = write_code_package(
                project,
                folder,
                analysis=analysis,
                weights_format="safetensors" if choice.package_holds_safetensors else "pt",
            )
        except CodegenError as err:
            QMessageBox.warning(self, "Nothing exported", f"{err}\n\nThe Problems tab lists what to fix.")
            return False
        except OSError as err:
            QMessageBox.critical(self, "Cannot export", f"Could not write to {folder}:\n\n{err}")
            return False
        drawn = export_diagrams(self.scene, folder, choice.diagrams).values()
        written = export.written + [result.path for result in drawn if result.ok]
        failures = [result.error for result in drawn if not result.ok]
        text = f"Wrote {', '.join(p.name for p in written)} to {folder}"
        if export.package.training_skipped:
            QMessageBox.information(self, "Exported the model", f"{text}.\n\n{export.package.training_skipped}")
        choice = replace(choice, starting_weights=export.needs_starting_weights)
        if choice.needs_thread:
            self._exporting_package, self._export_failures = written, failures
            self.exporter.start(copy_project(project), choice)  # the graph may be edited meanwhile
            text += "; writing the other formats…" if choice.formats else "; writing the starting weights…"
        elif failures:
            self._report_export_failures(failures)
        self.statusBar().showMessage(text, 6000)
        return True

    def _refusal(self, errors: list[Diagnostic]) -> str:
        """Why nothing was exported: the first of the model's errors, where it is, and where the rest are."""
        first = errors[0]
        node = self.document.graph.nodes.get(first.node) if first.node is not None else None
        where = f"{node.label}: " if node is not None else ""
        more = f" and {len(errors) - 1} more" if len(errors) > 1 else ""
        return (
            f"{where}{first.message}\n\nThe model cannot be exported while it has errors: fix this one{more} "
            "first (the Problems tab lists them)."
        )

    @staticmethod
    def _gaps_refusal(count: int) -> str:
        """Why nothing was exported while the import's list of missing calls stands."""
        return (
            f"{sentence(gaps_headline(count))}\n\nThe model cannot be exported while they are missing: add what "
            "they compute (Show in the banner above the canvas lists them), then Dismiss the list there."
        )

    def _formats_exported(self, results: dict, error: str, checked: list[str]) -> None:
        """The formats are written: the files in the status bar, each failure (node and reason) in the banner, and
        with a run's weights how each file did on the validation split."""
        written = [*self._exporting_package, *(r.path for r in results.values() if r.ok)]
        failures = [*self._export_failures, *(r.error for r in results.values() if not r.ok)]
        self._exporting_package, self._export_failures = [], []
        folder = written[0].parent if written else None
        self.statusBar().showMessage(f"Wrote {', '.join(p.name for p in written)} to {folder}", 10000)
        if error:
            failures.append(error)
        if failures:
            self._report_export_failures(failures, checked)
        elif checked:
            self.import_report.show_report("Checked on the validation split:\n" + "\n".join(checked), error=False)

    def _report_export_failures(self, failures: list[str], checked: list[str] = ()) -> None:
        checks = "\n\nChecked on the validation split:\n" + "\n".join(checked) if checked else ""
        self.import_report.show_report("Not exported:\n" + "\n".join(failures) + checks, error=True)

    def import_model_dialog(self) -> None:
        """File > Import Model: the dialog opens window-modal (not exec), so the window keeps painting."""
        start = str(self.document.path.parent) if self.document and self.document.path else ""
        self.import_dialog = ModelImportDialog(self, start)
        self.import_dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.import_dialog.accepted.connect(self._import_accepted)
        self.import_dialog.destroyed.connect(self._import_dialog_gone)
        self.import_dialog.open()

    def _import_accepted(self) -> None:
        self.import_report.hide()
        self.importer.start(replace(self.import_dialog.request(), orientation=self.layout_orientation()))

    def _import_dialog_gone(self) -> None:
        self.import_dialog = None

    def _imported(self, imported) -> None:
        """An import finished (an ImportedModel): open it as a new, unsaved project; calls that did not map and
        weights that could not be loaded stay in view."""
        project = imported.result.project
        if not self._may_discard():
            self.statusBar().showMessage(f"The import of {project.name} was not opened", 6000)
            return
        self._set_project(project, modified=True)
        if imported.needs_attention:
            self.import_report.show_report(imported.report(), error=False)
            self.import_gaps_banner.set_held(True)  # the report lists the calls too; the banner once it is closed
        else:
            self.statusBar().showMessage(imported.report(), 8000)

    def _import_failed(self, message: str) -> None:
        self.import_report.show_report(message, error=True)

    def export_diagram_dialog(self) -> None:
        if self.scene is None:
            return
        folder = self.document.path.parent if self.document.path else Path.home()
        path, _ = QFileDialog.getSaveFileName(
            self, "Export diagram", str(folder / f"{self.document.title}.svg"), DIAGRAM_FILTER
        )
        if path:
            self.export_diagram_to(Path(path))

    def export_diagram_to(self, path: Path) -> bool:
        """Write the diagram (SVG or PNG by suffix; none means SVG) and say where it went."""
        if path.suffix.lower() not in (".svg", ".png"):
            path = path.with_name(path.name + ".svg")
        try:
            export_diagram(self.scene, path)
        except DiagramExportError as err:
            self.statusBar().showMessage(f"No diagram written: {err}", 8000)
            return False
        self.statusBar().showMessage(f"Wrote the diagram to {path}", 6000)
        return True

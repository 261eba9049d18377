"""The Training dock's tab of a run's validation figures drawn: for a classifier its ROC and precision-recall
curves ("ROC · PR"), for values its predictions against the true ones ("Fit").

Both are drawn from the predictions the Predict tab loads for the same run, made once for the two: this tab asks
for them (`PredictPanel.load`) when it is looked at and follows the Predict tab's `state_changed`; before any
run, while one goes on, while they load or when they cannot be made, it says so in a line.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from netbuilder.ui.editor.document import Document
from netbuilder.ui.training.fit_view import FitView
from netbuilder.ui.training.predict_panel import LOADING, PredictPanel
from netbuilder.ui.training.roc_pr_view import RocPrView

CLASSIFIER_TITLE = "ROC · PR"
CLASSIFIER_TIP = "ROC and precision-recall curves of the last run on its validation samples, for a class you choose"
VALUES_TITLE = "Fit"
VALUES_TIP = "The last run's predicted values against the true ones on its validation samples, with MAE, RMSE and R²"
NO_RUN = {
    True: "Train the network, then see here how well it ranks each class: ROC and precision-recall curves.",
    False: "Train the network, then see here its predicted values against the true ones.",
}
UNSAVED = "Save the project, then train: a saved project keeps the weights of its runs, and their figures show here."
RUNNING = "Training… When the run ends, its figures on the validation samples show here."


class EvaluationTab(QWidget):
    """The tab for one document, over its Predict tab (whose predictions it draws). The Training panel names
    the tab as `title_changed` says."""

    title_changed = Signal(str, str)  # (title, tooltip): "ROC · PR" for a classifier, "Fit" for values

    def __init__(self, predict_panel: PredictPanel, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.predict_panel = predict_panel
        self.document = document
        self.shown = None  # the Predictions drawn
        self.title = self.tip = ""
        self._in_view = False
        self._asked_for: str | None = None  # the run whose predictions were last asked for

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setMargin(12)
        self.roc_pr = RocPrView()
        self.fit = FitView()
        self.pages = QStackedWidget()
        for page in (self.message, self.roc_pr, self.fit):
            self.pages.addWidget(page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)

        predict_panel.state_changed.connect(self._follow)
        document.analysis_changed.connect(self._name_tab)
        self._follow()

    @property
    def classifier(self) -> bool:
        """Whether the tab is about classes: the predictions drawn say, else the project's training task."""
        if self.predict_panel.predictions is not None:
            return self.predict_panel.predictions.kind == "classification"
        task = self.document.analysis.training_task
        return task is None or task.classification

    def outcome_text(self) -> str:
        """What the tab says when it draws nothing (empty when it draws)."""
        return self.message.text() if self.pages.currentWidget() is self.message else ""

    # ---- following the Predict tab -----------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._in_view = True
        QTimer.singleShot(0, self._looked_at)  # a glimpse while the docks are arranged loads nothing

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self._in_view = False

    def _looked_at(self) -> None:
        """Still in view: ask for the run's predictions unless they are there or coming (what failed before is
        tried again, as the Predict tab does when it is looked at)."""
        panel, record = self.predict_panel, self.predict_panel.record
        if not self._in_view or not self.isVisible() or panel.running or record is None or panel.loading:
            return
        if panel.predictions is None or panel.loaded_run != record.run_id:
            self._asked_for = record.run_id
            panel.load()

    def _follow(self) -> None:
        """Show what the Predict tab holds for the run it shows, or say why there is nothing yet."""
        panel = self.predict_panel
        record = panel.record
        self._name_tab()
        if panel.running:
            self._say(RUNNING)
        elif record is None:
            self._say(UNSAVED if panel.history.folder is None else NO_RUN[self.classifier])
        elif panel.predictions is not None and panel.loaded_run == record.run_id:
            self._draw(panel.predictions)
        elif panel.failure and panel.loaded_run == record.run_id:
            self._say(panel.failure)
        else:
            self._say(LOADING)
            if self._in_view and self.isVisible() and not panel.loading and self._asked_for != record.run_id:
                # asked on the next turn: the Predict tab is still telling of its change
                self._asked_for = record.run_id
                QTimer.singleShot(0, panel.load)

    def _draw(self, predictions) -> None:
        if predictions is not self.shown:  # drawn once per load, however often the Predict tab speaks
            self.shown = predictions
            view = self.roc_pr if predictions.kind == "classification" else self.fit
            view.set_predictions(predictions)
        self.pages.setCurrentWidget(self.roc_pr if predictions.kind == "classification" else self.fit)

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.pages.setCurrentWidget(self.message)

    def _name_tab(self, *_: object) -> None:
        title, tip = (CLASSIFIER_TITLE, CLASSIFIER_TIP) if self.classifier else (VALUES_TITLE, VALUES_TIP)
        if title != self.title:
            self.title, self.tip = title, tip
            self.title_changed.emit(title, tip)

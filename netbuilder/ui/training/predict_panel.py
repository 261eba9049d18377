"""The Predict tab of the Training dock: after a run, the validation samples as a grid (images as images,
tables as a row of feature values, sequences as small lines, 2-D points in their plane), and for the chosen
one the true class, the predicted class and the probability of every class (or the predicted values beside
the true ones, for regression).

The predictions need torch, the run's weights and its data, so they are made by a BackgroundTask when the tab
is first looked at after a run (predict_loading), all at once: stepping, picking at random and showing only
the wrong ones are then instant, and the window never waits. They arrive as numpy arrays; drawing them is
sample_painting's, the grid sample_list's, the chosen sample chosen_sample's.
"""

from __future__ import annotations

import functools
import random
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QSignalBlocker, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QPalette, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from netbuilder.project import Project, copy_project
from netbuilder.project.run_history import RunHistory, RunRecord
from netbuilder.ui.background import BackgroundTask
from netbuilder.ui.editor.document import Document
from netbuilder.ui.training.chosen_sample import ProbabilityBars, SampleView
from netbuilder.ui.training.explanation_controls import ExplanationControls
from netbuilder.ui.training.explanation_loading import METHOD_NAMES, ExplanationRequest, explain_run_sample
from netbuilder.ui.training.feature_map_view import FeatureMapView
from netbuilder.ui.training.predict_loading import make_predictions
from netbuilder.ui.training.prediction_words import class_name, verdict_text
from netbuilder.ui.training.sample_list import THUMBNAIL, SampleListModel, shown_samples
from netbuilder.ui.training.sample_painting import SampleStyle, right_colour, wrong_colour
from netbuilder.ui.widgets.filter_chip import FilterChip
from netbuilder.ui.widgets.text import escape, sentence

NO_RUN = "Train the network, then pick validation samples here to see what it predicts for each of them."
UNSAVED = (
    "Save the project, then train: a saved project keeps the weights of its runs, and you can look at their "
    "predictions here."
)
RUNNING = "Training… When the run ends, pick validation samples here to see what the network predicts."
LOADING = "Loading the run's weights and its validation samples…"
MAX_CAPTION_WIDTH = 110  # longer class names are cut short under the thumbnails (whole in the tooltip)


class PredictPanel(QWidget):
    """The Predict tab for one document. The Training panel tells it when a run starts (`set_running`) and
    which run ended (`set_run`), and calls `shutdown()` (joins the loading task) before it goes away.
    Another tab that draws the same predictions asks for them with `load()` and follows `state_changed`."""

    state_changed = Signal()  # what the tab shows changed: its `predictions`, or a message in their place

    def __init__(self, document: Document, history: RunHistory, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.history = history
        self.record: RunRecord | None = next((r for r in reversed(history.records) if self._weights(r)), None)
        self.predictions = None
        self.style: SampleStyle | None = None
        self.loaded_run: str | None = None  # the run whose predictions are shown, being made, or failed
        self.failure = ""  # why the loaded run's predictions could not be made
        self.running = False
        self._task: BackgroundTask | None = None  # making the predictions of `loaded_run`
        self._explainer = None  # the run's network, kept once an explanation is asked for (a RunExplainer)
        self._explain_task: BackgroundTask | None = None  # making one explanation
        self._explain_wanted: ExplanationRequest | None = None  # asked for while another was being made
        self._in_view = False
        self._random = random.Random()

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setMargin(12)

        self.previous_button = QPushButton("Previous")
        self.previous_button.setToolTip("The sample before this one in the grid")
        self.previous_button.clicked.connect(lambda: self.step(-1))
        self.next_button = QPushButton("Next")
        self.next_button.setToolTip("The sample after this one in the grid")
        self.next_button.clicked.connect(lambda: self.step(1))
        self.random_button = QPushButton("Random")
        self.random_button.setToolTip("A sample picked at random from the grid")
        self.random_button.clicked.connect(self.pick_random)
        self.wrong_only = QCheckBox("Only wrong ones")
        self.wrong_only.setToolTip("Show only the samples whose class the network got wrong")
        self.wrong_only.toggled.connect(self._filter)
        self.cell: tuple[int, int] | None = None  # (true, predicted): the confusion-matrix cell the grid keeps to
        self.cell_chip = FilterChip("Show every sample again")
        self.cell_chip.cleared.connect(self.clear_cell)
        self.position = QLabel()
        self.position.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        # the words give way (their end cut off, whole in the tooltip) rather than widen the window when a chip shows
        self.position.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.position.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.position.setIndent(8)
        tools = QHBoxLayout()
        tools.setContentsMargins(6, 4, 6, 0)
        tools.setSpacing(4)
        for widget in (self.previous_button, self.next_button, self.random_button):
            tools.addWidget(widget)
        tools.addSpacing(8)
        tools.addWidget(self.wrong_only)
        tools.addWidget(self.cell_chip)
        tools.addWidget(self.position, 1)

        self.grid = QListView()
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setUniformItemSizes(True)
        self.grid.setLayoutMode(QListView.LayoutMode.Batched)
        self.grid.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
        self.grid.setGridSize(QSize(THUMBNAIL + 18, THUMBNAIL + 22))
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.grid.setWordWrap(False)
        self.grid.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.grid.setMinimumWidth(3 * (THUMBNAIL + 18) + 20)
        self.model = SampleListModel(self.grid)
        self.grid.setModel(self.model)
        self.grid.selectionModel().currentChanged.connect(self._current_changed)

        self.sample_view = SampleView()
        self.explanation = ExplanationControls()
        self.explanation.changed.connect(self._explain)
        self.explanation.opacity_changed.connect(
            lambda opacity: self.sample_view.set_explanation(self.sample_view.heat, opacity)
        )
        self.verdict = QLabel()
        self.verdict.setTextFormat(Qt.TextFormat.RichText)
        self.verdict.setWordWrap(True)
        self.verdict.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.bars = ProbabilityBars()
        answer = QVBoxLayout()
        answer.setContentsMargins(0, 6, 6, 6)
        answer.setSpacing(4)
        answer.addWidget(self.verdict)
        answer.addWidget(self.bars, 1)

        body = QHBoxLayout()
        body.setContentsMargins(6, 0, 0, 0)
        body.setSpacing(6)
        body.addWidget(self.grid, 3)
        chosen = QVBoxLayout()
        chosen.setContentsMargins(0, 0, 0, 0)
        chosen.setSpacing(0)
        chosen.addWidget(self.sample_view, 1)
        chosen.addWidget(self.explanation)
        body.addLayout(chosen)
        body.addLayout(answer, 4)
        self.feature_map = FeatureMapView()  # what a node clicked on the canvas gives for the chosen sample
        body.addWidget(self.feature_map, 6)

        self.content = QWidget()
        content_layout = QVBoxLayout(self.content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.setSpacing(4)
        content_layout.addLayout(tools)
        content_layout.addLayout(body, 1)

        self.pages = QStackedWidget()
        self.pages.addWidget(self.message)
        self.pages.addWidget(self.content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)
        self._refresh()

    # ---- what the Training panel tells it ----------------------------------------------------------------

    def set_running(self, running: bool) -> None:
        """While a run goes on, the tab says so and waits; once it has ended, the new run's predictions load
        (when the tab is in view)."""
        self.running = running
        if running:
            self._say(RUNNING)
        else:
            self._refresh()

    def set_run(self, record: RunRecord | None) -> None:
        """A run ended: it becomes the run shown, if it kept its weights."""
        if record is not None and self._weights(record) is not None:
            self.record = record
            self._refresh()

    def show_cell(self, true: int, predicted: int) -> None:
        """Keep the grid to the samples of one confusion-matrix cell (a click on it), shown in a chip that
        clears it; until the run's predictions are there, they are kept to it once they come."""
        self.cell = (true, predicted)
        with QSignalBlocker(self.wrong_only):
            self.wrong_only.setChecked(False)
        self._filter(False)

    def clear_cell(self) -> None:
        """Every sample again (the chip's ✕)."""
        self.cell = None
        self.cell_chip.hide()
        self._filter(self.wrong_only.isChecked())

    def shutdown(self) -> None:
        """Join the loading and explaining tasks (the document is going away)."""
        if self._task is not None:
            self._task.join()
            self._task = None
        if self._explain_task is not None:
            self._explain_task.join()
            self._explain_task = None
        self.feature_map.shutdown()

    @property
    def loading(self) -> bool:
        """Whether predictions are being made."""
        return self._task is not None

    def load(self) -> None:
        """Make the predictions of the run shown even though this tab is out of view (another tab that draws
        them is looked at), so that they are made once for both; what failed before is tried again."""
        if self.predictions is None and self._task is None:
            self.loaded_run = None
        self._refresh(wanted=True)

    # ---- stepping --------------------------------------------------------------------------------------

    @property
    def current_sample(self) -> int | None:
        """The validation sample shown (its number in the validation part), or None."""
        index = self.grid.currentIndex()
        return self.model.rows[index.row()] if index.isValid() else None

    def select(self, sample: int) -> None:
        """Show this validation sample (it must be in the grid)."""
        row = self.model.rows.index(sample)
        index = self.model.index(row)
        self.grid.setCurrentIndex(index)
        self.grid.scrollTo(index)

    def step(self, offset: int) -> None:
        """The next or previous sample of the grid, going round at the ends."""
        rows = self.model.rows
        if not rows:
            return
        current = self.grid.currentIndex()
        row = (current.row() + offset) % len(rows) if current.isValid() else 0
        self.select(rows[row])

    def pick_random(self) -> None:
        rows = self.model.rows
        if not rows:
            return
        others = [s for s in rows if s != self.current_sample] or rows
        self.select(self._random.choice(others))

    # ---- loading ---------------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._in_view = True
        if self.predictions is None and self._task is None:
            self.loaded_run = None  # what failed before is tried again: the graph or the files may be fixed
        QTimer.singleShot(0, self._refresh)  # a glimpse while the docks are arranged loads nothing

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self._in_view = False

    def _weights(self, record: RunRecord) -> Path | None:
        return self.history.file_path(record, record.weights)

    def _refresh(self, wanted: bool = False) -> None:
        """Load the predictions of the run to show, if the tab is in view (or they are `wanted` elsewhere) and
        they are not there yet."""
        record = self.record
        if self.running or record is None:
            self._say_what_to_do()
            return
        if self.loaded_run == record.run_id:  # shown already, or failed, or loading: say which again
            if self.predictions is not None:
                self.pages.setCurrentWidget(self.content)
            else:
                self._say(self.failure or LOADING)
            return
        self._say(LOADING)
        if not (wanted or (self._in_view and self.isVisible())) or self._task is not None:
            return  # when the tab is looked at, or when the load under way has ended
        weights = self._weights(record)
        self.loaded_run = record.run_id
        if weights is None:
            self._show_failure("The weights of this run are gone; train again.")
            return
        self.failure = ""
        self.predictions = None  # the earlier run's are not this run's
        self._explainer = None  # nor its network
        self.model.show(None, None, [])
        run_id = record.run_id
        task = BackgroundTask(
            functools.partial(make_predictions, self._project_of(record), weights), "netbuilder predictions"
        )
        task.succeeded.connect(lambda predictions: self._loaded(run_id, predictions, ""))
        task.failed.connect(lambda error: self._loaded(run_id, None, str(error)))
        self._task = task.start()

    def _project_of(self, record: RunRecord) -> Project:
        """The project as it is now, with the run's split, seed and batch size: its validation part is the
        run's (the network is the one drawn now; the weights tell whether it is still the run's)."""
        project = copy_project(self.document.project)
        kept = {k: record.settings[k] for k in ("val_fraction", "seed", "batch_size", "device") if k in record.settings}
        try:
            settings = replace(project.training, **kept)
        except ValueError:  # a run record from elsewhere with odd settings: the project's own then
            settings = project.training
        return replace(project, training=settings)

    def _loaded(self, run_id: str, predictions: Any, failure: str) -> None:
        """The task of `run_id` has ended (joined): show what it made, unless a newer run ended meanwhile."""
        self._task = None
        if self.record is None:
            return
        if run_id != self.record.run_id:
            self._refresh()  # a newer run ended while this one loaded: load that one
        elif predictions is None:
            self._show_failure(failure)
        else:
            self._show_predictions(predictions)

    def _show_predictions(self, predictions: Any) -> None:
        if (
            predictions.class_names
            and self.record.class_names
            and list(predictions.class_names) != list(self.record.class_names)
        ):
            self._show_failure("The data changed since this run (its classes are not the run's); train again.")
            return
        self.predictions = predictions
        self.style = SampleStyle(predictions)
        classification = predictions.kind == "classification"
        wrong = int((~predictions.correct).sum()) if classification else 0
        self.wrong_only.setVisible(classification)
        self.wrong_only.setEnabled(wrong > 0)
        self.wrong_only.setText(f"Only wrong ones ({wrong})" if wrong else "None wrong")
        with QSignalBlocker(self.wrong_only):
            self.wrong_only.setChecked(False)
        names = [self.grid.fontMetrics().horizontalAdvance(name) for name in predictions.class_names]
        width = max(THUMBNAIL + 18, min(MAX_CAPTION_WIDTH, max(names, default=0) + 12))
        self.grid.setGridSize(QSize(width, THUMBNAIL + 22))  # class names fit under their samples
        self._arrange_grid(text=self.style.kind == "text")
        # what the network looks at: over an image or along a sequence (not a table's row, nor the pixels of
        # an image a network gives back, where input and output side by side say it)
        methods = {"image": ("saliency", "gradcam", "ig"), "sequence": ("saliency", "ig"), "text": ("saliency", "ig")}
        reconstructs = predictions.output_images is not None
        self.explanation.set_methods(() if reconstructs else methods.get(self.style.kind, ()))
        self.explanation.set_layers(())
        self.model.show(predictions, self.style, list(range(len(predictions))))
        record = self.record
        self.feature_map.set_run(record.run_id, functools.partial(self._project_of, record), self._weights(record))
        self.pages.setCurrentWidget(self.content)
        self.step(0)
        if self.cell is not None:  # a cell clicked while the predictions loaded
            self._filter(False)
        self.state_changed.emit()

    def _arrange_grid(self, text: bool) -> None:
        """Texts are a list, a line each (the class, then the start of the text); other samples a grid of
        thumbnails (the view mode brings its own flow and wrapping)."""
        if text:
            self.grid.setViewMode(QListView.ViewMode.ListMode)
            self.grid.setGridSize(QSize())
        else:
            self.grid.setViewMode(QListView.ViewMode.IconMode)

    def _show_failure(self, message: str) -> None:
        self.failure = message
        self.predictions = None
        self.model.show(None, None, [])
        self._say(message)

    def _filter(self, wrong_only: bool) -> None:
        predictions = self.predictions
        if predictions is None:
            return
        current = self.current_sample
        if wrong_only and self.cell is not None:  # the two filters do not combine: the latest wins
            self.cell = None
            self.cell_chip.hide()
        rows = shown_samples(predictions, wrong_only=wrong_only, cell=self.cell)
        self._show_cell_chip(rows)
        self.model.show(predictions, self.style, rows)
        if rows:
            self.select(current if current in rows else rows[0])

    def _show_cell_chip(self, rows: list[int]) -> None:
        if self.cell is None or self.predictions is None:
            return
        true, predicted = (class_name(self.predictions, c) for c in self.cell)
        count = "1 sample" if len(rows) == 1 else f"{len(rows):,} samples"
        self.cell_chip.show_filter(f"true {true}, predicted {predicted} · {count}")

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        predictions = self.predictions
        sample = self.model.rows[current.row()] if current.isValid() and predictions is not None else None
        if sample is None:
            return
        self.sample_view.show_sample(predictions, self.style, sample)
        self.bars.show_sample(predictions, sample)
        self.feature_map.show_sample(sample)
        self.bars.setVisible(predictions.output_images is None)  # input and output images say it better
        self.verdict.setText(self._verdict_html(sample))
        if predictions.kind == "classification":  # the classes a map can be asked for, the true one marked
            names = tuple(class_name(predictions, c) for c in range(predictions.probabilities.shape[1]))
            self.explanation.set_classes(names, int(predictions.true[sample]))
        else:
            self.explanation.set_classes(())
        self._explain()
        rows = self.model.rows
        where = f"{rows.index(sample) + 1} of {len(rows)}" if self.wrong_only.isChecked() or self.cell else ""
        where += " wrong" if self.wrong_only.isChecked() else ""
        run = self.record
        when = time.strftime("%d %b %H:%M", time.localtime(run.started)) if run and run.started else ""
        first = predictions.part_size > len(predictions)  # a streamed part: its first samples are read
        self.position.setText(
            f"Validation sample {sample + 1:,} of {len(predictions):,}"
            + (f" read from {predictions.part_size:,}" if first else "")
            + (f" ({where})" if where else "")
            + (f" · run of {when}" if when else "")
        )
        self.position.setToolTip(self.position.text())
        for button in (self.previous_button, self.next_button, self.random_button):
            button.setEnabled(len(rows) > 1)

    def _verdict_html(self, sample: int) -> str:
        predictions = self.predictions
        palette = self.palette()
        right, wrong = right_colour(palette).name(), wrong_colour(palette).name()
        if predictions.kind != "classification":
            return escape(sentence(verdict_text(predictions, sample)))
        true, predicted = int(predictions.true[sample]), int(predictions.predicted[sample])
        probability = float(predictions.probabilities[sample, predicted])
        ok = true == predicted
        return (
            f"True class <b style='color:{right}'>{escape(class_name(predictions, true))}</b> · "
            f"predicted <b style='color:{right if ok else wrong}'>{escape(class_name(predictions, predicted))}</b>"
            f" with {probability:.0%}: <b style='color:{right if ok else wrong}'>{'right' if ok else 'wrong'}</b>"
        )

    # ---- what the network looks at -----------------------------------------------------------------------

    def _explain(self) -> None:
        """Draw the chosen method's map over the chosen sample, for the class chosen (by default the one the
        network predicted; for regression, its first value). It is made on a BackgroundTask, one at a time:
        what is asked for while one is being made waits, and only the latest such request is made."""
        self.sample_view.set_explanation(None, self.explanation.opacity.value() / 100)
        predictions, sample, method = self.predictions, self.current_sample, self.explanation.method
        if not method or sample is None or predictions is None or self.record is None:
            self._explain_wanted = None
            return
        chosen = self.explanation.target_class
        classification = predictions.kind == "classification"
        target = (int(predictions.predicted[sample]) if chosen is None else chosen) if classification else 0
        request = ExplanationRequest(sample, target, method, self.explanation.layer if method == "gradcam" else None)
        if self._explain_task is not None:
            self._explain_wanted = request
            return
        record = self.record
        loading = self._explainer is None
        self.explanation.say("Loading the run's network…" if loading else "Working out where it looks…")
        task = BackgroundTask(
            functools.partial(
                explain_run_sample,
                self._project_of(record) if loading else None,
                self._weights(record),
                self._explainer,
                request,
            ),
            "netbuilder explanation",
        )
        task.succeeded.connect(lambda explained: self._explained(record.run_id, request, explained, ""))
        task.failed.connect(lambda error: self._explained(record.run_id, request, None, str(error)))
        self._explain_task = task.start()

    def _explained(self, run_id: str, request: ExplanationRequest, explained: Any, failure: str) -> None:
        """An explanation's task has ended (joined): draw its map, unless another was asked for meanwhile."""
        self._explain_task = None
        current = self.record is not None and run_id == self.record.run_id and self.predictions is not None
        if current and explained is not None:
            self._explainer = explained.explainer
            self.explanation.set_layers(explained.explainer.cam_layers)
            self.explanation.set_methods(explained.explainer.methods)  # Grad-CAM only where there is a convolution
        if self._explain_wanted is not None or not current:
            self._explain_wanted = None
            self._explain()  # the latest request, or this run's with its own network
            return
        if explained is None or explained.heat is None:
            self.explanation.say(explained.failure if explained is not None else failure)
            return
        classification = self.predictions.kind == "classification"
        self.sample_view.set_explanation(
            explained.heat,
            self.explanation.opacity.value() / 100,
            signed=request.method == "ig" and explained.explainer.tokens,  # a text's: towards the class or against
            target=class_name(self.predictions, request.target) if classification else "",
        )
        layer = dict(explained.explainer.cam_layers).get(request.node) if request.node else None
        if request.method == "gradcam" and layer is None and explained.explainer.cam_layers:
            layer = explained.explainer.cam_layers[-1][1]
        target = self._class_words(request) if classification else ""
        looks = "where it looks for"
        if self.style.kind == "text":
            looks = "what speaks for and against" if request.method == "ig" else "which tokens move the score of"
        self.explanation.say(
            METHOD_NAMES[request.method]
            + (f" at {layer}" if layer else "")
            + (f": {looks} {target}" if target else ": what its first value rests on")
        )

    def _class_words(self, request: ExplanationRequest) -> str:
        """The class a map is for, and what it is to the sample: "7 (true, predicted)"."""
        predictions, sample = self.predictions, request.sample
        true, predicted = int(predictions.true[sample]), int(predictions.predicted[sample])
        roles = [role for role, index in (("true", true), ("predicted", predicted)) if index == request.target]
        name = class_name(predictions, request.target)
        return f"{name} ({', '.join(roles)})" if roles else name

    # ---- what it says ----------------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.pages.setCurrentWidget(self.message)
        self.state_changed.emit()

    def _say_what_to_do(self) -> None:
        if self.running:
            self._say(RUNNING)
        else:
            self._say(UNSAVED if self.history.folder is None else NO_RUN)

    def outcome_text(self) -> str:
        """What the tab says when it shows no samples (empty when it does)."""
        return self.message.text() if self.pages.currentWidget() is self.message else ""

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange and self.predictions is not None:
            self.model.repaint_all()
            sample = self.current_sample
            if sample is not None:
                self.verdict.setText(self._verdict_html(sample))

"""The Training panel's run controls: Train, Continue, Pause, Resume and Stop, the progress bar, whose
text stays readable over its filled part in any theme, and whether runs write TensorBoard logs."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QProgressBar, QPushButton, QStyle, QVBoxLayout, QWidget

from netbuilder.project.run_history import RunRecord
from netbuilder.ui.widgets.colors import contrast, readable_on

TRAIN_TIP = "Train the network with these settings (the graph is locked meanwhile)"
FIND_RATE_TIP = (
    "Train a copy of the network for a few hundred steps while the learning rate grows, plot the loss "
    "against the rate, and suggest a rate for the optimizer (the network's weights are not changed)"
)


class RunControls(QWidget):
    """The buttons (for the panel to connect) over the progress bar; `set_state` shows which apply now."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.train_button = QPushButton("Train")
        self.train_button.setToolTip(TRAIN_TIP)
        self.continue_button = QPushButton("Continue")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Pause between two steps")
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Go on from the step where the run paused")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("End the run after the current step; it keeps a checkpoint to continue from")
        style = self.style()
        for button, icon in (
            (self.train_button, QStyle.StandardPixmap.SP_MediaPlay),
            (self.pause_button, QStyle.StandardPixmap.SP_MediaPause),
            (self.resume_button, QStyle.StandardPixmap.SP_MediaPlay),
            (self.stop_button, QStyle.StandardPixmap.SP_MediaStop),
            (self.continue_button, QStyle.StandardPixmap.SP_MediaSeekForward),
        ):
            button.setIcon(style.standardIcon(icon))
        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        for button in (self.train_button, self.continue_button, self.pause_button, self.resume_button):
            buttons.addWidget(button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)

        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("ready")
        self.progress.setAlignment(Qt.AlignmentFlag.AlignCenter)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        # the panel remembers it (per user) and gives each run its folder
        self.tensorboard_box = QCheckBox("TensorBoard logs")
        # the batch size search and the learning-rate range test, on this row: the buttons' row is full while
        # Continue shows (the panel enables them)
        self.find_batch_button = QPushButton("Find batch size")
        self.find_rate_button = QPushButton("Find LR…")
        extras = QHBoxLayout()
        extras.addWidget(self.tensorboard_box)
        extras.addStretch(1)
        extras.addWidget(self.find_batch_button)
        extras.addWidget(self.find_rate_button)
        layout.addLayout(extras)
        self.show_tensorboard_folder(None)
        self._apply_palette()

    def set_state(
        self, *, running: bool, paused: bool, stopping: bool, why_not: str, continuable: RunRecord | None
    ) -> None:
        """Enable what applies: Train when nothing runs and the project can train (else `why_not` says why),
        Continue when the last run stopped with a checkpoint, Pause or Resume and Stop while a run goes."""
        can = not why_not
        self.train_button.setEnabled(not running and can)
        self.train_button.setToolTip(why_not or TRAIN_TIP)
        self.continue_button.setVisible(continuable is not None)
        self.continue_button.setEnabled(continuable is not None and can)
        if continuable is not None:
            self.continue_button.setToolTip(
                f"Go on from where the run of {continuable.run_id} stopped (epoch {continuable.epochs_done + 1}, "
                f"step {continuable.global_step}), with its batch size, split and seed"
            )
        self.pause_button.setVisible(not paused)
        self.pause_button.setEnabled(running and not stopping)
        self.resume_button.setVisible(paused)
        self.resume_button.setEnabled(paused and not stopping)
        self.stop_button.setEnabled(running and not stopping)

    def show_tensorboard_folder(self, folder: Path | None) -> None:
        """Say where the runs' TensorBoard logs go and how to see them; without a folder (a project never saved)
        the box is off until the project is saved."""
        self.tensorboard_box.setEnabled(folder is not None)
        self.tensorboard_box.setToolTip(
            "Each run also writes TensorBoard event files (losses, metrics, learning rate, settings, the graph)\n"
            f"into {folder}{os.sep}RUN\nSee them with: tensorboard --logdir {shlex.quote(str(folder))}"
            if folder is not None
            else "Save the project first: the TensorBoard logs go into a folder beside it"
        )

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()

    def _apply_palette(self) -> None:
        palette = self.palette()
        # the text over the bar's filled part: the palette's own unless it is hard to read there
        bar = QPalette(palette)
        fill = palette.color(QPalette.ColorRole.Highlight)
        own = palette.color(QPalette.ColorRole.HighlightedText)
        if contrast(own, fill) < 3.0:
            candidates = (own, palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.Base))
            bar.setColor(QPalette.ColorRole.HighlightedText, readable_on(fill, *candidates))
        self.progress.setPalette(bar)

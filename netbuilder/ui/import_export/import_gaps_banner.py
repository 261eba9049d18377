"""The banner above the canvas that lists, whenever the project is open, the calls its import could not map."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QScrollArea, QStyle, QVBoxLayout, QWidget

from netbuilder.project import Project
from netbuilder.project.events import ImportGapsChanged, ProjectEvent
from netbuilder.project.import_gaps import gaps_headline, grouped_gap_lines
from netbuilder.ui.widgets.banner import Banner
from netbuilder.ui.widgets.fonts import code_font
from netbuilder.ui.widgets.text import sentence

LINES_SHOWN = 10  # the list scrolls beyond this many lines, so the canvas keeps most of the window
STANDS = "The list stays with the project until an edit makes the model check clean, or until you dismiss it."


class ImportGapsBanner(QWidget):
    """A warning above the canvas while the open project keeps gaps of a partial import (Project.import_gaps):
    a headline saying how many calls are missing, Show to list them (grouped by call, each with its source
    line, as the import listed them), and Dismiss. It follows the project, so it goes when the gaps are
    filled or dismissed and comes back with an Undo. `set_held` keeps it hidden while the import's own report
    lists the same calls, right after an import."""

    dismiss_requested = Signal()  # Dismiss pressed: the window asks the editor to forget the list (undoably)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.banner = Banner()
        self.banner.set_icon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        self.details = QLabel()
        self.details.setFont(code_font())
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.details.setWordWrap(True)  # a call missing at many places names three of them: a long line
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.details)
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.viewport().setAutoFillBackground(False)
        self.details.setAutoFillBackground(False)
        self.scroll.hide()
        column = QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.banner.text)
        column.addWidget(self.scroll)
        self.banner.layout().insertLayout(1, column, 1)
        self.show_button = QPushButton("Show")
        self.show_button.setToolTip("List the missing calls, each with the line of the source it was at")
        self.show_button.clicked.connect(lambda: self.set_expanded(not self.scroll.isVisibleTo(self)))
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.setToolTip(
            "Forget this list (you filled the gaps another way, or will): the next save writes none; Undo "
            "brings it back"
        )
        self.dismiss_button.clicked.connect(self.dismiss_requested)
        for button in (self.show_button, self.dismiss_button):
            self.banner.layout().addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        self.banner.show()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addWidget(self.banner)
        self._stop_following: Callable[[], None] = lambda: None
        self._project: Project | None = None
        self._held = False
        self.hide()

    @property
    def text(self) -> str:
        """The headline, then the list (shown or not)."""
        return f"{self.banner.text.text()}\n{self.details.text()}"

    def follow(self, project: Project | None) -> None:
        """Show `project`'s gaps now and whenever they change (None: no project is open, nothing shown)."""
        self._stop_following()
        self._stop_following = lambda: None
        self._project, self._held = project, False
        if project is not None:
            self._stop_following = project.subscribe(self._heard)
        self._show_gaps()

    def set_held(self, held: bool) -> None:
        """Stay hidden (`held`) while another banner says the same, or show the gaps again."""
        self._held = held
        self._show_gaps()

    def set_expanded(self, expanded: bool) -> None:
        """Show or hide the list under the headline."""
        self.scroll.setVisible(expanded)
        self.show_button.setText("Hide" if expanded else "Show")
        self._fit_list()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_list()  # wrapped lines take more or less height at another width

    def _fit_list(self) -> None:
        """As tall as the wrapped list, up to LINES_SHOWN lines (it scrolls beyond)."""
        if not self.scroll.isVisibleTo(self):
            return
        width = self.scroll.viewport().width()
        needed = self.details.heightForWidth(width) if width > 0 else self.details.sizeHint().height()
        self.scroll.setFixedHeight(min(needed, self.details.fontMetrics().lineSpacing() * LINES_SHOWN) + 2)

    def _heard(self, event: ProjectEvent) -> None:
        if isinstance(event, ImportGapsChanged):
            self._show_gaps()

    def _show_gaps(self) -> None:
        gaps = self._project.import_gaps if self._project is not None else ()
        if not gaps or self._held:
            self.hide()
            return
        self.banner.text.setText(f"{sentence(gaps_headline(len(gaps)))} {STANDS}")
        self.details.setText("\n".join(f"• {line}" for line in grouped_gap_lines(gaps)))  # wrapped: a bullet each
        self.set_expanded(self.scroll.isVisibleTo(self))
        self.show()

"""After a crash: the unsaved work that was kept, each document with its last autosaves and their times, to
open one or discard it; what is neither stays for later (the start page offers it again)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from netbuilder.project.recovery import Autosave, RecoveredWork

COLUMNS = ("Project", "File", "Autosaved", "Blocks")
LATER_TIP = "Keep this work for later: it is offered again at the next start, and from the start page"


def human_time(when: float, now: float | None = None) -> str:
    """A time as a person says it: "just now", "3 minutes ago" within the hour, then "today 10:42",
    "yesterday 18:05", "Monday 09:10" within the week, "2 Nov 09:10" within the year, "2 Nov 2025 09:10"."""
    now = time.time() if now is None else now
    seconds = now - when
    if 0 <= seconds < 60:
        return "just now"
    if 0 <= seconds < 3600:
        minutes = int(seconds // 60)
        return "1 minute ago" if minutes == 1 else f"{minutes} minutes ago"
    moment, today = datetime.fromtimestamp(when), datetime.fromtimestamp(now).date()
    clock = moment.strftime("%H:%M")
    if moment.date() == today:
        return f"today {clock}"
    if moment.date() == today - timedelta(days=1):
        return f"yesterday {clock}"
    if today - timedelta(days=6) <= moment.date() < today:
        return f"{moment:%A} {clock}"
    day = f"{moment.day} {moment:%b}"
    return f"{day} {clock}" if moment.year == today.year else f"{day} {moment.year} {clock}"


def where(work: RecoveredWork) -> str:
    """The document's file as the list shows it: its name, or that it was never saved."""
    return work.original.name if work.original is not None else "never saved"


class RecoveryDialog(QDialog):
    """The documents a crashed session left unsaved, the most recent first, each with its earlier autosaves
    below it. Open (or a double click) asks for one autosave; Discard… asks to delete a document's autosaves,
    after a question; Later closes and keeps everything."""

    recover_requested = Signal(object, object)  # RecoveredWork, the Autosave of it to open
    discard_requested = Signal(object)  # RecoveredWork whose autosaves the person chose to delete

    def __init__(self, works: list[RecoveredWork], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Recover Unsaved Work")
        heading = QLabel("netbuilder did not close normally. The unsaved work below was kept.")
        heading.setWordWrap(True)
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)
        hint = QLabel(
            "Choose what to open: a project, or one of its earlier autosaves. "
            "What you neither open nor discard is kept for later."
        )
        hint.setWordWrap(True)

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setRootIsDecorated(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.headerItem().setTextAlignment(3, Qt.AlignmentFlag.AlignRight)
        for work in works:
            self._add(work)
        self.tree.expandAll()
        self.tree.currentItemChanged.connect(self._describe)
        self.tree.itemActivated.connect(lambda *_: self._open())

        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.buttons = QDialogButtonBox()
        self.open_button = self.buttons.addButton("Open", QDialogButtonBox.ButtonRole.AcceptRole)
        self.open_button.setDefault(True)
        self.discard_button = QPushButton("Discard…")
        self.discard_button.setToolTip("Delete the selected project's autosaves")
        self.buttons.addButton(self.discard_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        self.later_button = self.buttons.addButton("Later", QDialogButtonBox.ButtonRole.RejectRole)
        self.later_button.setToolTip(LATER_TIP)
        self.open_button.clicked.connect(self._open)
        self.discard_button.clicked.connect(self._discard)
        self.later_button.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(hint)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.detail)
        layout.addWidget(self.buttons)
        self.setMinimumSize(640, 340)
        self.tree.setCurrentItem(self.tree.topLevelItem(0))

    def _add(self, work: RecoveredWork) -> None:
        top = QTreeWidgetItem([work.name, where(work), *self._columns(work.newest)])
        top.setData(0, Qt.ItemDataRole.UserRole, (work, work.newest))
        top.setToolTip(1, str(work.original) if work.original else "This project was never saved to a file")
        top.setTextAlignment(3, Qt.AlignmentFlag.AlignRight)
        for earlier in work.generations[1:]:
            child = QTreeWidgetItem(["an earlier autosave", "", *self._columns(earlier)])
            child.setData(0, Qt.ItemDataRole.UserRole, (work, earlier))
            child.setTextAlignment(3, Qt.AlignmentFlag.AlignRight)
            top.addChild(child)
        self.tree.addTopLevelItem(top)

    @staticmethod
    def _columns(autosave: Autosave) -> list[str]:
        return [human_time(autosave.saved_at), "" if autosave.nodes is None else str(autosave.nodes)]

    def works(self) -> list[RecoveredWork]:
        """The documents still listed."""
        return [
            self.tree.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole)[0] for i in range(self.tree.topLevelItemCount())
        ]

    def select(self, work: RecoveredWork, autosave: Autosave | None = None) -> None:
        """Make one document's autosave (its newest by default) the current choice."""
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            if top.data(0, Qt.ItemDataRole.UserRole)[0] == work:
                items = [top, *(top.child(j) for j in range(top.childCount()))]
                chosen = [item for item in items if item.data(0, Qt.ItemDataRole.UserRole)[1] == autosave]
                self.tree.setCurrentItem(chosen[0] if chosen else top)

    def chosen(self) -> tuple[RecoveredWork, Autosave] | None:
        item = self.tree.currentItem()
        return None if item is None else item.data(0, Qt.ItemDataRole.UserRole)

    def _describe(self) -> None:
        chosen = self.chosen()
        self.open_button.setEnabled(chosen is not None)
        self.discard_button.setEnabled(chosen is not None)
        if chosen is None:
            self.detail.setText("")
            return
        work, autosave = chosen
        when = human_time(autosave.saved_at)
        then = "Save writes it to " + str(work.original) if work.original else "Save asks where to keep it"
        self.detail.setText(f"Opens “{work.name}” as it was {when}, with its changes unsaved: {then}.")

    def _open(self) -> None:
        chosen = self.chosen()
        if chosen is None:
            return
        self.accept()
        self.recover_requested.emit(*chosen)

    def _discard(self) -> None:
        chosen = self.chosen()
        if chosen is None:
            return
        work = chosen[0]
        count = len(work.generations)
        autosaves = "its autosave" if count == 1 else f"its {count} autosaves"
        answer = QMessageBox.question(
            self,
            "Discard unsaved work?",
            f"Delete {autosaves} of “{work.name}” ({where(work)})? The changes in them cannot be recovered later.",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Discard:
            return
        row = self.works().index(work)
        self.tree.takeTopLevelItem(row)
        self.discard_requested.emit(work)
        if self.tree.topLevelItemCount() == 0:
            self.reject()
            return
        self.tree.setCurrentItem(self.tree.topLevelItem(min(row, self.tree.topLevelItemCount() - 1)))

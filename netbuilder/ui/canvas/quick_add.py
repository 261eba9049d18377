"""The Tab quick-add popup: type a few letters of a block, press Enter, and it is chosen.

It searches with the palette's `search_blocks`, so both find the same blocks in the same order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QGuiApplication, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from netbuilder.blocks.spec import BlockSpec
from netbuilder.ui.canvas.palette import block_tooltip, plain_summary, search_blocks
from netbuilder.ui.icons import category_icon, palette_is_dark
from netbuilder.ui.widgets.colors import muted_text

BLOCK_ROLE = Qt.ItemDataRole.UserRole  # the row's block type name; None on the "nothing matches" row
SUMMARY_ROLE = Qt.ItemDataRole.UserRole + 1  # the block's one-line summary
CATEGORY_ROLE = Qt.ItemDataRole.UserRole + 2  # its palette category ("This project" for the project's own)
POPUP_WIDTH = 440
VISIBLE_ROWS = 8
ICON_SIZE = 22
PADDING = 6


class BlockRowDelegate(QStyledItemDelegate):
    """A result row: the category icon, the block name in bold, its summary beneath in a muted colour."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        line = QFontMetrics(option.font).height()
        return QSize(POPUP_WIDTH - 20, max(ICON_SIZE, 2 * line) + 2 * PADDING)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        block = index.data(BLOCK_ROLE)
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        widget = opt.widget
        style = widget.style() if widget is not None else None
        # Background and selection only; the text and icon are drawn below.
        opt.text = ""
        opt.icon = type(opt.icon)()
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        palette = opt.palette
        group = (
            QPalette.ColorGroup.Active
            if selected or opt.state & QStyle.StateFlag.State_Active
            else (QPalette.ColorGroup.Inactive)
        )
        main = palette.color(group, QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        rect = option.rect.adjusted(PADDING, PADDING, -PADDING, -PADDING)
        painter.save()
        if block is None:
            painter.setPen(muted_text(palette, QPalette.ColorRole.Base, group))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, index.data(Qt.ItemDataRole.DisplayRole))
            painter.restore()
            return
        icon = index.data(Qt.ItemDataRole.DecorationRole)
        icon_rect = QRect(rect.left(), rect.center().y() - ICON_SIZE // 2 + 1, ICON_SIZE, ICON_SIZE)
        icon.paint(painter, icon_rect)
        text_left = icon_rect.right() + PADDING + 4
        text_rect = QRect(text_left, rect.top(), rect.right() - text_left, rect.height())
        bold = QFont(option.font)
        bold.setBold(True)
        line = QFontMetrics(option.font).height()
        name_rect = QRect(text_rect.left(), text_rect.top(), text_rect.width(), line)
        summary_rect = QRect(text_rect.left(), text_rect.top() + line, text_rect.width(), line)
        name = index.data(Qt.ItemDataRole.DisplayRole)
        category = index.data(CATEGORY_ROLE)
        painter.setFont(bold)
        painter.setPen(main)
        painter.drawText(name_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)
        name_width = QFontMetrics(bold).horizontalAdvance(name)
        painter.setFont(option.font)
        secondary = main if selected else muted_text(palette, QPalette.ColorRole.Base, group)
        painter.setPen(secondary)
        category_rect = name_rect.adjusted(name_width + 8, 0, 0, 0)
        painter.drawText(category_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, category)
        summary = QFontMetrics(option.font).elidedText(
            index.data(SUMMARY_ROLE), Qt.TextElideMode.ElideRight, summary_rect.width()
        )
        painter.drawText(summary_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, summary)
        painter.restore()


class QuickAddPopup(QFrame):
    """A search field over a list of matching blocks, opened where the person is working (Tab on the canvas).

    Typing filters, Up/Down (and Page Up/Down) move, Enter or a click chooses, Escape or a click outside closes.
    """

    chosen = Signal(str)  # block type name the person picked; the popup closes right after

    def __init__(
        self, parent: QWidget | None = None, project_blocks: Callable[[], Sequence[BlockSpec]] = tuple
    ) -> None:
        """`project_blocks` gives the open project's own blocks (its composites), listed with the catalogue's."""
        super().__init__(parent, Qt.WindowType.Popup)
        self._project_blocks = project_blocks
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFrameShadow(QFrame.Shadow.Plain)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Add a block…")
        self.search.installEventFilter(self)
        self.list = QListWidget(self)
        self.list.setItemDelegate(BlockRowDelegate(self.list))
        self.list.setUniformItemSizes(True)
        self.list.setMouseTracking(True)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.search)
        layout.addWidget(self.list)

        self.search.textChanged.connect(self._refilter)
        self.list.itemClicked.connect(self._choose_item)
        self.list.itemEntered.connect(self._hover)
        self._refilter("")
        row = self.list.sizeHintForRow(0)
        self.list.setFixedHeight(row * VISIBLE_ROWS + 2 * self.list.frameWidth())
        self.setFixedWidth(POPUP_WIDTH)

    def open_at(self, global_pos: QPoint) -> None:
        """Show with an empty search at `global_pos` (its top-left corner), kept on that screen."""
        self.search.clear()
        self._refilter("")
        self.adjustSize()
        screen = QGuiApplication.screenAt(global_pos) or self.screen() or QGuiApplication.primaryScreen()
        area = screen.availableGeometry()
        size = self.sizeHint().expandedTo(self.size())
        x = min(max(global_pos.x(), area.left()), area.right() - size.width())
        y = global_pos.y()
        if y + size.height() > area.bottom():
            y = max(area.top(), global_pos.y() - size.height())
        self.move(x, y)
        self.show()
        self.raise_()
        self.activateWindow()
        self.search.setFocus(Qt.FocusReason.PopupFocusReason)

    def results(self) -> list[str]:
        """The block type names listed now, best match first."""
        return [
            self.list.item(i).data(BLOCK_ROLE) for i in range(self.list.count()) if self.list.item(i).data(BLOCK_ROLE)
        ]

    def current_block(self) -> str | None:
        item = self.list.currentItem()
        return item.data(BLOCK_ROLE) if item is not None else None

    def choose_current(self) -> None:
        """Choose the highlighted block (the best match unless the person moved): emit `chosen`, then close."""
        block = self.current_block()
        if block:
            self.chosen.emit(block)
            self.close()

    def _choose_item(self, item: QListWidgetItem) -> None:
        if item.data(BLOCK_ROLE):
            self.list.setCurrentItem(item)
            self.choose_current()

    def _hover(self, item: QListWidgetItem) -> None:
        if item.data(BLOCK_ROLE):
            self.list.setCurrentItem(item)

    def _refilter(self, text: str) -> None:
        self.list.clear()
        dark = palette_is_dark(self.palette())
        specs = search_blocks(text, self._project_blocks())
        for spec in specs:
            item = QListWidgetItem(category_icon(spec.category, dark), spec.type)
            item.setData(BLOCK_ROLE, spec.type)
            item.setData(SUMMARY_ROLE, plain_summary(spec))
            item.setData(CATEGORY_ROLE, spec.category)
            item.setToolTip(block_tooltip(spec))
            self.list.addItem(item)
        if specs:
            self.list.setCurrentRow(0)
        else:
            item = QListWidgetItem(f"No block matches “{text.strip()}”")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(item)

    def _move(self, rows: int) -> None:
        count = len(self.results())
        if count:
            row = min(max(self.list.currentRow() + rows, 0), count - 1)
            self.list.setCurrentRow(row)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            moves = {
                Qt.Key.Key_Up: -1,
                Qt.Key.Key_Down: 1,
                Qt.Key.Key_PageUp: -(VISIBLE_ROWS - 1),
                Qt.Key.Key_PageDown: VISIBLE_ROWS - 1,
            }
            if key in moves:
                self._move(moves[key])
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.choose_current()
                return True
            if key == Qt.Key.Key_Escape:
                self.close()
                return True
        return super().eventFilter(watched, event)

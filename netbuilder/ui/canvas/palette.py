"""The block palette: every catalogue block by category, searchable, to drag onto the canvas or add with Enter;
above them, under "This project", the open project's own blocks (its composite definitions), kept in step
with the project as they are grouped, removed or brought back by undo; and under "Block library" the blocks
netbuilder ships (resources/blocks), which a drop loads into the project with an instance of it.

`search_blocks` is the one block search of the application; the Tab quick-add popup uses it too.
"""

from __future__ import annotations

import dataclasses
import html
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QObject, QPoint, QSize, Qt, Signal
from PySide6.QtGui import QAction, QDrag, QFont, QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QMenu,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from netbuilder.blocks import catalogue
from netbuilder.blocks.spec import BlockSpec
from netbuilder.graph import Graph
from netbuilder.graph.definitions import CATEGORY as PROJECT_CATEGORY
from netbuilder.graph.events import DefinitionAdded, DefinitionEdited, DefinitionRemoved, DefinitionRenamed, GraphEvent
from netbuilder.project.block_library import load_block, shipped_blocks
from netbuilder.project.errors import ProjectError
from netbuilder.ui.canvas.scene import BLOCK_FILE_MIME, BLOCK_MIME
from netbuilder.ui.icons import category_icon, palette_is_dark

log = logging.getLogger(__name__)

BLOCK_ROLE = Qt.ItemDataRole.UserRole  # an item's block type name; None on category and library rows
FILE_ROLE = Qt.ItemDataRole.UserRole + 1  # a library row's block file (str); None on every other row
LIBRARY_CATEGORY = "Block library"
DRAG_ICON_SIZE = 32

# How well one search word matches a block, best first.
EXACT_NAME, NAME_PREFIX, IN_NAME, CATEGORY, DOC_WORD = range(5)


@dataclass(frozen=True)
class _Entry:
    spec: BlockSpec
    order: int
    name: str
    category: str
    words: tuple[str, ...]


def _entry(spec: BlockSpec, order: int = 0) -> _Entry:
    words = tuple(sorted(set(re.findall(r"\w+", spec.doc.lower()))))
    return _Entry(spec, order, _squash(spec.type), spec.category.lower(), words)


def _squash(text: str) -> str:
    """Lower case without spaces, dashes or underscores: 'batch_norm' and 'BatchNorm' look alike."""
    return re.sub(r"[\W_]+", "", text.lower())


@cache
def _index() -> tuple[_Entry, ...]:
    return tuple(
        _entry(spec, i) for i, spec in enumerate(spec for specs in catalogue.by_category().values() for spec in specs)
    )


@dataclass(frozen=True)
class LibraryBlock:
    """A shipped block as the palette shows it: its spec (ports and parameters, under "Block library") and its
    file, which a drop loads."""

    spec: BlockSpec
    path: Path


@cache
def library_blocks() -> tuple[LibraryBlock, ...]:
    """The shipped blocks by name, each read once per run: its spec is that of the block loaded into a project
    of its own, so its tooltip lists the ports and parameters an instance will have."""
    found = []
    try:
        for block in shipped_blocks():
            scratch = Graph()
            spec = scratch.block_spec(load_block(scratch, block.path))
            found.append(LibraryBlock(dataclasses.replace(spec, category=LIBRARY_CATEGORY), block.path))
    except (ProjectError, OSError) as err:  # a broken install must not stop the window from opening
        log.warning("the shipped blocks cannot be read: %s", err)
        return ()
    return tuple(found)


def _word_rank(entry: _Entry, word: str) -> int | None:
    squashed = _squash(word)
    if squashed:
        if squashed == entry.name:
            return EXACT_NAME
        if entry.name.startswith(squashed):
            return NAME_PREFIX
        if squashed in entry.name:
            return IN_NAME
    if entry.category.startswith(word):
        return CATEGORY
    if any(w.startswith(word) for w in entry.words):
        return DOC_WORD
    return None


def _matches_project_block(spec: BlockSpec, words: list[str]) -> bool:
    """A project block matches when each word is in its name or starts a word of its doc."""
    entry = _entry(spec)
    return all(_word_rank(entry, word) is not None for word in words)


def _ranked(entries: tuple[_Entry, ...], words: list[str]) -> list[tuple[tuple[int, int, int], BlockSpec]]:
    """The entries matching every word, each with its score (lower is better), best first."""
    ranked: list[tuple[tuple[int, int, int], BlockSpec]] = []
    for entry in entries:
        ranks = [_word_rank(entry, word) for word in words]
        if None in ranks:
            continue
        score = (max(ranks, default=0), sum(ranks), entry.order)  # type: ignore[arg-type]
        ranked.append((score, entry.spec))
    ranked.sort(key=lambda pair: pair[0])
    return ranked


def search_blocks(text: str, project_blocks: Sequence[BlockSpec] = ()) -> list[BlockSpec]:
    """Blocks matching every word of `text` (case-insensitive) in their type name, category or doc, best first:
    exact names, then names starting with the words, names containing them, categories, doc words; ties keep
    the palette's order, the project's own blocks (`project_blocks`) first. An empty text gives every block in
    palette order."""
    own = tuple(_entry(spec, i - len(project_blocks)) for i, spec in enumerate(project_blocks))
    return [spec for _, spec in _ranked(own + _index(), text.lower().split())]


def block_mime_data(block_type: str) -> QMimeData:
    """What a palette drag carries: the block type name under BLOCK_MIME (the canvas drops it)."""
    mime = QMimeData()
    mime.setData(BLOCK_MIME, block_type.encode("utf-8"))
    return mime


def block_file_mime_data(path: Path) -> QMimeData:
    """What a drag from the block library carries: the block file's path under BLOCK_FILE_MIME (the canvas
    loads it into the project)."""
    mime = QMimeData()
    mime.setData(BLOCK_FILE_MIME, str(path).encode("utf-8"))
    return mime


def _code_spans(text: str) -> str:
    """Docs mark names with backticks (`dim`); tooltips show them as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", text)


def plain_summary(spec: BlockSpec) -> str:
    """The doc's first line without its backticks, for one-line lists."""
    return spec.summary.replace("`", "")


def block_tooltip(spec: BlockSpec, hint: str = "") -> str:
    """Rich-text tooltip: the doc, then the ports and the parameter names, then `hint` (what a drop does)."""
    doc = "<br>".join(_code_spans(html.escape(line.strip())) for line in spec.doc.strip().splitlines())
    inputs = html.escape(", ".join(port.name for port in spec.input_ports(spec.defaults())) or "none")
    if spec.variadic is not None:
        inputs += f", … (as many as <i>{html.escape(spec.variadic)}</i> says)"
    outputs = html.escape(", ".join(port.name for port in spec.outputs) or "none")
    params = html.escape(", ".join(p.name for p in spec.params) or "none")
    return (
        f"<p><b>{html.escape(spec.type)}</b> &nbsp;<small>{html.escape(spec.category)}</small></p>"
        f"<p>{doc}</p>"
        f"<p><b>Inputs:</b> {inputs}<br><b>Outputs:</b> {outputs}<br><b>Parameters:</b> {params}</p>"
        + (f"<p><i>{html.escape(hint)}</i></p>" if hint else "")
    )


LIBRARY_HINT = "Drag it onto the canvas: the block joins This project, and you can edit it there."
LIBRARY_GROUP_TIP = (
    "Blocks netbuilder ships: drag one onto the canvas to add it to this project. "
    "File > Load Block… loads one from a .nbblock file."
)
PROJECT_GROUP_TIP = (
    "Blocks of this project: select nodes on the canvas and Group them (Ctrl+G). "
    "Right-click one to save it to a file for another project."
)


class BlockTree(QTreeWidget):
    """The palette's tree: category rows holding block rows; dragging a block row carries its type name."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setColumnCount(1)
        self.setAnimated(False)
        self.setIndentation(14)
        self.setIconSize(QSize(18, 18))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def startDrag(self, supported_actions: Qt.DropAction) -> None:
        item = self.currentItem()
        block = item.data(0, BLOCK_ROLE) if item is not None else None
        path = item.data(0, FILE_ROLE) if item is not None else None
        if not block and not path:
            return
        drag = QDrag(self)
        drag.setMimeData(block_mime_data(block) if block else block_file_mime_data(Path(path)))
        # the row's own icon: its category's, a block of the project's included
        drag.setPixmap(item.icon(0).pixmap(QSize(DRAG_ICON_SIZE, DRAG_ICON_SIZE), self.devicePixelRatioF()))
        drag.setHotSpot(QPoint(DRAG_ICON_SIZE // 2, DRAG_ICON_SIZE // 2))
        drag.exec(Qt.DropAction.CopyAction)


class PalettePanel(QWidget):
    """Search box above a category tree of every block type. Drag a block to the canvas, or activate it
    (double-click, Enter on it, Enter in the search box for the best match) to add it at the canvas centre."""

    block_activated = Signal(str)  # block type name: to be added at the centre of the canvas
    block_file_activated = Signal(object)  # Path of a library block's file: to be loaded and added at the canvas centre
    save_block_requested = Signal(str)  # name of a block of the project: to be saved to a block file

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        find_keys = QKeySequence(QKeySequence.StandardKey.Find)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText(f"Search blocks ({find_keys.toString(QKeySequence.SequenceFormat.NativeText)})")
        self.search.setClearButtonEnabled(True)
        self.search.installEventFilter(self)
        self.tree = BlockTree(self)
        self.empty_label = QLabel(self)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.empty_label.setWordWrap(True)
        self.empty_label.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_label.setEnabled(False)  # drawn in the palette's disabled (muted) text colour
        self.empty_label.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.empty_label, 1)

        self.items: dict[str, QTreeWidgetItem] = {}
        self.library_items: dict[str, QTreeWidgetItem] = {}  # a shipped block's name -> its row
        self.category_items: dict[str, QTreeWidgetItem] = {}
        self.project_graph: Graph | None = None  # whose blocks are shown under "This project"
        self._stop_listening = lambda: None
        self._collapsed_before_search: set[str] | None = None
        self._best: QTreeWidgetItem | None = None
        self._build()

        self.find_shortcut = QShortcut(find_keys, self, self.focus_search)
        self.find_shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        self.search.textChanged.connect(self.set_filter)
        self.search.returnPressed.connect(self.activate_best_match)
        self.tree.itemActivated.connect(self._on_item_activated)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._show_context_menu)

    def sizeHint(self) -> QSize:
        """Wide enough for the longest block name (TransformerEncoderLayer) beside its icon, without eliding."""
        tree = self.tree
        longest = max(tree.fontMetrics().horizontalAdvance(block) for block in [*self.items, *self.library_items])
        scroll_bar = tree.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, tree)
        margins = self.layout().contentsMargins()
        width = (
            longest
            + 2 * tree.indentation()
            + tree.iconSize().width()
            + 16  # the gap after the icon and the item's own padding
            + scroll_bar
            + 2 * tree.frameWidth()
            + margins.left()
            + margins.right()
        )
        return QSize(width, 480)

    def _build(self) -> None:
        dark = palette_is_dark(self.palette())
        for category, specs in catalogue.by_category().items():
            group = self._add_group(category)
            icon = category_icon(category, dark)
            for spec in specs:
                self._add_item(group, spec, icon)
            group.setExpanded(True)
        # first (under This project, when the project has blocks), where it is seen, but folded: the layers
        # are what one draws with most, and a search unfolds it
        group = self._add_group(LIBRARY_CATEGORY, LIBRARY_GROUP_TIP, at=0)
        icon = category_icon(LIBRARY_CATEGORY, dark)
        for block in library_blocks():
            item = QTreeWidgetItem(group, [block.spec.type])
            item.setIcon(0, icon)
            item.setData(0, FILE_ROLE, str(block.path))
            item.setToolTip(0, block_tooltip(block.spec, LIBRARY_HINT))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
            self.library_items[block.spec.type] = item

    def _add_group(self, category: str, tip: str = "", at: int | None = None) -> QTreeWidgetItem:
        """A category's row, in bold, at the end of the tree (or at index `at`)."""
        group = QTreeWidgetItem([category])
        font = QFont(self.tree.font())
        font.setBold(True)
        group.setFont(0, font)
        group.setFlags(Qt.ItemFlag.ItemIsEnabled)
        group.setToolTip(0, tip)
        if at is None:
            self.tree.addTopLevelItem(group)
        else:
            self.tree.insertTopLevelItem(at, group)
        self.category_items[category] = group
        return group

    def _add_item(self, group: QTreeWidgetItem, spec: BlockSpec, icon: QIcon) -> None:
        item = QTreeWidgetItem(group, [spec.type])
        item.setIcon(0, icon)
        item.setData(0, BLOCK_ROLE, spec.type)
        item.setToolTip(0, block_tooltip(spec))
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
        self.items[spec.type] = item

    def show_project_blocks(self, graph: Graph | None) -> None:
        """Show `graph`'s project's blocks under "This project" (None: no project is open), following its
        definitions from now on."""
        self._stop_listening()
        self._stop_listening = lambda: None
        self.project_graph = graph
        if graph is not None:
            self._stop_listening = graph.subscribe(self._on_graph_event)
        self._refresh_project_blocks()

    def _on_graph_event(self, event: GraphEvent) -> None:
        if isinstance(event, DefinitionAdded | DefinitionRemoved | DefinitionRenamed):
            self._refresh_project_blocks()
        elif isinstance(event, DefinitionEdited) and event.name in self.items:
            # its doc says how many blocks it is made of
            spec = self.project_graph.block_spec(event.name)
            self.items[event.name].setToolTip(0, block_tooltip(spec))

    def show_block(self, name: str) -> None:
        """Make block `name`'s row current and scroll to it (a block just loaded into the project)."""
        item = self.items.get(name)
        if item is not None:
            if item.isHidden():
                self.search.clear()
            self.tree.setCurrentItem(item)
            self.tree.scrollToItem(item)

    def project_blocks(self) -> list[str]:
        """The names of the project's blocks shown under "This project", top to bottom."""
        group = self.category_items.get(PROJECT_CATEGORY)
        return [group.child(i).data(0, BLOCK_ROLE) for i in range(group.childCount())] if group else []

    def _refresh_project_blocks(self) -> None:
        """Rebuild the "This project" rows, first in the tree; the category is there only while it has blocks."""
        for name in self.project_blocks():
            del self.items[name]
        group = self.category_items.pop(PROJECT_CATEGORY, None)
        if group is not None:
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(group))
        definitions = list(self.project_graph.definitions) if self.project_graph is not None else []
        if definitions:
            group = self._add_group(PROJECT_CATEGORY, PROJECT_GROUP_TIP, at=0)
            icon = category_icon(PROJECT_CATEGORY, palette_is_dark(self.palette()))
            for definition in definitions:
                self._add_item(group, definition.spec(), icon)
            group.setExpanded(True)
        if self.search.text().strip():
            self.set_filter(self.search.text())

    def _refresh_icons(self) -> None:
        dark = palette_is_dark(self.palette())
        for item in [*self.items.values(), *self.library_items.values()]:
            item.setIcon(0, category_icon(item.parent().text(0), dark))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange) and self.items:
            self._refresh_icons()
        super().changeEvent(event)

    def focus_search(self) -> None:
        """Put the cursor in the search box with its text selected (Ctrl+F)."""
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def set_filter(self, text: str) -> None:
        """Show only the blocks that match `text` (all of them when it is blank); the best match becomes
        current, which is what Enter in the search box adds."""
        if self.search.text() != text:
            self.search.setText(text)  # comes back here through textChanged
            return
        searching = bool(text.strip())
        if searching and self._collapsed_before_search is None:
            self._collapsed_before_search = {c for c, item in self.category_items.items() if not item.isExpanded()}
        words = text.lower().split()
        project = [
            self.items[name]
            for name in self.project_blocks()
            if _matches_project_block(self.project_graph.block_spec(name), words)
        ]
        # the catalogue's and the library's matches by score, a tie to the catalogue: "conv" finds Conv1d first
        library = tuple(_entry(b.spec, len(_index()) + i) for i, b in enumerate(library_blocks()))
        ranked = sorted([*_ranked(_index(), words), *_ranked(library, words)], key=lambda pair: pair[0])
        matches = project + [
            self.library_items[spec.type] if spec.category == LIBRARY_CATEGORY else self.items[spec.type]
            for _, spec in ranked
        ]
        shown = {id(item) for item in matches}
        self.tree.setUpdatesEnabled(False)
        for item in [*self.items.values(), *self.library_items.values()]:
            item.setHidden(id(item) not in shown)
        for category, group in self.category_items.items():
            visible = any(not group.child(i).isHidden() for i in range(group.childCount()))
            group.setHidden(not visible)
            if searching:
                group.setExpanded(True)
            elif self._collapsed_before_search is not None:
                group.setExpanded(category not in self._collapsed_before_search)
        if not searching:
            self._collapsed_before_search = None
        self.tree.setUpdatesEnabled(True)

        self._best = matches[0] if searching and matches else None
        if self._best is not None:
            self.tree.setCurrentItem(self._best)
            self.tree.scrollToItem(self._best)
        elif searching:
            self.tree.clearSelection()
        self.tree.setVisible(bool(matches))
        self.empty_label.setVisible(not matches)
        self.empty_label.setText(f"No block matches “{text.strip()}”." if not matches else "")

    def visible_blocks(self) -> list[str]:
        """The block type names now shown, top to bottom (the project's and the catalogue's)."""
        return [block for block, item in self.items.items() if not item.isHidden()]

    def visible_library_blocks(self) -> list[str]:
        """The names of the shipped blocks now shown under "Block library"."""
        return [name for name, item in self.library_items.items() if not item.isHidden()]

    def _best_item(self) -> QTreeWidgetItem | None:
        """The row Enter in the search box activates: the highlighted block, which typing sets to the best
        match; none while the search box is blank."""
        if not self.search.text().strip():
            return None
        item = self.tree.currentItem()
        if item is not None and _is_block_row(item) and not item.isHidden():
            return item
        return self._best

    def best_match(self) -> str | None:
        """The name of the block Enter in the search box adds (a type, or a library block's name), if any."""
        item = self._best_item()
        return item.text(0) if item is not None else None

    def activate_best_match(self) -> None:
        item = self._best_item()
        if item is not None:
            self._activate(item)

    def _on_item_activated(self, item: QTreeWidgetItem, column: int) -> None:
        # A category row expands and collapses by itself (double-click, arrow keys); only blocks are added.
        if _is_block_row(item):
            self._activate(item)

    def _activate(self, item: QTreeWidgetItem) -> None:
        block, path = item.data(0, BLOCK_ROLE), item.data(0, FILE_ROLE)
        if block:
            self.block_activated.emit(block)
        else:
            self.block_file_activated.emit(Path(path))

    def context_actions(self, item: QTreeWidgetItem | None) -> list[QAction]:
        """What right-clicking `item` offers: any block can be added to the canvas, and a block of the project
        saved to a file."""
        if item is None or not _is_block_row(item):
            return []
        add = QAction("Add to Canvas", self)
        add.setStatusTip("Add it in the middle of the canvas (or drag it where it goes)")
        add.triggered.connect(lambda: self._activate(item))
        if item.parent() is not self.category_items.get(PROJECT_CATEGORY):
            return [add]
        name = item.data(0, BLOCK_ROLE)
        save = QAction("Save Block As…", self)
        save.setStatusTip(f"Write {name} to a .nbblock file, to load it into another project")
        save.setToolTip(save.statusTip())
        save.triggered.connect(lambda: self.save_block_requested.emit(name))
        return [add, save]

    def _show_context_menu(self, point: QPoint) -> None:
        actions = self.context_actions(self.tree.itemAt(point))
        if actions:
            menu = QMenu(self)
            menu.addActions(actions)
            menu.exec(self.tree.viewport().mapToGlobal(point))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_PageDown):
                self._focus_tree()
                return True
            if key == Qt.Key.Key_Escape and self.search.text():
                self.search.clear()
                return True
        return super().eventFilter(watched, event)

    def _focus_tree(self) -> None:
        current = self.tree.currentItem()
        if current is None or current.isHidden() or not _is_block_row(current):
            visible = [item for item in [*self.items.values(), *self.library_items.values()] if not item.isHidden()]
            if visible:
                self.tree.setCurrentItem(visible[0])
        self.tree.setFocus(Qt.FocusReason.OtherFocusReason)


def _is_block_row(item: QTreeWidgetItem) -> bool:
    """A block's row (the catalogue's, the project's or the library's), not a category's."""
    return bool(item.data(0, BLOCK_ROLE) or item.data(0, FILE_ROLE))

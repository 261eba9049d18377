"""The Qt binding itself: PySide6 6.12.0 dropped a reference to None on every call of a void method, which
on Python 3.11 (where None is not immortal) crashes the app after a few thousand calls. Pinned away in
.ci/constraints.txt; this test keeps it away."""

from __future__ import annotations

import sys

from PySide6.QtCore import QPointF
from PySide6.QtGui import QPainterPath
from PySide6.QtWidgets import QGraphicsPathItem


def test_void_calls_keep_none_alive(qtbot):
    item = QGraphicsPathItem()
    path = QPainterPath()
    before = sys.getrefcount(None)
    for _ in range(500):
        path.cubicTo(QPointF(1, 1), QPointF(2, 2), QPointF(3, 3))
        item.setPath(path)
        item.setPos(QPointF(1, 2))
    assert sys.getrefcount(None) - before > -100, "the Qt binding leaks references to None: see the pins"

"""The font code is shown in."""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontDatabase


def code_font() -> QFont:
    """The system's fixed-width font, asked for as fixed-pitch: where fontconfig maps "monospace" to a font
    whose tables do not say it is monospaced (Noto Sans Mono), Qt would otherwise not treat it as one."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setFixedPitch(True)
    return font

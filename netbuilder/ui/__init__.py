"""The Qt application (PySide6 + pyqtgraph). The only package that imports Qt; nothing imports it but the
entry point."""

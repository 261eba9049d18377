"""Shared test set-up: Qt runs offscreen; nothing downloads."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

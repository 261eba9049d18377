"""Shared test set-up: Qt runs offscreen; nothing downloads."""

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# caches (prepared data, compiled kernels) go to a folder of this test session, never the user's own
os.environ.setdefault("NETBUILDER_CACHE", tempfile.mkdtemp(prefix="netbuilder-pytest-cache-"))

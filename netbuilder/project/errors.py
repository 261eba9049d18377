"""Typed errors of the project package: each names the field at fault, so a person can find and fix it."""

from __future__ import annotations


class ProjectError(Exception):
    """A project file that cannot be read or written; the message names the field, never a traceback.

    `field` is the path of the culprit inside the file (`graph.nodes[3].params.out_features`), or None when
    the trouble is the file as a whole (not JSON, unreadable); `reason` is the plain-words rest.
    """

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


class SettingsError(ValueError):
    """A training setting out of range; `field` is the setting's name, `reason` what was expected."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason

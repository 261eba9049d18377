"""Diagnostic: one mistake (or doubt) found in a graph, in plain words, with a fix as data where one exists."""

from __future__ import annotations

from dataclasses import dataclass

from netbuilder.analysis.fixes import Fix

ERROR = "error"
WARNING = "warning"
SEVERITIES = (ERROR, WARNING)


@dataclass(frozen=True)
class Diagnostic:
    """A problem at `node` (None for the graph as a whole), optionally at one port or parameter.

    `code` names the kind of problem for machines and tests (shape, unconnected-input, loss-missing ...);
    `training_only` marks problems that matter for training but not for exporting the model alone. A problem
    inside a composite block is told at its instance: `path` holds the labels from the instance's inside down
    to the inner node it is at (and the message starts with them).
    """

    node: str | None
    severity: str
    code: str
    message: str
    port: str | None = None
    param: str | None = None
    fix: Fix | None = None
    training_only: bool = False
    path: tuple[str, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

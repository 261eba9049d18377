"""A project: the whole document a person edits and saves (graph, training settings, where it lives)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from netbuilder.graph import Graph
from netbuilder.project.settings import TrainingSettings


@dataclass(eq=False)
class Project:
    """One open document. `path` is None until it is first saved (or when it was built in memory).

    Equality is identity: a Graph has no value equality, and two projects with the same name are not the
    same document.

    `weights` is a safetensors file of starting weights (from `netbuilder import --weights`), keyed
    `<node id>.<tensor name>` so that renaming a node keeps them; training starts from the tensors that still
    fit. Saving copies it beside the project file (see save_project).
    """

    name: str
    graph: Graph
    training: TrainingSettings = field(default_factory=TrainingSettings)
    path: Path | None = None
    weights: Path | None = None

    @classmethod
    def new(cls, name: str) -> Project:
        """An empty, unsaved project with default training settings."""
        return cls(name=name, graph=Graph())

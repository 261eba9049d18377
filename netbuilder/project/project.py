"""A project: the whole document a person edits and saves (graph, training settings, where it lives)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from netbuilder.graph import Graph
from netbuilder.project.events import ImportGapsChanged, ProjectEvent, SettingChanged, StartingWeightsChanged
from netbuilder.project.import_gaps import ImportGap
from netbuilder.project.settings import TrainingSettings

Listener = Callable[[ProjectEvent], None]


@dataclass(eq=False)
class Project:
    """One open document. `path` is None until it is first saved (or when it was built in memory).

    Equality is identity: a Graph has no value equality, and two projects with the same name are not the
    same document.

    `weights` is a safetensors file of starting weights (from `netbuilder import --weights`), keyed
    `<node id>.<tensor name>` so that renaming a node keeps them; training starts from the tensors that still
    fit. Saving copies it beside the project file (see save_project).

    Edits of the training settings, the starting weights and the import's gaps go through `set_setting`,
    `set_settings`, `set_weights` and `set_import_gaps`, which tell listeners (`subscribe`) with one event per
    change, as the Graph does for its edits: the window's undo stack records them and its views follow them. A
    copy made with `dataclasses.replace` has no listeners.

    `named` is False while `name` is only a placeholder ("Untitled 1", a new project in the window): the first
    save names the project after its file, so the title, the recent files, the exported class and its README
    say "cifar_style_cnn" rather than "Untitled 1". A name a person gave, or one read from a file, stays.

    `import_gaps` are the calls of an imported module that no block computes (see import_gaps), kept and shown
    again until the gaps are filled; empty for a project that was drawn, or imported whole.
    """

    name: str
    graph: Graph
    training: TrainingSettings = field(default_factory=TrainingSettings)
    path: Path | None = None
    weights: Path | None = None
    named: bool = True
    import_gaps: tuple[ImportGap, ...] = ()
    _listeners: list[Listener] = field(default_factory=list, init=False, repr=False)

    @classmethod
    def new(cls, name: str, *, named: bool = True) -> Project:
        """An empty, unsaved project with default training settings; `named=False` for a placeholder name."""
        return cls(name=name, graph=Graph(), named=named)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` with every project event from now on; returns a function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def set_setting(self, name: str, value: Any) -> None:
        """Change one training setting; SettingsError (nothing changed) when the value is not valid for it.
        Setting the value it already has changes nothing and says nothing."""
        self.set_settings(replace(self.training, **{name: value}))

    def set_settings(self, settings: TrainingSettings) -> None:
        """Take `settings` whole (a run continued with its own split, say): one event per setting that
        differs, in declaration order."""
        old, self.training = self.training, settings
        before, after = old.to_dict(), settings.to_dict()
        for name, value in after.items():
            if before[name] != value:
                self._emit(SettingChanged(name, before[name], value))

    def set_weights(self, weights: Path | None) -> None:
        """Point at another starting weights file, or at none (training starts from the seed). The files
        themselves are left alone, so an undo can point back."""
        old, self.weights = self.weights, weights
        if old != weights:
            self._emit(StartingWeightsChanged(old, weights))

    def set_import_gaps(self, gaps: tuple[ImportGap, ...]) -> None:
        """Keep `gaps` as the calls the import could not map (none: the gaps are filled, or dismissed)."""
        old, self.import_gaps = self.import_gaps, tuple(gaps)
        if old != self.import_gaps:
            self._emit(ImportGapsChanged(old, self.import_gaps))

    def replay(self, event: ProjectEvent) -> None:
        """Make the change `event` describes again (an undo stack's redo); it is told like any edit."""
        self._apply(event, event.new)

    def revert(self, event: ProjectEvent) -> None:
        """Undo the change `event` describes (an undo stack's undo); it is told like any edit."""
        self._apply(event, event.old)

    def _apply(self, event: ProjectEvent, value: Any) -> None:
        if isinstance(event, SettingChanged):
            self.set_setting(event.name, value)
        elif isinstance(event, ImportGapsChanged):
            self.set_import_gaps(value)
        else:
            self.set_weights(value)

    def _emit(self, event: ProjectEvent) -> None:
        for listener in list(self._listeners):
            listener(event)

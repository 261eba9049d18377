"""What every exported format is made from: the project's generated model in eval mode, with the run's
weights or freshly initialised with the project's seed, an example input of the analysed shapes, and the
way back from an error to the node that caused it."""

from __future__ import annotations

import linecache
import re
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from netbuilder.codegen.model_code import ModelCode
from netbuilder.project import Project
from netbuilder.runtime.build import construct, load_module
from netbuilder.runtime.starting_weights import fitting_weights
from netbuilder.runtime.weights import WeightsFileError, read_state_dict

EXAMPLE_BATCH = 2  # not 1: torch.export would take a batch of 1 for a constant and drop the dynamic batch


class ExportError(Exception):
    """The weights given cannot be exported with this project; the message says why."""


@dataclass(frozen=True)
class Subject:
    """The model to export and what is needed to explain its failures."""

    project: Project
    code: ModelCode
    model: nn.Module
    model_file: str

    def example_inputs(self, batch: int = EXAMPLE_BATCH) -> tuple[torch.Tensor, ...]:
        """One tensor per forward() argument, of the analysed shape with `batch` samples; the same values on
        every call (class indices stay below the class count, so an Embedding accepts them)."""
        generator = torch.Generator().manual_seed(batch)
        tensors = []
        for model_input in self.code.inputs:
            shape = (batch, *model_input.type.features)
            if model_input.type.dtype == "int64":
                tensors.append(torch.randint(model_input.type.classes or 1, shape, generator=generator))
            else:
                tensors.append(torch.randn(shape, generator=generator))
        return tuple(tensors)

    def input_names(self) -> list[str]:
        return [model_input.name for model_input in self.code.inputs]

    def blame(self, err: BaseException) -> str:
        """'<label> (<block>) ' for the node whose line of the generated forward() the error points at
        (a frame of its traceback, or a stack trace quoted in its message, as torch.export quotes them);
        '' when it points at none."""
        labels = {attr: node for node, attr in self.code.attributes.items()}
        for line_number in self._model_lines(err):
            line = linecache.getline(self.model_file, line_number)
            found = re.search(r"self\.(\w+)", line) or re.search(r"^\s*(\w+) = ", line)
            if found and found.group(1) in labels:
                node = self.project.graph.nodes[labels[found.group(1)]]
                return f"{' '.join(node.label.split())} ({node.block}) "
        return ""

    def _model_lines(self, err: BaseException) -> Iterator[int]:
        """Lines of the model file that the error and its causes mention, innermost first."""
        quoted = re.compile(rf'File "{re.escape(self.model_file)}", line (\d+)')
        for link in error_chain(err):
            for frame in reversed(traceback.extract_tb(link.__traceback__)):
                if frame.filename == self.model_file and frame.lineno is not None:
                    yield frame.lineno
            for text in (str(link), *getattr(link, "__notes__", ())):
                for found in reversed(quoted.findall(text)):
                    yield int(found)


def error_chain(err: BaseException | None) -> list[BaseException]:
    """The error and those it was raised from or while handling, outermost first."""
    chain: list[BaseException] = []
    while err is not None and all(err is not seen for seen in chain):
        chain.append(err)
        err = err.__cause__ or err.__context__
    return chain


def make_subject(project: Project, code: ModelCode, weights: Path | None) -> Subject:
    """The generated model, with the weights at `weights` (a state_dict saved by a run) or initialised as
    train.py initialises it (torch.manual_seed(seed) just before the model is built, then the project's
    starting weights that fit)."""
    module = load_module(code.source, "model")
    model_class = getattr(module, code.class_name)
    if weights is None:
        with torch.random.fork_rng(devices=[]):  # the caller's random state is left as it was
            torch.manual_seed(project.training.seed)
            model = construct(model_class)
        if project.weights is not None:
            model.load_state_dict(starting_tensors(project, code, model_class), strict=False)
    else:
        model = construct(model_class)
        _load_into(model, read_weights(weights))
    return Subject(project, code, model.eval(), module.__file__)


def starting_tensors(project: Project, code: ModelCode, model_class: type[nn.Module]) -> dict[str, torch.Tensor]:
    """The project's starting weights that fit the generated model, by attribute; ExportError when unreadable."""
    try:
        return dict(fitting_weights(project, code, model_class).tensors)
    except FileNotFoundError:
        raise ExportError(f"the starting weights {project.weights} are missing: put the file back") from None
    except WeightsFileError as err:
        raise ExportError(str(err)) from None


def read_weights(path: Path) -> dict[str, torch.Tensor]:
    """A state_dict saved with torch.save, read with weights_only=True (nothing in the file is executed)."""
    try:
        return read_state_dict(path)
    except FileNotFoundError:
        raise ExportError(f"no weights file at {path}") from None
    except WeightsFileError as err:
        raise ExportError(str(err)) from None


def _load_into(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    own = model.state_dict()
    missing = [name for name in own if name not in state]
    unexpected = [name for name in state if name not in own]
    wrong = [name for name in own if name in state and state[name].shape != own[name].shape]
    for problem, names in (("has no", missing), ("has an unknown", unexpected), ("has a different shape for", wrong)):
        if names:
            raise ExportError(f"these weights are not this network's: the file {problem} {names[0]}")
    model.load_state_dict(state)

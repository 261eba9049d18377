"""The generated code, loaded: the model class and the functions of train.py, exactly as exported.

The engine trains with these functions (prepare_data, augment or batches, make_optimizer, make_scheduler,
mixed_precision, train_step, evaluate, count_correct), so an exported `python train.py` makes the same data
split, the same augmented batches, the same optimizer, schedule and steps and the same losses as the app:
one definition, written once by codegen.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
import threading
import types
from collections.abc import Iterator
from dataclasses import dataclass

from netbuilder.analysis import TrainingTask, analyze
from netbuilder.codegen.model_code import CodegenError, ModelCode
from netbuilder.pipeline import package_project
from netbuilder.project import Project
from netbuilder.runtime.build import construct, load_module
from netbuilder.runtime.starting_weights import StartingWeights, fitting_weights
from netbuilder.runtime.weights import WeightsFileError

_IMPORT_LOCK = threading.Lock()


class ProgramError(Exception):
    """The project cannot be trained as it is; the message says what to fix."""


@dataclass(frozen=True)
class Program:
    """A project's model code and its loaded training script, its training task, and the starting weights
    that fit (None when the project has none)."""

    model_code: ModelCode
    model_module: types.ModuleType
    script: types.ModuleType
    model_source: str
    script_source: str
    task: TrainingTask
    starting: StartingWeights | None = None
    predict_source: str = ""
    config_source: str = ""

    def predict_module(self) -> types.ModuleType:
        """The package's predict.py, loaded beside this model and train.py: its `read_inputs` reads files
        (images, CSV rows, tensors) as the exported package does, its `scale` scales them as train.py does."""
        with _as_modules(model=self.model_module, train=self.script):
            return load_module(self.predict_source, "predict")

    @property
    def config(self) -> dict:
        """The package's config.json: class names, feature columns, and the split the model trains with."""
        return json.loads(self.config_source)

    def new_model(self):
        """The network as train.py builds it: constructed (drawing from torch's generator), then given the
        starting weights, which draw nothing."""
        model = construct(getattr(self.model_module, self.model_code.class_name))
        if self.starting is not None:
            model.load_state_dict(self.starting.tensors, strict=False)
        return model


def load_program(project: Project) -> Program:
    """Generate and load the project's model.py and train.py; ProgramError if the graph cannot train."""
    analysis = analyze(project.graph)
    problems = [d.message for d in analysis.problems(training=True) if d.is_error]
    if problems:
        raise ProgramError("fix the problems first: " + "; ".join(problems[:3]))
    try:
        package = package_project(project, analysis=analysis)
    except CodegenError as err:
        raise ProgramError(str(err)) from None
    if "train.py" not in package.files:
        raise ProgramError(package.training_skipped)
    model_code = package.model
    model_module = load_module(model_code.source, "model")
    with _as_modules(model=model_module):  # train.py says `from model import ...`
        script = load_module(package.files["train.py"], "train")
    program = Program(
        model_code,
        model_module,
        script,
        model_code.source,
        package.files["train.py"],
        analysis.training_task,
        predict_source=package.files["predict.py"],
        config_source=package.files["config.json"],
    )
    if project.weights is None:
        return program
    return dataclasses.replace(program, starting=_starting_weights(project, program))


@contextlib.contextmanager
def _as_modules(**modules: types.ModuleType) -> Iterator[None]:
    """For the moment a generated file is loaded, its `from model import ...` (or train) finds these modules."""
    with _IMPORT_LOCK:
        previous = {name: sys.modules.get(name) for name in modules}
        sys.modules.update(modules)
        try:
            yield
        finally:
            for name, module in previous.items():
                if module is None:
                    del sys.modules[name]
                else:
                    sys.modules[name] = module


def _starting_weights(project: Project, program: Program) -> StartingWeights:
    """The project's starting weights that fit its network, or ProgramError saying what to do."""
    model_class = getattr(program.model_module, program.model_code.class_name)
    try:
        return fitting_weights(project, program.model_code, model_class)
    except FileNotFoundError:
        raise ProgramError(
            f"the starting weights {project.weights} are missing: put the file back beside the project, or "
            "import the model again"
        ) from None
    except WeightsFileError as err:
        raise ProgramError(str(err)) from None

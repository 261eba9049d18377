"""The files of an exported project: model.py; when the graph can train, train.py, predict.py and config.json;
requirements.txt (exactly what the scripts import) and README.md."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netbuilder.analysis import Analysis
from netbuilder.atomic_file import write_atomically
from netbuilder.codegen.identifiers import script_names, unused_class_name
from netbuilder.codegen.model_code import CodegenError, ModelCode, generate_model
from netbuilder.codegen.package_readme import generate_readme
from netbuilder.codegen.predict_script import WEIGHTS_FILES, generate_predict
from netbuilder.codegen.run_description import RunDescription, config_json, describe_run
from netbuilder.codegen.train_script import (
    REQUIREMENT_VERSIONS,
    STARTING_WEIGHTS_FILE,
    TORCH_REQUIREMENT,
    generate_training,
)
from netbuilder.graph import Graph


@dataclass(frozen=True)
class Package:
    """File name -> text, the model it defines, and why train.py is missing when it is."""

    files: dict[str, str]
    model: ModelCode
    training_skipped: str = ""


def generate_package(
    graph: Graph,
    analysis: Analysis,
    *,
    name: str,
    source: str,
    epochs: int,
    batch_size: int,
    val_fraction: float,
    seed: int,
    device: str = "auto",
    precision: str = "fp32",
    grad_clip: float = 0.0,
    early_stopping: int = 0,
    accumulation: int = 1,
    processes: int = 1,
    sync_batchnorm: str = "off",
    weights_format: str = "pt",
    starting_weights: bool = False,
) -> Package:
    """Every file of the export. Raises CodegenError when even the model cannot be generated.

    The training settings (a project's `TrainingSettings.to_dict()` fits as keywords) go into config.json.
    `weights_format` says which weights predict.py loads: "pt" (model.pt, as train.py writes it) or
    "safetensors" (model.safetensors, which the package then holds beside these files). With
    `starting_weights` train.py starts from starting_weights.safetensors, which the exporter writes beside
    these files (write_package's `binary`)."""
    if weights_format not in WEIGHTS_FILES:
        raise ValueError(f"weights_format: expected one of {', '.join(WEIGHTS_FILES)}, got {weights_format!r}")
    settings = {
        "epochs": epochs,
        "batch_size": batch_size,
        "val_fraction": val_fraction,
        "seed": seed,
        "device": device,
        "precision": precision,
        "grad_clip": grad_clip,
        "early_stopping": early_stopping,
        "accumulation": accumulation,
        "processes": processes,
        "sync_batchnorm": sync_batchnorm,
    }
    model = generate_model(graph, analysis, name=name, source=source)
    files, run, requirements, skipped = _scripts(
        graph, analysis, model, name, settings, source, weights_format, starting_weights
    )
    scripts = [text for file, text in files.items() if file.endswith(".py") and file != "model.py"]
    taken = script_names(model.source, scripts, model.class_name)
    if model.class_name in taken:  # a project named "Image" or "Dataset": its class would replace the scripts' own
        model_class = unused_class_name(model.class_name, taken)
        model = generate_model(graph, analysis, name=name, source=source, model_class=model_class)
        files, run, requirements, skipped = _scripts(
            graph, analysis, model, name, settings, source, weights_format, starting_weights
        )
    library = [name.rpartition(".")[2] for name in model.library if name.startswith("torchvision.")]
    if library:  # model.py builds torchvision's own modules (a LibraryModule: Swin's attention)
        requirements = tuple(dict.fromkeys([*requirements, REQUIREMENT_VERSIONS["torchvision"]]))
    files["requirements.txt"] = "\n".join(requirements) + "\n"
    held = [
        *files,
        *([WEIGHTS_FILES[weights_format]] if weights_format == "safetensors" else []),
        *([STARTING_WEIGHTS_FILE] if "train.py" in files and starting_weights else []),
    ]
    files["README.md"] = generate_readme(
        name=name,
        source=source,
        model_class=model.class_name,
        files=held,
        run=run,
        settings=settings,
        weights_file=WEIGHTS_FILES[weights_format],
        torchvision_classes=library,
    )
    return Package(files, model, skipped)


def _scripts(
    graph: Graph,
    analysis: Analysis,
    model: ModelCode,
    name: str,
    settings: dict[str, Any],
    source: str,
    weights_format: str,
    starting_weights: bool,
) -> tuple[dict[str, str], RunDescription | None, tuple[str, ...], str]:
    """model.py, and train.py, predict.py and config.json when the graph can train; the run they describe,
    their requirements, and why train.py is missing."""
    files = {"model.py": model.source}
    if analysis.has_errors(training=True):
        first = next(d for d in analysis.problems(training=True) if d.is_error)
        return files, None, (TORCH_REQUIREMENT,), f"train.py was not written: {first.message}"
    try:
        training = generate_training(
            graph, analysis, model, settings=settings, source=source, starting_weights=starting_weights
        )
    except CodegenError as err:
        return files, None, (TORCH_REQUIREMENT,), f"train.py was not written: {err}"
    run = describe_run(graph, analysis)
    predict = generate_predict(run, model.class_name, weights_format=weights_format, source=source)
    files |= {
        "train.py": training.source,
        "predict.py": predict.source,
        "config.json": config_json(
            run, model_class=model.class_name, weights_file=WEIGHTS_FILES[weights_format], settings=settings, name=name
        ),
    }
    return files, run, tuple(dict.fromkeys([*training.requirements, *predict.requirements])), ""


def write_package(package: Package, folder: Path) -> list[Path]:
    """Write every file of `package` into `folder` (made if missing), each atomically; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in package.files.items():
        write_atomically(folder / name, text.encode("utf-8"))
        written.append(folder / name)
    return written

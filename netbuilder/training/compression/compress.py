"""`compress`: a trained network made smaller, each result measured against the float network.

The plan runs in one order: structured channel pruning (a new version of the project, whose graph has the smaller
sizes), then magnitude pruning, then an optional short fine-tune on the engine (which keeps pruned weights at zero),
then each quantization of the pruned network. Every network on the way is written as a deployable file into the
output folder and measured the same way (measure.py); the table goes to compression.md and compression.json."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from netbuilder.atomic_file import write_atomically
from netbuilder.project import Project, copy_project, save_project
from netbuilder.runtime.starting_weights import write_starting_weights
from netbuilder.training.compression import quantization
from netbuilder.training.compression.channels import prune_channels, pruned_project
from netbuilder.training.compression.magnitude import keep_masks, prunable_weights, prune_magnitude, weight_sparsity
from netbuilder.training.compression.measure import Measurement, count_parameters, latency_samples, measure
from netbuilder.training.compression.report import report_json, report_markdown
from netbuilder.training.control import Control
from netbuilder.training.evaluation import TRAINING, VALIDATION, split_data
from netbuilder.training.predict import load_weights_into, read_weights
from netbuilder.training.program import Program, load_program

REPORT_FILE, REPORT_JSON = "compression.md", "compression.json"
PRUNED_WEIGHTS = "pruned.weights.safetensors"  # the suffix project files accept for starting weights
CALIBRATION_SAMPLES = 512  # training samples that set static int8's activation ranges

Progress = Callable[[str, float], None]  # (what is being done, share of the plan done)


class CompressionError(Exception):
    """The plan cannot be carried out on this network; the message says why and what to do."""


@dataclass(frozen=True)
class CompressionPlan:
    """What to do to the network. `macs_fraction`: channel pruning until the MACs are at most this share of the
    float network's; `sparsity`: magnitude pruning to this share of zero weights, over all layers together
    (`scope` "global") or in each layer ("layer"); `fine_tune_epochs` after pruning; `quantizations` of
    quantization.METHODS, each applied to the pruned network; `compiled`: time static int8 through
    torch.compile, which lowers it to int8 kernels (about 15 s of compiling on a small CPU)."""

    macs_fraction: float | None = None
    sparsity: float | None = None
    scope: str = "global"
    fine_tune_epochs: int = 0
    quantizations: tuple[str, ...] = ()
    compiled: bool = False

    def __post_init__(self) -> None:
        if self.macs_fraction is not None and not 0 < self.macs_fraction < 1:
            raise ValueError(f"the MACs to keep must be a share between 0 and 1, got {self.macs_fraction}")
        if self.sparsity is not None and not 0 < self.sparsity < 1:
            raise ValueError(f"the sparsity must be a share between 0 and 1, got {self.sparsity}")
        if self.scope not in ("global", "layer"):
            raise ValueError(f"the pruning scope is global or layer, got {self.scope!r}")
        unknown = [name for name in self.quantizations if name not in quantization.METHODS]
        if unknown:
            raise ValueError(f"unknown quantization {unknown[0]!r}: choose from {', '.join(quantization.METHODS)}")

    @property
    def prunes(self) -> bool:
        return self.macs_fraction is not None or self.sparsity is not None

    def steps(self) -> int:
        """How many networks the plan measures (for progress)."""
        return 1 + self.prunes + (self.prunes and self.fine_tune_epochs > 0) + len(self.quantizations)


@dataclass
class CompressionReport:
    """The measured rows (the float network first), the pruned project version written (None without channel
    pruning) and the files of the report."""

    rows: list[Measurement] = field(default_factory=list)
    project_file: Path | None = None
    files: list[Path] = field(default_factory=list)


def compress(
    project: Project,
    weights: Path,
    plan: CompressionPlan,
    out: Path,
    *,
    progress: Progress | None = None,
    control: Control | None = None,
) -> CompressionReport:
    """Carry out `plan` on `project`'s network with the run weights at `weights`, writing every network and the
    report into `out` (made if missing). CompressionError says what cannot be done."""
    from netbuilder.training.predict import PredictError
    from netbuilder.training.program import ProgramError

    tell = progress or (lambda what, done: None)
    control = control or Control()
    out.mkdir(parents=True, exist_ok=True)
    try:
        program = load_program(project)
        model = program.new_model()
        load_weights_into(model, read_weights(weights))
    except (ProgramError, PredictError) as err:
        raise CompressionError(str(err)) from None
    model = model.cpu().eval()
    report = CompressionReport()
    total, done = plan.steps(), 0

    def measured(name: str, subject: Project, its_program: Program, network: nn.Module, **kwargs) -> Measurement:
        nonlocal done
        tell(f"measuring {name}", done / total)
        row = measure(name, subject, its_program, network, data=validation, **kwargs)
        report.rows.append(row)
        done += 1
        return row

    validation = split_data(project, program, VALIDATION)  # the same samples for every network measured
    example = (latency_samples(validation, 2),)
    float_row = measured(
        "float",
        project,
        program,
        model,
        file=quantization.save_model(model, example, out / "model"),
        counts=count_parameters(model),
    )
    reference = float_row.evaluation
    subject, subject_program, network = project, program, model
    if plan.prunes:
        tell("pruning", done / total)
        subject, subject_program, network, masks, name = _pruned(project, program, model, plan, out)
        report.project_file = subject.path if plan.macs_fraction is not None else None

        def measured_pruned(row_name: str, stem: str) -> None:
            measured(
                row_name,
                subject,
                subject_program,
                network,
                file=quantization.save_model(network, example, out / stem),
                counts=count_parameters(network),
                reference=reference,
                note=_sparsity_note(network, plan),
            )

        measured_pruned(name, "pruned")
        if plan.fine_tune_epochs > 0 and not control.stopped:
            tell(f"fine-tuning for {plan.fine_tune_epochs} epochs", done / total)
            network = fine_tune(subject, network, plan.fine_tune_epochs, masks, control)
            if plan.macs_fraction is not None:  # the project version starts from the fine-tuned weights
                write_starting_weights(network.state_dict(), subject_program.model_code.attributes, subject.weights)
            measured_pruned(f"{name}, fine-tuned {plan.fine_tune_epochs} epochs", "pruned_fine_tuned")
    counts = count_parameters(network)
    calibration = _calibration(project, program) if plan.quantizations else []
    for method in plan.quantizations:
        if control.stopped:
            break
        why = quantization.why_not(network, method)
        if why:
            report.rows.append(Measurement(method, None, 0, 0, *counts, {}, {}, None, why))
            done += 1
            continue
        tell(f"quantizing: {method}", done / total)
        quantized = quantization.quantize(network, method, example_inputs=example, calibration=calibration)
        timed = quantization.compiled(quantized) if plan.compiled and method == quantization.STATIC else None
        measured(
            method,
            subject,
            subject_program,
            quantized,
            file=quantization.save_model(quantized, example, out / f"model.{method}"),
            counts=counts,
            reference=reference,
            timed=timed,
            note="timed compiled (torch.compile)" if timed is not None else "",
        )
    report.files = _write_report(report, out, project, weights, plan)
    tell("done", 1.0)
    return report


def _pruned(
    project: Project, program: Program, model: nn.Module, plan: CompressionPlan, out: Path
) -> tuple[Project, Program, nn.Module, dict[str, torch.Tensor], str]:
    """The network pruned as `plan` says, with the project and program that build it, the magnitude masks (by
    state_dict key) and the row's name."""
    network, words = copy.deepcopy(model), []
    subject, subject_program = project, program
    if plan.macs_fraction is not None:
        try:
            pruning = prune_channels(program, network, macs_fraction=plan.macs_fraction)
        except ValueError as err:
            raise CompressionError(str(err)) from None
        network = pruning.model
        try:
            subject = pruned_project(project, pruning, out / PRUNED_WEIGHTS)
        except ValueError as err:
            raise CompressionError(str(err)) from None
        stem = project.path.stem if project.path else "network"
        # the labels, and so the attributes, are the float network's: its program names the tensors by node
        write_starting_weights(network.state_dict(), program.model_code.attributes, out / PRUNED_WEIGHTS)
        subject_program = load_program(subject)
        save_project(subject, out / f"{stem}-pruned.nbproj")
        words.append(f"channels to {pruning.macs_after / pruning.macs_before:.0%} of the MACs")
    masks: dict[str, torch.Tensor] = {}
    if plan.sparsity is not None:
        masks = prune_magnitude(network, plan.sparsity, scope=plan.scope)
        words.append(f"magnitude {plan.sparsity:.0%} ({plan.scope})")
    return subject, subject_program, network.eval(), masks, "pruned: " + ", ".join(words)


def fine_tune(project: Project, network: nn.Module, epochs: int, masks: dict[str, torch.Tensor], control: Control):
    """`network` trained `epochs` more epochs on the engine with the project's settings, its pruned weights kept
    at zero; returned on the CPU in eval mode."""
    from netbuilder.training.engine import Trainer

    tuned = copy_project(project)
    tuned.set_setting("epochs", epochs)
    trainer = Trainer(tuned)
    trainer.model.load_state_dict(network.state_dict())
    device_masks = {key: mask.to(trainer.device) for key, mask in masks.items()}
    handle = keep_masks(trainer.optimizer, trainer.model, device_masks) if masks else None
    try:
        outcome = trainer.run(control=control)
    finally:
        if handle is not None:
            handle.remove()
    if outcome.status == "failed":
        raise CompressionError(f"fine-tuning failed: {outcome.message}")
    return trainer.model.cpu().eval()


def _calibration(project: Project, program: Program) -> list[tuple[torch.Tensor]]:
    """Batches of training samples (CALIBRATION_SAMPLES in all) that static int8 observes to set its ranges."""
    data = split_data(project, program, TRAINING)
    batch = project.training.batch_size
    if len(data) == 2:
        x = data[0][:CALIBRATION_SAMPLES]
    else:
        part = data[0]
        x = torch.stack([part[i][0] for i in range(min(CALIBRATION_SAMPLES, len(part)))])
    return [(x[i : i + batch],) for i in range(0, len(x), batch)]


def _sparsity_note(network: nn.Module, plan: CompressionPlan) -> str:
    """The share of zero weights, and the layers global pruning emptied (which then pass nothing on)."""
    if plan.sparsity is None:
        return ""
    note = f"{weight_sparsity(network):.1%} of the weights are zero"
    emptied = [key for module, name, key in prunable_weights(network) if not getattr(module, name).any()]
    if emptied:
        note += f"; {', '.join(emptied)} lost every weight: lower the sparsity or prune each layer (--scope layer)"
    return note


def _write_report(report: CompressionReport, out: Path, project: Project, weights: Path, plan: CompressionPlan):
    markdown, data = out / REPORT_FILE, out / REPORT_JSON
    write_atomically(markdown, report_markdown(report.rows, project.name, weights).encode())
    document = report_json(report.rows, project.name, weights) | {"plan": _plan_json(plan)}
    if report.project_file is not None:
        document["pruned_project"] = str(report.project_file)
    write_atomically(data, (json.dumps(document, indent=2, allow_nan=False, default=_finite) + "\n").encode())
    return [markdown, data]


def _plan_json(plan: CompressionPlan) -> dict:
    return {
        "macs_fraction": plan.macs_fraction,
        "sparsity": plan.sparsity,
        "scope": plan.scope,
        "fine_tune_epochs": plan.fine_tune_epochs,
        "quantizations": list(plan.quantizations),
    }


def _finite(value):
    return None if isinstance(value, float) and not math.isfinite(value) else str(value)

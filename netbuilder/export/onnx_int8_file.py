"""model.int8.onnx: the ONNX file (onnx_file's export) quantized to 8-bit integers by onnxruntime.quantization,
for CPUs and edge runtimes where a quarter of the size and integer kernels matter more than the last digits.

Which quantization, per network:
- with a convolution: static, QDQ format, weights per output channel, activations' ranges calibrated on a few
  batches of the training part (where the project has data to read; otherwise on example inputs of the
  analysed shape), since integer convolutions need activation ranges fixed ahead;
- without one (MLPs, recurrent and attention networks): dynamic, weights int8 per channel and activations
  quantized batch by batch as they come, which needs no calibration and keeps accuracy on Linear layers.

It is not exact, so it is not held to a tolerance here: this file is checked to load in onnxruntime and to give
outputs of the model's shapes; how often it agrees with torch is measured on the validation split
(validation_check)."""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

from netbuilder.export.checks import check_against_model
from netbuilder.export.onnx_file import CHECKED_BATCHES, write_onnx
from netbuilder.export.subject import Subject

FILE_NAME = "model.int8.onnx"
CALIBRATION_BATCHES = 8
CALIBRATION_BATCH = 32
_CONVOLUTIONS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


def write_onnx_int8(subject: Subject, path: Path) -> None:
    """The float ONNX export (checked by onnx_file), then quantized as the module docstring says."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory(dir=path.parent) as work:
        float_path, prepared = Path(work) / "float.onnx", Path(work) / "prepared.onnx"
        write_onnx(subject, float_path)
        quant_pre_process(str(float_path), str(prepared), skip_symbolic_shape=True)
        if uses_static(subject.model):
            quantize_static(
                str(prepared),
                str(path),
                _Calibration(subject, calibration_batches(subject)),
                quant_format=QuantFormat.QDQ,
                per_channel=True,
                activation_type=QuantType.QInt8,
                weight_type=QuantType.QInt8,
            )
        else:
            quantize_dynamic(str(prepared), str(path), per_channel=True, weight_type=QuantType.QInt8)
    _check_runs(subject, path)


def uses_static(model: nn.Module) -> bool:
    """Static quantization for a network with a convolution, dynamic for the others."""
    return any(isinstance(module, _CONVOLUTIONS) for module in model.modules())


def calibration_batches(subject: Subject) -> list[tuple[torch.Tensor, ...]]:
    """The first few batches of the project's training part as evaluate() reads it (scaled as the network sees
    it; an image folder's images normalised, never cropped or flipped); example inputs of the analysed shape
    when there is no such data (several inputs, no Dataset, data that fails to load)."""
    examples = [subject.example_inputs(CALIBRATION_BATCH + i) for i in range(CALIBRATION_BATCHES)]
    if len(subject.code.inputs) != 1:
        return examples
    from netbuilder.training.evaluation import TRAINING, split_data
    from netbuilder.training.program import load_program

    try:
        program = load_program(subject.project)
        data = split_data(subject.project, program, TRAINING)
        if program.task.dataset.streamed:
            (part,) = data
            loader = program.script.batches(part, list(range(len(part))), CALIBRATION_BATCH, "cpu", 0)
            found = [x for x, _ in itertools.islice(loader, CALIBRATION_BATCHES)]
        else:
            x = data[0]
            found = [x[i : i + CALIBRATION_BATCH] for i in range(0, len(x), CALIBRATION_BATCH)][:CALIBRATION_BATCHES]
    except Exception:  # any reason the data cannot be read: calibrating on examples still gives a file
        return examples
    dtype = examples[0][0].dtype
    return [(x.to(dtype),) for x in found] or examples


class _Calibration:
    """onnxruntime's CalibrationDataReader over the calibration batches: get_next() gives one feed at a time,
    None at the end."""

    def __init__(self, subject: Subject, batches: list[tuple[torch.Tensor, ...]]) -> None:
        names = subject.input_names()
        self._feeds: Iterator[dict] = iter(
            [{name: t.numpy() for name, t in zip(names, batch, strict=True)} for batch in batches]
        )

    def get_next(self) -> dict | None:
        return next(self._feeds, None)


def _check_runs(subject: Subject, path: Path) -> None:
    """MismatchError unless onnxruntime loads the file and gives outputs of the model's shapes at batch sizes
    other than the example's."""
    from netbuilder.export.consumers import load_consumer

    check_against_model(subject, load_consumer("onnx-int8", path), CHECKED_BATCHES, None, "the int8 ONNX file")

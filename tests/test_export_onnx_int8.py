"""model.int8.onnx: static QDQ quantization, per channel, calibrated on the training part, for a network with a
convolution; dynamic for one without; smaller than the float file and run by onnxruntime at any batch size.
(Its agreement with torch on the validation split: tests/test_export_validation.py.)"""

from __future__ import annotations

from pathlib import Path

import onnx
import onnxruntime
import pytest
import torch
from onnx import numpy_helper

from netbuilder.analysis import analyze
from netbuilder.codegen.model_code import generate_model
from netbuilder.export import export_formats
from netbuilder.export.onnx_int8_file import CALIBRATION_BATCH, CALIBRATION_BATCHES, calibration_batches
from netbuilder.export.subject import make_subject
from netbuilder.project import load_project
from netbuilder.training.evaluation import TRAINING, split_data
from netbuilder.training.program import load_program
from tests.networks import small_cnn_project
from tests.test_streaming import CLASSES, write_folder

SAMPLES = Path(__file__).parent.parent / "sample_projects"


def ops(path: Path) -> set[str]:
    return {node.op_type for node in onnx.load(str(path)).graph.node}


@pytest.mark.slow
def test_a_network_with_convolutions_is_quantized_statically_per_channel(tmp_path):
    results = export_formats(load_project(SAMPLES / "digits_cnn.nbproj"), tmp_path, ["onnx", "onnx-int8"])
    path = results["onnx-int8"].path
    assert path == tmp_path / "model.int8.onnx" and {"QuantizeLinear", "DequantizeLinear"} <= ops(path)
    model = onnx.load(str(path))
    scales = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer if "scale" in t.name}
    assert any(scale.size > 1 for scale in scales.values())  # one scale per output channel of a weight
    int8 = sorted(t.name for t in model.graph.initializer if t.data_type == onnx.TensorProto.INT8 and len(t.dims) > 1)
    assert int8 == ["conv1.weight_quantized", "fc.weight_quantized"]  # every weight is stored as int8
    assert path.stat().st_size < results["onnx"].path.stat().st_size
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.int8.onnx", "model.onnx"]  # nothing else left
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (name,) = [i.name for i in session.get_inputs()]
    for batch in (1, 7):
        (out,) = session.run(None, {name: torch.randn(batch, 1, 8, 8).numpy()})
        assert out.shape == (batch, 10)


def test_a_network_without_convolutions_is_quantized_dynamically(tmp_path):
    (result,) = export_formats(load_project(SAMPLES / "digits_mlp.nbproj"), tmp_path, ["onnx-int8"]).values()
    assert "DynamicQuantizeLinear" in ops(result.path) and "QuantizeLinear" not in ops(result.path)


def test_calibration_reads_the_training_part_as_train_py_prepares_it():
    project = load_project(SAMPLES / "digits_cnn.nbproj")
    code = generate_model(project.graph, analyze(project.graph), name=project.name)
    batches = calibration_batches(make_subject(project, code, None))
    x, _ = split_data(project, load_program(project), TRAINING)
    assert len(batches) == CALIBRATION_BATCHES
    torch.testing.assert_close(torch.cat([b for (b,) in batches]), x[: CALIBRATION_BATCHES * CALIBRATION_BATCH])


def test_an_image_folder_calibrates_on_its_training_images_as_evaluate_reads_them(tmp_path):
    folder = write_folder(tmp_path / "images")
    dataset = {"dataset": "image_folder", "path": str(folder), "image_size": 16, "normalize": True}
    project = small_cnn_project("folder", dataset, channels=4, classes=len(CLASSES), dropout=False)
    code = generate_model(project.graph, analyze(project.graph), name=project.name)
    batches = calibration_batches(make_subject(project, code, None))
    (part,) = split_data(project, load_program(project), TRAINING)
    first = torch.stack([part[i][0] for i in range(CALIBRATION_BATCH)])
    torch.testing.assert_close(batches[0][0], first)
    assert sum(len(x) for (x,) in batches) == min(len(part), CALIBRATION_BATCHES * CALIBRATION_BATCH)

"""Files for elsewhere, beside the code package (codegen.package): the weights as safetensors, TorchScript,
ONNX and the summary as Markdown. torch: imported only when something is exported."""

from netbuilder.export.formats import FORMATS, ExportResult, export_formats
from netbuilder.export.subject import ExportError

__all__ = ["FORMATS", "ExportError", "ExportResult", "export_formats"]

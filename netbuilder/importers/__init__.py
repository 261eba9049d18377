"""Existing PyTorch models into netbuilder: trace with torch.fx, map each call to a catalogue block (torch)."""

from netbuilder.importers.fx_import import (
    ImportFailure,
    ImportResult,
    UnmappedCall,
    WeightsError,
    import_module,
    load_weights,
)

__all__ = ["ImportFailure", "ImportResult", "UnmappedCall", "WeightsError", "import_module", "load_weights"]

"""Exporters: a trained student checkpoint becomes a bundle (INT8 ONNX graphs, tokenizer, manifest)."""
from .bundle import export_bundle, write_spkl
from .errors import ExportError, ParityError
from .onnx_config import OnnxExportConfig, export_config
from .verify import verify_bundle

__all__ = ["ExportError", "OnnxExportConfig", "ParityError", "export_bundle", "export_config", "verify_bundle",
           "write_spkl"]

"""Exporters: a trained student becomes an INT8 ONNX/TFLite bundle."""

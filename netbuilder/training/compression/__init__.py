"""Compression of a trained network: pruning, quantization, and the files and measurements they give."""

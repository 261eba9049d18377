"""Where training runs: the device a setting names, and how many processes read a streamed dataset ahead."""

from __future__ import annotations

import multiprocessing
import os

import torch


def resolve_device(device: str) -> torch.device:
    """'auto' takes CUDA when there is a GPU; 'cuda' without one is refused with a clear message."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("no CUDA GPU is available here: choose device 'cpu' or 'auto'")
    return torch.device(device)


def default_workers() -> int:
    """Processes that read a streamed dataset ahead of the steps: half the cores (the window keeps the rest),
    at most 8, where they can be forked. The app loads train.py from text, so a worker started by spawning
    could not import it: there the images are read in-process."""
    if multiprocessing.get_start_method() != "fork":
        return 0
    return min(8, max(1, (os.cpu_count() or 1) // 2))

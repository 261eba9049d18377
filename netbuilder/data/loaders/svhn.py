"""Street View House Numbers from train_32x32.mat (a MATLAB file, read with scipy). torchvision only downloads."""

from __future__ import annotations

import os

import numpy
import scipy.io
import torch

PATH, DOWNLOAD = "data", False


def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Street View House Numbers: colour 32x32 digits, from train_32x32.mat (the digit 0 is labelled 10)."""
    file = os.path.join(PATH, "train_32x32.mat")
    if DOWNLOAD and not os.path.isfile(file):
        import torchvision  # only to download: train.py needs it for nothing else

        torchvision.datasets.utils.download_url("http://ufldl.stanford.edu/housenumbers/train_32x32.mat", PATH)
    if not os.path.isfile(file):
        raise SystemExit(f"no {file}: download train_32x32.mat from the SVHN site, or set download")
    mat = scipy.io.loadmat(file)
    x = torch.from_numpy(mat["X"].transpose(3, 2, 0, 1).copy()).float().div(255.0)
    return x, torch.from_numpy(mat["y"].reshape(-1).astype(numpy.int64) % 10)

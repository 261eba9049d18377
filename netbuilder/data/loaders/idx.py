"""IDX files, MNIST's format, read with numpy: MNIST, Fashion-MNIST and KMNIST. torchvision only downloads."""

from __future__ import annotations

import gzip
import os
import struct

import numpy
import torch

PATH, DOWNLOAD = "data", False
FOLDER = "MNIST"


def read_idx(path: str) -> numpy.ndarray:
    """An IDX file (MNIST's format: a magic number, the sizes, then bytes), gzipped or not."""
    if not os.path.isfile(path) and os.path.isfile(path + ".gz"):
        path += ".gz"
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as stream:
        data = stream.read()
    if data[:3] != bytes([0, 0, 8]):
        raise SystemExit(f"{path} is not an IDX file of bytes (the MNIST format)")
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4 : 4 + 4 * dims])
    return numpy.frombuffer(data, dtype=numpy.uint8, offset=4 + 4 * dims).reshape(shape)


def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The training images, scaled to [0, 1], and their classes, from PATH/FOLDER/raw."""
    raw = os.path.join(PATH, FOLDER, "raw")
    images = os.path.join(raw, "train-images-idx3-ubyte")
    if DOWNLOAD and not os.path.isfile(images):
        # torchvision names the class of each of these sets as its folder (MNIST, FashionMNIST, KMNIST)
        import torchvision  # only to download: train.py needs it for nothing else

        getattr(torchvision.datasets, FOLDER)(PATH, train=True, download=True)
    if not os.path.isfile(images) and not os.path.isfile(images + ".gz"):
        raise SystemExit(f"no {FOLDER} files in {raw}: put train-images-idx3-ubyte there, or set download")
    x = read_idx(images)
    y = read_idx(os.path.join(raw, "train-labels-idx1-ubyte"))
    return torch.from_numpy(x.copy()).float().div(255.0).unsqueeze(1), torch.from_numpy(y.copy()).long()

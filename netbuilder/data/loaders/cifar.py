"""CIFAR-10 and CIFAR-100 in their binary version (plain bytes, no pickles). torchvision only downloads."""

from __future__ import annotations

import os

import numpy
import torch

PATH, DOWNLOAD = "data", False
FOLDER = "cifar-10-batches-bin"
FILES = ("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin")
LABEL_BYTES = 1
URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"


def load_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The training images, scaled to [0, 1], and their classes. Each record of the binary files is
    LABEL_BYTES label bytes (the class is the last) and a 32x32 colour image, channel after channel."""
    folder = os.path.join(PATH, FOLDER)
    if DOWNLOAD and not os.path.isdir(folder):
        import torchvision  # only to download: train.py needs it for nothing else

        torchvision.datasets.utils.download_and_extract_archive(URL, PATH)
    records = []
    for name in FILES:
        file = os.path.join(folder, name)
        if not os.path.isfile(file):
            raise SystemExit(f"no {file}: use the binary version ({URL.rsplit('/', 1)[-1]}), or set download")
        records.append(numpy.fromfile(file, dtype=numpy.uint8).reshape(-1, LABEL_BYTES + 3072))
    data = numpy.concatenate(records)
    x = torch.from_numpy(data[:, LABEL_BYTES:].copy()).float().div(255.0).reshape(-1, 3, 32, 32)
    return x, torch.from_numpy(data[:, LABEL_BYTES - 1].astype(numpy.int64))

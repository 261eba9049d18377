"""A folder of images with one subfolder per class, read from disk while training: it need not fit in memory."""

from __future__ import annotations

import os
import warnings

import numpy
import torch
from PIL import Image, UnidentifiedImageError
from torch.utils.data import Dataset

PATH, IMAGE_SIZE = "data", 32
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
MAX_IMAGE_PIXELS = 8192 * 8192


class ImageFiles(Dataset):
    """Images in one subfolder per class (the subfolder's name is the class). Each is read from its file,
    resized to a square and scaled to [0, 1] only when a batch needs it, so the folder need not fit in memory.
    """

    def __init__(self, path: str, size: int) -> None:
        self.path, self.size = path, size
        self.classes = [
            entry.name
            for entry in sorted(os.scandir(path), key=lambda e: e.name)
            if entry.is_dir() and any(name.lower().endswith(IMAGE_SUFFIXES) for name in os.listdir(entry.path))
        ]
        self.files, self.labels = [], []
        for index, name in enumerate(self.classes):
            for file in sorted(os.listdir(os.path.join(path, name))):
                if file.lower().endswith(IMAGE_SUFFIXES):
                    self.files.append(os.path.join(path, name, file))
                    self.labels.append(index)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        name = os.path.relpath(self.files[index], self.path)
        try:
            pixels = self.read(self.files[index])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ValueError(f"{name} has more than {MAX_IMAGE_PIXELS:,} pixels: remove or replace it") from None
        except UnidentifiedImageError:
            raise ValueError(f"{name} is not an image that can be read: remove or replace it") from None
        except (OSError, SyntaxError, ValueError) as err:  # PIL's errors for a damaged file
            why = "is truncated" if "truncated" in str(err) else f"cannot be read ({str(err)[:60]})"
            raise ValueError(f"{name} {why}: remove or replace it") from None
        return torch.from_numpy(pixels).permute(2, 0, 1).float().div(255.0), self.labels[index]

    def read(self, file: str) -> numpy.ndarray:
        """The image in `file` as (size, size, 3) RGB bytes, unless it has more than MAX_IMAGE_PIXELS."""
        with warnings.catch_warnings():  # PIL would only warn about an image up to twice its own bound
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                if image.width * image.height > MAX_IMAGE_PIXELS:
                    raise Image.DecompressionBombError(f"{image.width}x{image.height} pixels")
                image.draft("RGB", (self.size, self.size))  # a large JPEG decodes at a fraction of its size
                return numpy.array(image.convert("RGB").resize((self.size, self.size)))


def load_data(seed: int) -> ImageFiles:
    """Your image folder, as a dataset that reads each image when a batch needs it."""
    return ImageFiles(PATH, IMAGE_SIZE)

"""Target functions and MNIST-format data sets held on the device as normalised float tensors."""
import gzip
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from common.cli import DATASET_TITLES, ScriptError

# Training-set pixel statistics (pixels scaled to [0, 1]) used to normalise each data set.
NORMALISATION = {"mnist": (0.1307, 0.3081), "fashion-mnist": (0.2860, 0.3530)}
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
TORCHVISION_FOLDERS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
SYSTEM_FOLDERS = {"fashion-mnist": [Path("/usr/share/datasets/fashion-mnist")], "mnist": []}


class DataError(ScriptError):
    """Missing, unreadable or corrupt data files."""


# --- target functions ------------------------------------------------------------------------

def _sinc(x):
    arg = 5 * math.pi * x
    safe = torch.where(arg == 0, torch.ones_like(arg), arg)
    return torch.where(arg == 0, torch.ones_like(arg), torch.sin(safe) / safe)


TARGET_FUNCTIONS = {
    "sin(5πx)": lambda x: torch.sin(5 * math.pi * x),
    "sin(5πx)/(5πx)": _sinc,
    "5πx·sin(5πx)": lambda x: 5 * math.pi * x * torch.sin(5 * math.pi * x),
}


def function_samples(name, n_points=300, device="cpu"):
    """n evenly spaced x in [-1, 1] and f(x), both (n, 1) float32 (computed in float64)."""
    # Integer numerator so that x = 0 is exact when n is odd (linspace gives about -6e-17).
    steps = torch.arange(n_points, dtype=torch.float64, device=device)
    x = ((2 * steps - (n_points - 1)) / max(n_points - 1, 1)).unsqueeze(1)
    return x.float(), TARGET_FUNCTIONS[name](x).float()


# --- MNIST-format data -----------------------------------------------------------------------

@dataclass
class ImageData:
    """A data set on the device: images (N, 1, 28, 28) normalised float32, labels (N,) int64."""
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    name: str
    source: str
    mean: float
    std: float


def read_idx(path):
    """Parse one IDX file (plain or .gz) of unsigned bytes into a numpy array, checking its header."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or raw[3] not in (1, 3):
        raise DataError(f"{path} is not an unsigned-byte IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path} is truncated (incomplete header)")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise DataError(f"{path} has {len(raw)} bytes, expected {expected} for shape {shape} "
                        "(truncated or corrupt)")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def candidate_folders(name, data_dir):
    """Folders searched, in order, for the four IDX files of data set `name`."""
    data_dir = Path(data_dir)
    return [data_dir / TORCHVISION_FOLDERS[name] / "raw", data_dir, *SYSTEM_FOLDERS[name]]


def find_idx_files(folder):
    """Map of the four IDX files in `folder` (plain preferred over .gz), or None if any is missing."""
    found = {}
    for key, stem in IDX_FILES.items():
        for candidate in (folder / stem, folder / f"{stem}.gz"):
            if candidate.is_file():
                found[key] = candidate
                break
        else:
            return None
    return found


def download(name, data_dir):
    """Fetch the data set with torchvision into data_dir (raises on any network failure)."""
    import torchvision
    cls = {"mnist": torchvision.datasets.MNIST,
           "fashion-mnist": torchvision.datasets.FashionMNIST}[name]
    for train in (True, False):
        cls(root=str(data_dir), train=train, download=True)


def locate_dataset(name, data_dir, allow_download=True):
    """Return (folder, files) for the data set, downloading only when no local copy exists."""
    folders = candidate_folders(name, data_dir)
    for folder in folders:
        files = find_idx_files(folder)
        if files:
            return folder, files
    if allow_download:
        try:
            download(name, data_dir)
        except Exception:  # any network/IO failure ends in the same clear message below
            pass
        else:
            files = find_idx_files(folders[0])
            if files:
                return folders[0], files
    searched = ", ".join(str(f) for f in folders)
    raise DataError(
        f"{DATASET_TITLES[name]} not found (searched {searched}) and the download failed: put the "
        f"four IDX files ({', '.join(IDX_FILES.values())}, plain or .gz) in {folders[0]}"
        + ("" if name == "fashion-mnist" else ", or use --dataset fashion-mnist"))


def load_image_data(name, data_dir, device, allow_download=True, train_limit=0,
                    channels_last=False):
    """Load a whole MNIST-format data set once onto `device`, normalised with NORMALISATION.

    train_limit > 0 keeps the first train_limit training images; channels_last stores the images
    in that memory layout (faster convolutions on CPU)."""
    folder, files = locate_dataset(name, data_dir, allow_download)
    arrays = {key: read_idx(path) for key, path in files.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataError(f"{folder}: {split} images {images.shape} and labels {labels.shape} "
                            "do not match")
        if labels.size and labels.max() > 9:
            raise DataError(f"{folder}: {split} labels outside 0..9")
    mean, std = NORMALISATION[name]

    if train_limit > 0:
        arrays["train_images"] = arrays["train_images"][:train_limit]
        arrays["train_labels"] = arrays["train_labels"][:train_limit]
    layout = torch.channels_last if channels_last else torch.contiguous_format

    def to_images(a):
        t = torch.from_numpy(a.copy()).to(device=device, dtype=torch.float32)
        return ((t / 255.0 - mean) / std).unsqueeze(1).contiguous(memory_format=layout)

    def to_labels(a):
        return torch.from_numpy(a.astype(np.int64)).to(device)

    return ImageData(to_images(arrays["train_images"]), to_labels(arrays["train_labels"]),
                     to_images(arrays["test_images"]), to_labels(arrays["test_labels"]),
                     name=name, source=str(folder), mean=mean, std=std)


def subset_indices(n_total, n_subset, seed, device):
    """A fixed random subset of indices (sorted) used for train-set evaluation."""
    if n_subset >= n_total:
        return torch.arange(n_total, device=device)
    g = torch.Generator().manual_seed(seed)
    return torch.randperm(n_total, generator=g)[:n_subset].sort().values.to(device)


def minibatches(n_samples, batch_size, generator, device):
    """Yield index tensors: consecutive slices of one random permutation (last may be short)."""
    perm = torch.randperm(n_samples, generator=generator).to(device)
    for start in range(0, n_samples, batch_size):
        yield perm[start:start + batch_size]

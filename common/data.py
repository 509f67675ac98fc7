"""Target functions and MNIST-format data sets held on the device as normalised float tensors."""
import functools
import gzip
import math
import shutil
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from common.errors import DataError

DATASETS = ("mnist", "fashion-mnist")
DATASET_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
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
IMAGE_SHAPE = (28, 28)
# A training-set pixel mean this far from the data set's own, and closer to the other's, means
# the files are probably the other data set (MNIST 0.131, Fashion-MNIST 0.286).
MEAN_MISMATCH = 0.05


# --- target functions ------------------------------------------------------------------------

def _sinc(x):
    arg = 5 * math.pi * x
    safe = torch.where(arg == 0, torch.ones_like(arg), arg)
    return torch.where(arg == 0, torch.ones_like(arg), torch.sin(safe) / safe)


TARGET_FUNCTIONS = {
    "sin(5πx)": lambda x: torch.sin(5 * math.pi * x),
    "sin(5πx)/(5πx)": _sinc,
    "5πx·sin(5πx)": lambda x: 5 * math.pi * x * torch.sin(5 * math.pi * x),
    "sign(sin(5πx))": lambda x: torch.sign(torch.sin(5 * math.pi * x)),  # square wave, not smooth
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
    except (OSError, EOFError, zlib.error) as exc:
        kind = "corrupt or truncated .gz file" if path.suffix == ".gz" else "unreadable file"
        raise DataError(f"cannot read {path} ({kind}: {exc}): replace the file") from None
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
    """Map key -> path of the IDX files present in `folder` (plain preferred over .gz)."""
    found = {}
    for key, stem in IDX_FILES.items():
        for candidate in (folder / stem, folder / f"{stem}.gz"):
            if candidate.is_file():
                found[key] = candidate
                break
    return found


def _complete(name, folder):
    """The four files of `folder`, None if it holds none, a DataError if it holds only some."""
    found = find_idx_files(folder)
    if not found:
        return None
    missing = [IDX_FILES[k] for k in IDX_FILES if k not in found]
    if missing:
        raise DataError(f"{folder} holds {len(found)} of the 4 {DATASET_TITLES[name]} IDX files; "
                        f"missing: {', '.join(missing)} (plain or .gz)")
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
    data_dir = Path(data_dir)
    if data_dir.exists() and not data_dir.is_dir():
        raise DataError(f"--data-dir {data_dir} is a file, not a folder")
    folders = candidate_folders(name, data_dir)
    for folder in folders:
        files = _complete(name, folder) if folder.is_dir() else None
        if files:
            return folder, files
    if allow_download and try_download(name, data_dir):
        files = _complete(name, folders[0])
        if files:
            return folders[0], files
    searched = ", ".join(str(f) for f in folders)
    raise DataError(
        f"{DATASET_TITLES[name]} not found (searched {searched}) and the download failed: put the "
        f"four IDX files ({', '.join(IDX_FILES.values())}, plain or .gz) in {folders[0]}"
        + ("" if name == "fashion-mnist" else ", or use --dataset fashion-mnist"))


def try_download(name, data_dir):
    """download(); on failure remove every folder the attempt created and return False."""
    data_dir = Path(data_dir)
    new = [f for f in (data_dir, data_dir / TORCHVISION_FOLDERS[name],
                       data_dir / TORCHVISION_FOLDERS[name] / "raw") if not f.exists()]
    try:
        download(name, data_dir)
        return True
    except Exception:  # any network/IO failure ends in the same clear message
        if new:  # only folders this attempt created; what the user put there stays
            shutil.rmtree(new[0], ignore_errors=True)
        return False


def load_image_data(name, data_dir, device, allow_download=True, train_limit=0,
                    channels_last=False):
    """Load a whole MNIST-format data set once onto `device`, normalised with NORMALISATION.

    train_limit > 0 keeps the first train_limit training images; channels_last stores the images
    in that memory layout (faster convolutions on CPU)."""
    folder, files = locate_dataset(name, data_dir, allow_download)
    arrays = {key: read_idx(path) for key, path in files.items()}
    check_arrays(arrays, folder)
    warn_if_other_dataset(name, arrays["train_images"], folder)
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


@functools.lru_cache(maxsize=1)
def cached_image_data(name, data_dir, device, train_limit=0, channels_last=False):
    """load_image_data, loaded once per process (every training of a script names the data set
    instead of carrying its tensors)."""
    return load_image_data(name, data_dir, device, train_limit=train_limit,
                           channels_last=channels_last)


def check_arrays(arrays, folder):
    """DataError unless each split has >= 1 image of IMAGE_SHAPE, one label 0..9 per image."""
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or tuple(images.shape[1:]) != IMAGE_SHAPE:
            raise DataError(f"{folder}: {split} images have shape {images.shape[1:]}, the "
                            f"scripts need {IMAGE_SHAPE[0]}x{IMAGE_SHAPE[1]} (MNIST format)")
        if labels.ndim != 1 or len(images) != len(labels):
            raise DataError(f"{folder}: {len(images)} {split} images but labels of shape "
                            f"{labels.shape}: the files do not belong together")
        if len(images) == 0:
            raise DataError(f"{folder}: the {split} split holds no images")
        if labels.max() > 9:
            raise DataError(f"{folder}: {split} labels outside 0..9")


def warn_if_other_dataset(name, train_images, folder):
    """One warning line when the pixel mean says the files are the other data set."""
    mean = float(train_images.mean()) / 255
    own = NORMALISATION[name][0]
    other = min((n for n in NORMALISATION if n != name),
                key=lambda n: abs(NORMALISATION[n][0] - mean))
    if abs(mean - own) > MEAN_MISMATCH and abs(mean - NORMALISATION[other][0]) < abs(mean - own):
        print(f"warning: the training images in {folder} have pixel mean {mean:.3f}, expected "
              f"{own:.3f} for {DATASET_TITLES[name]}; they look like {DATASET_TITLES[other]} "
              f"(--dataset {other}), and figures and normalisation will say "
              f"{DATASET_TITLES[name]}", file=sys.stderr)


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

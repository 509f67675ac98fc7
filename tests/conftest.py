"""Shared fixtures: tiny synthetic IDX data sets that a CNN can learn in a few steps."""
import contextlib
import gzip
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common.data import IDX_FILES  # noqa: E402


# The smallest function-fit run: the vehicle of the tests of the shared script contract.
TINY_FIT = ["--quick", "--epochs", "20", "--seeds", "1", "--points", "30", "--device", "cpu"]


def unstack(stacked, k):
    """Model k of a common.models.StackedMLP as a plain MLP (a copy), its padding dropped."""
    import torch
    from common.models import MLP
    sizes = stacked.sizes[k]
    model = MLP(sizes).to(stacked.weights[0].device, stacked.weights[0].dtype)
    with torch.no_grad():
        for i, layer in enumerate(model.layers):
            layer.weight.copy_(stacked.weights[i][k, :sizes[i + 1], :sizes[i]])
            layer.bias.copy_(stacked.biases[i][k, :sizes[i + 1]])
    return model


def assert_one_line_error(capsys, main, args, code=2):
    """Run main(args), expect SystemExit(code) and exactly one stderr line; return that line."""
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == code
    err = capsys.readouterr().err.strip()
    assert err and "\n" not in err and "Traceback" not in err
    return err


def idx_bytes(array):
    """Serialise a uint8 array in IDX format (magic 0x08, ndim, big-endian dims)."""
    header = bytes([0, 0, 0x08, array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def synthetic_split(n, rng):
    """Images whose class sets which of ten 7x7 blocks is bright, plus noise; labels 0..9."""
    labels = np.arange(n) % 10
    rng.shuffle(labels)
    images = rng.integers(0, 60, size=(n, 28, 28))
    for i, label in enumerate(labels):
        row, col = divmod(int(label), 4)
        images[i, 7 * row:7 * row + 7, 7 * col:7 * col + 7] += 180
    return np.clip(images, 0, 255).astype(np.uint8), labels.astype(np.uint8)


def write_idx_set(folder, n_train=600, n_test=200, gz=False, seed=0):
    """Write the four IDX files of a synthetic set into `folder`; returns the folder."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    train, test = synthetic_split(n_train, rng), synthetic_split(n_test, rng)
    arrays = {"train_images": train[0], "train_labels": train[1],
              "test_images": test[0], "test_labels": test[1]}
    for key, stem in IDX_FILES.items():
        data = idx_bytes(arrays[key])
        if gz:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / stem).write_bytes(data)
    return folder


@pytest.fixture(scope="session")
def idx_dir(tmp_path_factory):
    """A data dir in torchvision's layout (<dir>/MNIST/raw) holding plain IDX files."""
    root = tmp_path_factory.mktemp("data")
    write_idx_set(root / "MNIST" / "raw")
    return root


@pytest.fixture(scope="session")
def idx_dir_gz(tmp_path_factory):
    """A data dir holding the four .gz IDX files directly."""
    root = tmp_path_factory.mktemp("data_gz")
    write_idx_set(root, gz=True)
    return root


# Every script that draws through save_figure (bound by name in each module).
DRAWING_SCRIPTS = ("hw1_1_mnist_cnn", "hw1_1_simulate_function", "hw1_2_grad_norm",
                   "hw1_2_optimization", "hw1_3_interpolation", "hw1_3_params_generalization",
                   "hw1_3_random_labels", "hw1_3_sensitivity")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def pytest_configure(config):
    config.addinivalue_line("markers", "real_figures: the scripts' figures are rendered to PNG "
                            "(by default a test's runs write an 8-byte placeholder per figure)")


@contextlib.contextmanager
def placeholder_figures():
    """Within: every script's save_figure writes the 8-byte PNG signature instead of rendering
    (the figure is still built by the script's plot code, one file per figure as before).
    Rendering (constrained layout, text extents, PNG) takes most of a quick run; the figures
    themselves are checked in test_figures.py on the committed results and rendered by each
    script's quick-run test (marked real_figures)."""
    import importlib
    from matplotlib import pyplot as plt

    def placeholder(fig, path):
        try:
            Path(path).write_bytes(PNG_SIGNATURE)
        finally:
            plt.close(fig)
    with pytest.MonkeyPatch.context() as patch:
        for stem in DRAWING_SCRIPTS:
            patch.setattr(importlib.import_module(stem), "save_figure", placeholder)
        yield


@pytest.fixture(autouse=True)
def figures_as_placeholders(request):
    """placeholder_figures() around every test not marked real_figures."""
    if request.node.get_closest_marker("real_figures"):
        yield
        return
    with placeholder_figures():
        yield


@pytest.fixture(autouse=True)
def no_download(monkeypatch):
    """Tests never touch the network: a download attempt fails like an offline machine."""
    def offline(name, data_dir):
        raise RuntimeError("network unreachable (test)")
    monkeypatch.setattr("common.data.download", offline)

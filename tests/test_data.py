import gzip

import numpy as np
import pytest
import torch

from common.data import (IDX_FILES, NORMALISATION, DataError, function_samples, load_image_data,
                         minibatches, read_idx)
from conftest import idx_bytes, write_idx_set


def test_idx_round_trip(tmp_path):
    a = np.random.default_rng(0).integers(0, 256, size=(5, 28, 28)).astype(np.uint8)
    (tmp_path / "x").write_bytes(idx_bytes(a))
    (tmp_path / "x.gz").write_bytes(gzip.compress(idx_bytes(a)))
    np.testing.assert_array_equal(read_idx(tmp_path / "x"), a)
    np.testing.assert_array_equal(read_idx(tmp_path / "x.gz"), a)


def test_load_plain_torchvision_layout(idx_dir):
    data = load_image_data("mnist", idx_dir, "cpu")
    assert data.train_x.shape == (600, 1, 28, 28) and data.train_x.dtype == torch.float32
    assert data.test_x.shape == (200, 1, 28, 28) and data.test_y.dtype == torch.int64
    raw = read_idx(idx_dir / "MNIST" / "raw" / IDX_FILES["train_images"])
    mean, std = NORMALISATION["mnist"]
    expected = (torch.from_numpy(raw.astype(np.float32)) / 255 - mean) / std
    torch.testing.assert_close(data.train_x[:, 0], expected)


def test_load_gz_directly_in_data_dir(idx_dir_gz, idx_dir):
    gz = load_image_data("mnist", idx_dir_gz, "cpu")
    plain = load_image_data("mnist", idx_dir, "cpu")
    assert torch.equal(gz.train_y, plain.train_y)  # same seed -> same synthetic set
    torch.testing.assert_close(gz.test_x, plain.test_x)


def test_missing_data_names_folders_and_fix(tmp_path):
    with pytest.raises(DataError) as info:
        load_image_data("mnist", tmp_path / "nowhere", "cpu")
    message = str(info.value)
    assert "MNIST not found" in message and str(tmp_path / "nowhere") in message
    assert "--dataset fashion-mnist" in message and "\n" not in message


@pytest.mark.parametrize("damage", ["magic", "truncate"])
def test_corrupt_idx_is_a_clear_error(tmp_path, damage):
    folder = write_idx_set(tmp_path / "d")
    path = folder / IDX_FILES["train_images"]
    raw = bytearray(path.read_bytes())
    if damage == "magic":
        raw[2] = 0x0D
    else:
        raw = raw[:-100]
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="magic number" if damage == "magic" else "truncated"):
        load_image_data("mnist", folder, "cpu")


def test_minibatches_are_a_permutation():
    g = torch.Generator().manual_seed(0)
    batches = list(minibatches(103, 10, g, "cpu"))
    assert [len(b) for b in batches] == [10] * 10 + [3]
    assert torch.equal(torch.cat(batches).sort().values, torch.arange(103))


def test_function_samples_closed_forms():
    x, y = function_samples("sin(5πx)/(5πx)", 301)
    assert x[150, 0] == 0 and y[150, 0] == 1  # the removable singularity at x = 0
    nonzero = x[:, 0] != 0
    expected = np.sinc(5 * x[nonzero, 0].double().numpy())  # numpy's sinc is sin(pi t)/(pi t)
    np.testing.assert_allclose(y[nonzero, 0].numpy(), expected, rtol=1e-5, atol=1e-6)
    x, y = function_samples("5πx·sin(5πx)", 300)
    assert x.shape == (300, 1) and x[0, 0] == -1 and x[-1, 0] == 1
    np.testing.assert_allclose(y[:, 0].numpy(), 5 * np.pi * x[:, 0].numpy()
                               * np.sin(5 * np.pi * x[:, 0].numpy()), rtol=1e-4, atol=1e-4)

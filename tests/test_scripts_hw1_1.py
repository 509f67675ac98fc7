"""Smoke runs of the HW1-1 scripts and the shared script contract (flags, errors, replot)."""
import json
import os

import numpy as np
import pytest
from matplotlib import pyplot as plt

import hw1_1_mnist_cnn
import hw1_1_simulate_function
from conftest import TINY_FIT, assert_one_line_error
from common.data import TARGET_FUNCTIONS


def run_ok(main, args, tmp_path):
    results = main([*args, "--quick", "--device", "cpu", "--out-dir", str(tmp_path)])
    return results


@pytest.mark.real_figures
def test_simulate_function_quick(tmp_path):
    results = run_ok(hw1_1_simulate_function.main, [], tmp_path)
    stem = "hw1_1_simulate_function"
    for name in (".json", "_loss.png", "_predictions.png", "_final_mse.png"):
        assert (tmp_path / f"{stem}{name}").stat().st_size > 0
    for name in ("_loss.png", "_predictions.png", "_final_mse.png"):   # rendered, not placeholders
        image = plt.imread(tmp_path / f"{stem}{name}")
        assert image.shape[1] <= 900 and image.shape[0] > 100
    on_disk = json.loads((tmp_path / f"{stem}.json").read_text())
    assert on_disk["meta"]["config"]["epochs"] == 300 and on_disk["meta"]["device"] == "cpu"
    assert list(results["fits"]) == list(TARGET_FUNCTIONS) and results["seeds"] == [0, 1, 2]
    for per_model in results["fits"].values():
        assert list(per_model) == ["D1", "D2", "M1", "D8", "M2", "M3"]
        for fit in per_model.values():
            final = np.asarray(fit["final_loss"])
            assert final.shape == (3,) and np.all(np.isfinite(final))
            assert fit["final_quartiles"][1] == np.median(final)
            assert fit["curve_median"][-1] < fit["curve_median"][0]
    params = {n: m["n_params"] for n, m in results["models"].items()}
    assert params == {"D1": 2200, "D2": 2206, "M1": 2177, "D8": 2194, "M2": 2113, "M3": 2233}


@pytest.mark.real_figures
def test_mnist_cnn_quick_and_replot(tmp_path, idx_dir):
    args = ["--dataset", "mnist", "--data-dir", str(idx_dir), "--batch-size", "50"]
    results = run_ok(hw1_1_mnist_cnn.main, args, tmp_path)
    assert list(results["models"]) == ["C1", "C2", "C4", "CNN1", "CNN2", "CNN3"]
    for model in results["models"].values():
        assert [run["seed"] for run in model["runs"]] == [0, 1]
        for run in model["runs"]:
            h = run["history"]
            assert np.all(np.isfinite(h["test_loss"])) and h["test_loss"][-1] < h["test_loss"][0]
        finals = [run["history"]["test_acc"][-1] for run in model["runs"]]
        assert model["final"]["test_acc"]["mean"] == np.mean(finals)
        assert model["final"]["test_acc"]["std"] == pytest.approx(np.std(finals, ddof=1))
    assert results["meta"]["dataset"] == "mnist" and results["train_eval_samples"] == 600
    png = tmp_path / "hw1_1_mnist_cnn_accuracy.png"
    png.unlink()
    before = (tmp_path / "hw1_1_mnist_cnn.json").read_text()
    replotted = hw1_1_mnist_cnn.main(["--replot", "--out-dir", str(tmp_path)])
    assert png.stat().st_size > 0 and (tmp_path / "hw1_1_mnist_cnn.json").read_text() == before
    assert replotted["models"]["CNN1"]["final"] == results["models"]["CNN1"]["final"]


def test_help_lists_every_flag_with_default(capsys):
    with pytest.raises(SystemExit) as info:
        hw1_1_mnist_cnn.main(["--help"])
    assert info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for flag in ("--quick", "--device", "--seed", "--out-dir", "--replot", "--dataset",
                 "--data-dir", "--epochs", "--lr", "--batch-size"):
        assert flag in text
    assert "(default: 10)" in text and "(default: 0.001)" in text


@pytest.mark.parametrize("args", [["--epochs", "0"], ["--dataset", "cifar"], ["--lr", "-1"],
                                  ["--batch-size", "x"], ["--no-such-flag"]])
def test_bad_flags_exit_2_with_one_line(capsys, args):
    err = assert_one_line_error(capsys, hw1_1_mnist_cnn.main, args)
    assert err.startswith("hw1_1_mnist_cnn.py: error:")


def test_missing_data_exits_2(capsys, tmp_path):
    err = assert_one_line_error(capsys, hw1_1_mnist_cnn.main, [
        "--quick", "--device", "cpu", "--dataset", "mnist", "--data-dir", str(tmp_path / "none"),
        "--out-dir", str(tmp_path / "out")])
    assert "MNIST not found" in err


def test_replot_without_json_exits_2(capsys, tmp_path):
    err = assert_one_line_error(capsys, hw1_1_simulate_function.main,
                                ["--replot", "--out-dir", str(tmp_path)])
    assert "run without --replot" in err


def test_out_dir_under_a_file_exits_2_even_for_root(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    err = assert_one_line_error(capsys, hw1_1_simulate_function.main,
                                ["--quick", "--out-dir", str(blocker / "sub" / "deeper")])
    assert f"{blocker} (a parent of --out-dir" in err and "is a file" in err
    assert blocker.read_text() == "x"


def test_out_dir_that_is_a_file_exits_2(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    err = assert_one_line_error(capsys, hw1_1_simulate_function.main,
                                ["--quick", "--out-dir", str(blocker)])
    assert err.endswith("--out-dir is a file, not a folder: choose another --out-dir")


def test_cuda_without_gpu_exits_2(capsys, tmp_path):
    import torch
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    err = assert_one_line_error(capsys, hw1_1_simulate_function.main,
                                ["--quick", "--device", "cuda", "--out-dir", str(tmp_path)])
    assert "no CUDA device" in err


def test_divergence_exits_2_and_keeps_previous_files(capsys, tmp_path):
    hw1_1_simulate_function.main([*TINY_FIT, "--out-dir", str(tmp_path)])
    before = (tmp_path / "hw1_1_simulate_function.json").read_bytes()
    err = assert_one_line_error(capsys, hw1_1_simulate_function.main, [
        *TINY_FIT, "--out-dir", str(tmp_path), "--lr", "1e38"])
    assert "diverged" in err
    assert (tmp_path / "hw1_1_simulate_function.json").read_bytes() == before
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_interrupt_during_write_keeps_previous_files(capsys, tmp_path, monkeypatch):
    hw1_1_simulate_function.main([*TINY_FIT, "--out-dir", str(tmp_path)])
    before = (tmp_path / "hw1_1_simulate_function.json").read_bytes()

    def interrupted_dump(obj, fh, **kwargs):
        fh.write('{"half": ')
        raise KeyboardInterrupt
    monkeypatch.setattr("common.outputs.json.dump", interrupted_dump)
    err = assert_one_line_error(capsys, hw1_1_simulate_function.main,
                                [*TINY_FIT, "--out-dir", str(tmp_path)], code=130)
    assert "interrupted (SIGINT); no output file was changed" in err
    assert (tmp_path / "hw1_1_simulate_function.json").read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["hw1_1_simulate_function.json",
                                            "hw1_1_simulate_function_final_mse.png",
                                            "hw1_1_simulate_function_loss.png",
                                            "hw1_1_simulate_function_predictions.png"]


def test_cnn_figures_log_only_over_a_decade_and_a_dash_per_original_model(tmp_path,
                                                                          monkeypatch):
    import hw1_1_mnist_cnn as script
    drawn = []
    monkeypatch.setattr(script, "save_figure", lambda fig, path: (drawn.append(fig), plt.close(fig)))

    def results(losses):
        def model(series, shift):
            run = {"history": {f"{split}_{k}": [v + shift for v in losses] if k == "loss"
                               else [0.5, 0.6, 0.7] for split in ("train", "test")
                               for k in ("loss", "acc")}}
            return {"series": series, "conv_layers": 2, "n_params": 100, "runs": [run, run]}
        return {"meta": {"dataset": "fashion-mnist"}, "seeds": [0, 1],
                "train_eval_samples": 10, "test_samples": 10,
                "models": {"C1": model("depth", 0.0), "CNN1": model("original", 0.01),
                           "CNN2": model("original", 0.02), "CNN3": model("original", 0.03)}}
    script.plot_classifier_curves(results([0.7, 0.5, 0.3]), tmp_path / "l.png", tmp_path / "a.png")
    loss_fig = drawn[0]
    assert loss_fig.axes[0].get_yscale() == "linear"          # 0.3 .. 0.73: under a decade
    styles = [ln.get_linestyle() for ln in loss_fig.axes[0].get_lines()]
    assert styles == ["-", "--", "-.", ":"]                    # CNN1-3 told apart by dashes
    drawn.clear()
    script.plot_classifier_curves(results([2.3, 0.5, 0.05]), tmp_path / "l.png", tmp_path / "a.png")
    assert drawn[0].axes[0].get_yscale() == "log"             # 0.05 .. 2.33: over a decade

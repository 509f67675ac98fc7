"""Every figure of every script, drawn from its committed JSON and checked without eyes.

Each script's `plot()` runs on its committed results with `save_figure` replaced by a recorder,
so that the figures are inspected as matplotlib objects: every data panel has axis labels, the
figure names its data set, text is at least 8 pt at the README's width (900 px), a log axis only
where the plotted values span a decade or more, and the lines of a panel are the series of the
JSON (checked per figure where the JSON says how many there are)."""
import importlib
import json
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.lines import Line2D
from matplotlib.text import Text

from common import report
from common.data import DATASET_TITLES

ROOT = Path(__file__).resolve().parents[1]
README_WIDTH_PX = 900
SYNTHETIC = ("sin(5πx)", "points on [")    # how the 1-D fits name their data
MIN_POINTS = 8


def draw(stem, monkeypatch, tmp_path):
    """{file name: figure} of script `stem` drawn from figures/<stem>.json."""
    module = importlib.import_module(stem)
    results = json.loads((ROOT / "figures" / f"{stem}.json").read_text())
    drawn = {}

    def record(fig, path):
        drawn[Path(path).name] = fig
    monkeypatch.setattr(module, "save_figure", record)
    module.plot(results, tmp_path, stem)
    return results, drawn


def data_axes(fig):
    """The panels that show data (not colour bars)."""
    bars = {ax for ax in fig.axes if ax.get_label() == "<colorbar>" or hasattr(ax, "_colorbar")}
    return [ax for ax in fig.axes if ax not in bars and ax.has_data()]


def shown_texts(fig):
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def plotted_values(ax, axis):
    """Every finite value a panel plots along `axis` ('x' or 'y'): lines and scatter points."""
    out = []
    for line in ax.get_lines():
        out.append(np.asarray(line.get_xdata() if axis == "x" else line.get_ydata(), float))
    for coll in ax.collections:
        if isinstance(coll, PathCollection) and len(coll.get_offsets()):
            out.append(np.asarray(coll.get_offsets(), float)[:, 0 if axis == "x" else 1])
    values = np.concatenate(out) if out else np.array([])
    return values[np.isfinite(values)]


def figure_problems(name, fig, data):
    """What is wrong with one figure; `data`: names one of which its text must mention (the
    data set, or the target function of a synthetic fit)."""
    problems = []
    width_px = fig.get_figwidth() * fig.dpi
    scale = min(1.0, README_WIDTH_PX / width_px)
    small = [t for t in shown_texts(fig) if t.get_fontsize() * scale < MIN_POINTS - 1e-9]
    if small:
        worst = min(small, key=lambda t: t.get_fontsize())
        problems.append(f"{name}: {len(small)} texts below {MIN_POINTS} pt at {README_WIDTH_PX} px "
                        f"(figure {width_px:.0f} px wide), e.g. {worst.get_text()[:30]!r} at "
                        f"{worst.get_fontsize() * scale:.1f} pt")
    if not any(any(d in t.get_text() for d in data) for t in shown_texts(fig)):
        problems.append(f"{name}: no title names its data ({' or '.join(data)})")
    axes = data_axes(fig)
    for ax in axes:
        where = f"{name} [{ax.get_title()[:30]!r}]"
        twins = ax.get_shared_y_axes().get_siblings(ax)
        if not any(other.get_ylabel() for other in twins):
            problems.append(f"{where}: no y label")
        shared = ax.get_shared_x_axes().get_siblings(ax)
        if not any(other.get_xlabel() for other in shared):
            problems.append(f"{where}: no x label")
        for axis in ("x", "y"):
            if (ax.get_xscale() if axis == "x" else ax.get_yscale()) == "log":
                group = (ax.get_shared_x_axes() if axis == "x" else ax.get_shared_y_axes())
                v = np.concatenate([plotted_values(a, axis) for a in group.get_siblings(ax)])
                v = v[v > 0]
                if len(v) and v.max() / v.min() < 10:
                    problems.append(f"{where}: log {axis} axis over {v.max() / v.min():.2g}x "
                                    "(less than a decade)")
        legend = ax.get_legend()
        if legend is not None:
            labels = [t.get_text() for t in legend.get_texts()]
            drawn = {a.get_label() for other in fig.axes   # a legend may gather twin axes' lines
                     for a in other.get_lines() + other.collections + other.patches}
            missing = [label for label in labels if label not in drawn]
            if missing:
                problems.append(f"{where}: legend entries without a line: {missing[:3]}")
    return problems


@pytest.mark.parametrize("stem", report.SCRIPTS)
def test_every_figure_is_readable_labelled_and_scaled(stem, monkeypatch, tmp_path):
    results, drawn = draw(stem, monkeypatch, tmp_path)
    assert drawn, f"{stem}.plot drew nothing"
    data = ([DATASET_TITLES[results["meta"]["dataset"]]] if "dataset" in results["meta"] else []) \
        + list(SYNTHETIC)
    problems = [p for name, fig in drawn.items() for p in figure_problems(name, fig, data)]
    for fig in drawn.values():
        matplotlib.pyplot.close(fig)
    assert not problems, "\n".join(problems)


def named_lines(ax):
    return [l.get_label() for l in ax.get_lines() if not l.get_label().startswith("_")]


def test_function_fit_panels_hold_the_series_of_the_json(monkeypatch, tmp_path):
    results, drawn = draw("hw1_1_simulate_function", monkeypatch, tmp_path)
    models = results["models"]
    depth = [n for n in models if models[n]["series"] == "depth"]
    original = [n for n in models if models[n]["series"] == "original"] + ["M1"]
    for name in ("hw1_1_simulate_function_loss.png", "hw1_1_simulate_function_predictions.png"):
        axes = np.asarray(drawn[name].axes).reshape(len(results["fits"]), 2)
        extra = 1 if "predictions" in name else 0           # the ground truth
        for row in axes:
            assert len(named_lines(row[0])) == len(depth) + extra
            assert len(named_lines(row[1])) == len(original) + extra
            assert {l.split()[0] for l in named_lines(row[0])} >= set(depth)
        # the median line of each model is its curve_median, in the JSON's order
        first = axes[0][0].get_lines()[0]
        fit = results["fits"][next(iter(results["fits"]))][depth[0]]
        if "loss" in name:
            assert np.allclose(first.get_ydata(), fit["curve_median"])
    for fig in drawn.values():
        matplotlib.pyplot.close(fig)


def test_classifier_and_sweep_panels_hold_the_series_of_the_json(monkeypatch, tmp_path):
    results, drawn = draw("hw1_1_mnist_cnn", monkeypatch, tmp_path)
    for fig in drawn.values():
        for ax in data_axes(fig):
            assert len(named_lines(ax)) == len(results["models"]), ax.get_title()
        matplotlib.pyplot.close(fig)
    results, drawn = draw("hw1_2_optimization", monkeypatch, tmp_path)
    for name in ("hw1_2_optimization_fc1.png", "hw1_2_optimization_whole.png"):
        ax = data_axes(drawn[name])[0]
        assert len(named_lines(ax)) == len(results["test_acc"])           # one per training
        assert len(ax.texts) == 3 * len(results["test_acc"])             # start, middle, end
    for fig in drawn.values():
        matplotlib.pyplot.close(fig)


def test_the_checks_fail_on_a_bad_figure():
    fig, ax = matplotlib.pyplot.subplots(figsize=(16, 4))
    ax.plot([1, 2, 3], [1.0, 1.5, 2.0], label="a")
    ax.set_yscale("log")
    ax.legend(handles=[ax.lines[0], Line2D([0], [0], label="a line nobody drew")])
    found = "\n".join(figure_problems("bad", fig, ["Fashion-MNIST"]))
    matplotlib.pyplot.close(fig)
    for problem in ("below 8 pt at 900 px", "no title names", "no y label", "no x label",
                    "less than a decade", "legend entries without a line"):
        assert problem in found


def test_sweep_marks_the_plateaus_of_its_summary(monkeypatch, tmp_path):
    results, drawn = draw("hw1_3_params_generalization", monkeypatch, tmp_path)
    fig = drawn["hw1_3_params_generalization_params.png"]
    loss_ax, acc_ax, zoom_ax = fig.axes[:3]
    s = results["summary"]

    def marks(ax):
        return {l.get_label(): list(l.get_xdata()) for l in ax.get_lines()
                if "trend detected from width" in l.get_label()}
    loss_w, acc_w = s["loss_plateau"]["plateau_from"], s["saturation"]["plateau_from"]
    loss_x = results["runs"][str(loss_w)]["n_params"]
    acc_x = results["runs"][str(acc_w)]["n_params"]
    assert marks(loss_ax) == {f"test loss: no falling trend detected from width {loss_w} on":
                              [loss_x, loss_x]}
    for ax in (acc_ax, zoom_ax):
        assert marks(ax) == {f"test accuracy: no rising trend detected from width {acc_w} on":
                             [acc_x, acc_x]}
    matplotlib.pyplot.close(fig)

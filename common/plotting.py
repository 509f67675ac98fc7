"""The shared figure style (rcParams, colours) and the small helpers that several scripts' figures
use; each script draws its own figures from its JSON."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from common.data import DATASET_TITLES  # noqa: E402

# Figures are at most README_WIDTH_IN wide (900 px at 110 dpi, the width the README shows them
# at), so that text drawn at 8 pt or more stays 8 pt or more there.
README_WIDTH_IN = 900 / 110
STYLE = {"figure.dpi": 110, "axes.grid": True, "grid.alpha": 0.3, "font.size": 9,
         "axes.titlesize": 9, "axes.labelsize": 9, "xtick.labelsize": 8, "ytick.labelsize": 8,
         "legend.fontsize": 8, "legend.title_fontsize": 8, "figure.titlesize": 10,
         "legend.framealpha": 0.85}
plt.rcParams.update(STYLE)
COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]


def save_figure(fig, path):
    """Save a matplotlib figure as PNG and close it (the runner stages the file, see outputs)."""
    try:
        fig.savefig(path, format="png", dpi=110)
    finally:
        plt.close(fig)


def plural(n, word):
    """'1 epoch', '20 epochs'."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def layer_sizes(sizes):
    """(784, 500, 50, 10) -> '784-500-50-10'."""
    return "-".join(str(s) for s in sizes)


def dataset_title(results):
    """Human name of the data set a result was produced on."""
    return DATASET_TITLES[results["meta"]["dataset"]]


def epochs_axis(n):
    """1..n as the x values of per-epoch records."""
    return np.arange(1, n + 1)


def log_scale_if_decade(ax, values, axis="y"):
    """A log scale on `axis` when the positive values span a decade or more, else linear."""
    v = np.asarray(values, float).ravel()
    v = v[np.isfinite(v) & (v > 0)]
    if len(v) and v.max() >= 10 * v.min():
        (ax.set_yscale if axis == "y" else ax.set_xscale)("log")


FIGURE_WIDTH_IN = README_WIDTH_IN - 0.1   # a little under 900 px, so that 8 pt stays 8 pt


def panels(nrows, ncols, height, **kw):
    """A figure of nrows x ncols panels at the README's width, with constrained layout (so that
    titles, legends outside the axes and colour bars get their room)."""
    return plt.subplots(nrows, ncols, figsize=(FIGURE_WIDTH_IN, height), layout="constrained", **kw)


def mosaic(layout, height):
    """panels() for a subplot_mosaic layout (e.g. [["a", "b"], ["c", "c"]]): figure, {name: axes}."""
    return plt.subplot_mosaic(layout, figsize=(FIGURE_WIDTH_IN, height), layout="constrained")


def legend_outside(fig, axes, ncol=2):
    """One legend for the figure below its panels, with every labelled line of `axes` once (no
    legend on the data; above the panels it would collide with the title)."""
    handles = {}
    for ax in np.ravel(axes):
        for h, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, h)
    return fig.legend(list(handles.values()), list(handles), loc="outside lower center",
                      ncol=ncol, frameon=False, handlelength=3.5)

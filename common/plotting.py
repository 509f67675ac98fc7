"""The shared figure style (rcParams, colours) and the small helpers that several scripts' figures
use; each script draws its own figures from its JSON."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from common.data import DATASET_TITLES  # noqa: E402

STYLE = {"figure.dpi": 110, "axes.grid": True, "grid.alpha": 0.3, "font.size": 9,
         "axes.titlesize": 10, "legend.fontsize": 8, "legend.framealpha": 0.85}
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

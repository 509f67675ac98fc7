"""Figure functions: they take result dicts (as read from JSON) and never train."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from common.cli import DATASET_TITLES, save_figure  # noqa: E402

STYLE = {"figure.dpi": 110, "axes.grid": True, "grid.alpha": 0.3, "font.size": 9,
         "axes.titlesize": 10, "legend.fontsize": 8, "legend.framealpha": 0.85}
plt.rcParams.update(STYLE)
COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]


def dataset_title(results):
    """Human name of the data set a result was produced on."""
    return DATASET_TITLES[results["meta"]["dataset"]]


def epochs_axis(n):
    """1..n as the x values of per-epoch records."""
    return np.arange(1, n + 1)


def plot_function_losses(results, path):
    """Training loss vs epoch (log y), one panel per target function, one line per model."""
    functions = results["functions"]
    fig, axes = plt.subplots(1, len(functions), figsize=(4.2 * len(functions), 3.6), squeeze=False)
    for ax, (fname, fits) in zip(axes[0], functions.items()):
        for color, (mname, fit) in zip(COLORS, fits.items()):
            conv = fit["convergence_epoch"]
            note = f"converged at epoch {conv}" if conv else "not converged"
            ax.plot(epochs_axis(len(fit["loss"])), fit["loss"], color=color, lw=1,
                    label=f"{mname} ({fit['n_params']:,} params; {note})")
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("training MSE")
        ax.set_title(f"target y = {fname}")
        ax.legend(loc="upper right")
    fig.suptitle("Function fitting: training loss (full batch, 300 points on [-1, 1])")
    fig.tight_layout()
    save_figure(fig, path)


def plot_function_predictions(results, path):
    """Model predictions against the ground truth, one panel per target function."""
    x = np.asarray(results["x"])
    functions = results["functions"]
    fig, axes = plt.subplots(1, len(functions), figsize=(4.2 * len(functions), 3.6), squeeze=False)
    for ax, (fname, fits) in zip(axes[0], functions.items()):
        ax.plot(x, results["targets"][fname], color="black", lw=2.5, alpha=0.35,
                label="ground truth")
        for color, (mname, fit) in zip(COLORS, fits.items()):
            ax.plot(x, fit["prediction"], color=color, lw=1,
                    label=f"{mname} (final MSE {fit['final_loss']:.2e})")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_title(f"target y = {fname}")
        ax.legend(loc="best")
    fig.suptitle("Function fitting: predictions after training vs ground truth")
    fig.tight_layout()
    save_figure(fig, path)


def plot_classifier_curves(results, path_loss, path_acc):
    """Loss and accuracy vs epoch, train and test, one colour per model (two figures)."""
    title = dataset_title(results)
    subset = results["train_eval_samples"]
    for key, ylabel, path in (("loss", "cross-entropy", path_loss), ("acc", "accuracy (%)", path_acc)):
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        for color, (name, run) in zip(COLORS, results["models"].items()):
            h = run["history"]
            scale = 100 if key == "acc" else 1
            ep = epochs_axis(len(h[f"test_{key}"]))
            ax.plot(ep, np.asarray(h[f"train_{key}"]) * scale, color=color, ls="-",
                    label=f"{name} train ({run['n_params']:,} params)")
            ax.plot(ep, np.asarray(h[f"test_{key}"]) * scale, color=color, ls="--",
                    label=f"{name} test")
        if key == "loss":
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.set_title(f"{title} CNNs: {ylabel} per epoch (eval mode; train = "
                     f"{subset:,}-sample subset)")
        ax.legend(ncol=2)
        fig.tight_layout()
        save_figure(fig, path)

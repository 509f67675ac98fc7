"""Figure functions: they take result dicts (as read from JSON) and never train."""
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
    x, cfg = results["x"], results["meta"]["config"]
    fig.suptitle(f"Function fitting: training MSE, {results['optimiser']} lr {cfg['lr']:g}, "
                 f"{len(x)} points on [{x[0]:g}, {x[-1]:g}]")
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
        ax.set_title(f"{title}, {' / '.join(results['models'])}: {ylabel} per epoch\n(eval mode; "
                     f"train = fixed {subset:,}-image subset, test = {results['test_samples']:,} "
                     "images)")
        ax.legend(ncol=2)
        fig.tight_layout()
        save_figure(fig, path)


def draw_pca_paths(ax, coords, accuracy, every):
    """Draw each run's path (coords: runs x records x 2) and label every `every`-th record, and
    the last one, with that same record's test accuracy (accuracy: runs x records, in [0, 1])."""
    coords, accuracy = np.asarray(coords), np.asarray(accuracy)
    for run, (path, acc) in enumerate(zip(coords, accuracy)):
        color = COLORS[run % len(COLORS)]
        ax.plot(path[:, 0], path[:, 1], "-o", color=color, ms=2.5, lw=0.8, label=f"training {run + 1}")
        ax.plot(*path[0], marker="s", color=color, ms=5)
        labelled = sorted(set(range(0, len(path), every)) | {len(path) - 1})
        for rec in labelled:
            ax.annotate(f"{100 * acc[rec]:.1f}", xy=path[rec], xytext=(3, 3),
                        textcoords="offset points", fontsize=6, color=color)


def plot_pca_paths(results, part, every, path):
    """PCA of parameter snapshots of all trainings, one colour per training."""
    pca = results["pca"][part]
    ratio = pca["explained_variance_ratio"]
    fig, ax = plt.subplots(figsize=(9, 7))
    draw_pca_paths(ax, pca["coords"], results["test_acc"], every)
    ax.set_xlabel(f"PC1 ({100 * ratio[0]:.1f}% of variance)")
    ax.set_ylabel(f"PC2 ({100 * ratio[1]:.1f}% of variance)")
    what = ("fc1 (weights + bias)" if part == "fc1" else "whole model") + f", {pca['n_params']:,} parameters"
    ax.set_title(f"{dataset_title(results)}, MLP {layer_sizes(results['sizes'])}: PCA of {what}\n"
                 f"square = initialisation; numbers = test accuracy (%) every "
                 f"{every} epochs and at the end")
    ax.legend(ncol=2, loc="best")
    fig.tight_layout()
    save_figure(fig, path)


def plot_grad_norm(results, part, path):
    """Gradient norm (top) and loss (bottom) vs iteration, shared x axis, log y."""
    run = results[part]
    it = np.arange(1, len(run["loss"]) + 1)
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(7, 5.5))
    top.plot(it, run["grad_norm"], color=COLORS[0], lw=0.8, label="gradient norm")
    bottom.plot(it, run["loss"], color=COLORS[1], lw=0.8,
                label="training MSE" if part == "function" else "minibatch cross-entropy")
    top.set_ylabel("‖∇L‖₂ (all parameters)")
    bottom.set_ylabel("loss")
    bottom.set_xlabel("iteration")
    for ax in (top, bottom):
        ax.set_yscale("log")
        ax.legend(loc="upper right")
    net = f"{layer_sizes(run['sizes'])} ReLU net ({run['n_params']:,} params)"
    if part == "function":
        title = (f"{net} fitting {run['target']}\nfull-batch Adam lr {run['lr']:g}, "
                 f"{run['points']} points")
    else:
        title = (f"{dataset_title(results)}, MLP {net}\nAdam lr {run['lr']:g}, batch "
                 f"{run['batch_size']} ({run['iterations_per_epoch']} iterations per epoch)")
    top.set_title(title)
    fig.tight_layout()
    save_figure(fig, path)


def plot_minimal_ratio(results, path):
    """Final loss (log y) against the minimal ratio, marked by whether ‖∇L‖ reached the threshold."""
    mr = results["minimal_ratio"]
    rows = mr["trainings"]
    fig, ax = plt.subplots(figsize=(6.8, 4.6))
    for reached, marker, color in ((True, "o", COLORS[0]), (False, "x", COLORS[3])):
        sel = [r for r in rows if r["reached"] == reached]
        if sel:
            ax.scatter([r["minimal_ratio"] for r in sel], [r["loss"] for r in sel], marker=marker,
                       color=color, s=22, label=f"‖∇L‖ {'<' if reached else '≥'} "
                       f"{mr['threshold']:g} ({len(sel)} of {len(rows)})")
    ax.set_yscale("log")
    ax.set_xlabel(f"minimal ratio = share of Hessian eigenvalues > {mr['eig_rel_tol']:g}·max|λ|")
    ax.set_ylabel("training MSE at the end point")
    ax.set_title(f"{layer_sizes(mr['sizes'])} ReLU net on {mr['target']}: loss vs minimal ratio\n"
                 f"({len(rows)} trainings; exact float64 Hessian over all {mr['n_params']:,} "
                 "parameters)")
    ax.legend(loc="best")
    fig.tight_layout()
    save_figure(fig, path)


def endpoint_label(endpoint):
    """'batch 100, lr 0.01' from an endpoint record of the interpolation JSON."""
    return f"batch {endpoint['batch_size']}, lr {endpoint['lr']:g}"


def plot_interpolation(results, pair, path):
    """Cross-entropy (left, log) and accuracy (right) along theta(alpha), train solid, test dashed."""
    data = results["pairs"][pair]
    alpha = np.asarray(results["alphas"])
    fig, ax_loss = plt.subplots(figsize=(7.2, 4.6))
    ax_acc = ax_loss.twinx()
    ax_acc.grid(False)
    lines = []
    for split, style in (("train", "-"), ("test", "--")):
        lines += ax_loss.plot(alpha, data[f"{split}_loss"], style, color=COLORS[0],
                              label=f"{split} cross-entropy (left)")
        lines += ax_acc.plot(alpha, 100 * np.asarray(data[f"{split}_acc"]), style, color=COLORS[1],
                             label=f"{split} accuracy (right)")
    for a, key in ((0, "theta_1"), (1, "theta_2")):
        ax_loss.axvline(a, color="grey", lw=0.8, ls=":")
        ax_loss.annotate(f"α={a}: {endpoint_label(results['endpoints'][data[key]])}", xy=(a, 1),
                         xycoords=("data", "axes fraction"), xytext=(3, -12),
                         textcoords="offset points", fontsize=7, color="dimgrey")
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("α  (θ(α) = (1 − α)·θ₁ + α·θ₂)")
    ax_loss.set_ylabel("cross-entropy", color=COLORS[0])
    ax_acc.set_ylabel("accuracy (%)", color=COLORS[1])
    ax_acc.set_ylim(0, 100)
    ax_loss.legend(lines, [ln.get_label() for ln in lines], loc="center left", fontsize=7)
    what = data["varies"]
    ax_loss.set_title(f"{dataset_title(results)}, {results['model']}: interpolation between two "
                      f"{what}s\n"
                      f"(train = fixed {results['train_eval_samples']:,}-sample subset, "
                      f"test = {results['test_samples']:,} images)")
    fig.tight_layout()
    save_figure(fig, path)


def _line_with_band(ax, x, stats, key, scale, **kw):
    mean = np.asarray([s[key]["mean"] for s in stats]) * scale
    std = np.asarray([s[key]["std"] for s in stats]) * scale
    (line,) = ax.plot(x, mean, marker="o", ms=3, **kw)
    if np.any(std > 0):
        ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.15, lw=0)
    return line


def plot_sensitivity(results, path):
    """Top: train/test loss and sensitivity; bottom: train/test accuracy and sensitivity; x log2."""
    sizes = results["batch_sizes"]
    stats = [results["runs"][str(b)] for b in sizes]
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(7.2, 6.8))
    n_seeds = len(results["seeds"])
    for ax, key, ylabel, scale in ((top, "loss", "cross-entropy", 1), (bottom, "acc", "accuracy (%)", 100)):
        lines = [_line_with_band(ax, sizes, stats, f"train_{key}", scale, color=COLORS[0],
                                 ls="-", label=f"train {ylabel}"),
                 _line_with_band(ax, sizes, stats, f"test_{key}", scale, color=COLORS[0],
                                 ls="--", label=f"test {ylabel}")]
        right = ax.twinx()
        right.grid(False)
        lines.append(_line_with_band(right, sizes, stats, "sensitivity", 1, color=COLORS[3],
                                     label="sensitivity ‖∂softmax/∂x‖_F (right)"))
        ax.set_ylabel(ylabel, color=COLORS[0])
        right.set_ylabel("sensitivity (mean over test subset)", color=COLORS[3])
        # long handles so that the dashed test lines show as dashed next to their markers
        ax.legend(lines, [ln.get_label() for ln in lines], loc="best", fontsize=7, handlelength=5)
    bottom.set_xscale("log", base=2)
    bottom.set_xticks(sizes, [str(b) for b in sizes])
    bottom.set_xlabel("training batch size (log₂ scale)")
    band = f"mean ± std over {n_seeds} seeds" if n_seeds > 1 else "1 seed"
    cfg = results["meta"]["config"]
    top.set_title(f"{dataset_title(results)}, {results['model']}, SGD lr {cfg['lr']:g}, "
                  f"{plural(cfg['epochs'], 'epoch')} each ({band})\n"
                  f"sensitivity over {results['sensitivity_samples']:,} test images")
    fig.tight_layout()
    save_figure(fig, path)

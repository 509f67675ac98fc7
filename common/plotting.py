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


def model_label(name, model):
    """'D1 1-733-1 (2,200 params)' from a model record of the function-fit JSON."""
    sizes = layer_sizes([1, *model["hidden"], 1])
    if len(sizes) > 22:
        sizes = f"{model['depth']}×{model['hidden'][0]}" if len(set(model["hidden"])) == 1 \
            else f"{model['depth']} hidden layers"
    return f"{name} {sizes} ({model['n_params']:,} params)"


def _target_grid(n):
    """Figure and flat list of axes for n targets (2 columns)."""
    rows = (n + 1) // 2
    fig, axes = plt.subplots(rows, 2, figsize=(11, 3.6 * rows), squeeze=False)
    return fig, axes.ravel()


def plot_function_losses(results, path):
    """Median training MSE over seeds (line) and interquartile band, per model; log y."""
    fits, models = results["fits"], results["models"]
    fig, axes = _target_grid(len(fits))
    for ax, (fname, per_model) in zip(axes, fits.items()):
        for color, (name, fit) in zip(COLORS, per_model.items()):
            epochs = fit["curve_epochs"]
            ax.plot(epochs, fit["curve_median"], color=color, lw=1,
                    label=model_label(name, models[name]))
            ax.fill_between(epochs, fit["curve_q1"], fit["curve_q3"], color=color, alpha=0.15,
                            lw=0)
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("training MSE")
        ax.set_title(f"target y = {fname}")
    axes[0].legend(loc="lower left", fontsize=7)
    x, cfg = results["x"], results["meta"]["config"]
    fig.suptitle(f"Function fitting: training MSE, median over {len(results['seeds'])} seeds with "
                 f"interquartile band ({results['optimiser']} lr {cfg['lr']:g}, {len(x)} points on "
                 f"[{x[0]:g}, {x[-1]:g}])")
    fig.tight_layout()
    save_figure(fig, path)


def plot_function_predictions(results, path):
    """Prediction of each model's median-final-MSE seed against the ground truth, per target."""
    x = np.asarray(results["x"])
    fits = results["fits"]
    fig, axes = _target_grid(len(fits))
    for ax, (fname, per_model) in zip(axes, fits.items()):
        ax.plot(x, results["targets"][fname], color="black", lw=2.5, alpha=0.35,
                label="ground truth")
        for color, (name, fit) in zip(COLORS, per_model.items()):
            final = sorted(fit["final_loss"])[(len(fit["final_loss"]) - 1) // 2]
            ax.plot(x, fit["median_prediction"], color=color, lw=1,
                    label=f"{name} (seed {fit['median_seed']}, final MSE {final:.2e})")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_title(f"target y = {fname}")
        ax.legend(loc="best", fontsize=6)
    fig.suptitle("Function fitting: prediction of each model's median seed (by final MSE) vs "
                 "ground truth")
    fig.tight_layout()
    save_figure(fig, path)


def plot_final_mse(results, path):
    """Final MSE of every seed (dots) and the median (bar), per model and target; log y."""
    fits, models = results["fits"], results["models"]
    fig, axes = _target_grid(len(fits))
    rng = np.random.default_rng(0)  # horizontal jitter only, so that equal values stay visible
    for ax, (fname, per_model) in zip(axes, fits.items()):
        names = list(per_model)
        for i, (color, name) in enumerate(zip(COLORS, names)):
            final = np.asarray(per_model[name]["final_loss"])
            ax.scatter(i + rng.uniform(-0.15, 0.15, len(final)), final, s=12, color=color,
                       alpha=0.8, lw=0)
            ax.hlines(np.median(final), i - 0.3, i + 0.3, color="black", lw=1.5)
        ax.set_xticks(range(len(names)),
                      [f"{n}\n{models[n]['depth']} hidden" for n in names], fontsize=7)
        ax.set_yscale("log")
        ax.set_ylabel("final training MSE")
        ax.set_title(f"target y = {fname}")
    fig.suptitle(f"Function fitting: final MSE of each of {len(results['seeds'])} seeds (dots) "
                 "and the median (bar) per model")
    fig.tight_layout()
    save_figure(fig, path)


def plot_classifier_curves(results, path_loss, path_acc):
    """Loss and accuracy vs epoch: mean over seeds with a ±1 std band, one colour per model;
    left panel the fixed training subset, right panel the test set (two figures)."""
    title = dataset_title(results)
    n_seeds = len(results["seeds"])
    for key, ylabel, path in (("loss", "cross-entropy", path_loss), ("acc", "accuracy (%)", path_acc)):
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), sharey=True)
        scale = 100 if key == "acc" else 1
        for ax, split in zip(axes, ("train", "test")):
            for color, (name, model) in zip(COLORS, results["models"].items()):
                curves = np.asarray([run["history"][f"{split}_{key}"] for run in model["runs"]])
                mean = curves.mean(0) * scale
                std = curves.std(0, ddof=1) * scale if len(curves) > 1 else 0 * mean
                ep = epochs_axis(curves.shape[1])
                ax.plot(ep, mean, color=color, lw=1.2, ls="-" if model["series"] == "depth" else "--",
                        label=f"{name}: {model['conv_layers']} conv ({model['n_params']:,} params)")
                ax.fill_between(ep, mean - std, mean + std, color=color, alpha=0.15, lw=0)
            where = (f"fixed {results['train_eval_samples']:,}-image training subset" if split == "train"
                     else f"test set ({results['test_samples']:,} images)")
            ax.set_title(where)
            ax.set_xlabel("epoch")
            if key == "loss":
                ax.set_yscale("log")
        axes[0].set_ylabel(ylabel)
        axes[1].legend(fontsize=7, handlelength=3)
        fig.suptitle(f"{title} CNNs: {ylabel} per epoch in eval mode, mean ± std over {n_seeds} "
                     "seeds (solid: depth series, dashed: original CNN1-3)")
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


def endpoint_label(endpoint):
    """'batch 100, lr 0.01' from an endpoint record of the interpolation JSON."""
    return f"batch {endpoint['batch_size']}, lr {endpoint['lr']:g}"


def plot_interpolation(results, pair, path):
    """Cross-entropy (left, log) and accuracy (right) along theta(alpha), train solid, test
    dashed, one line per seed pair."""
    alpha = np.asarray(results["alphas"])
    fig, ax_loss = plt.subplots(figsize=(7.2, 5.2))
    ax_acc = ax_loss.twinx()
    ax_acc.grid(False)
    lines = []
    for i, seed_run in enumerate(results["per_seed"]):
        data = seed_run["pairs"][pair]
        for split, style in (("train", "-"), ("test", "--")):
            loss = ax_loss.plot(alpha, data[f"{split}_loss"], style, color=COLORS[0], lw=1,
                                label=f"{split} cross-entropy (left)")
            acc = ax_acc.plot(alpha, 100 * np.asarray(data[f"{split}_acc"]), style,
                              color=COLORS[1], lw=1, label=f"{split} accuracy (right)")
            # the barrier's baseline: the straight line between the two end losses
            seg = (alpha >= 0) & (alpha <= 1)
            l0, l1 = (data[f"{split}_loss"][list(alpha).index(a)] for a in (0.0, 1.0))
            chord = ax_loss.plot(alpha[seg], (1 - alpha[seg]) * l0 + alpha[seg] * l1, ":",
                                 color="black", lw=0.9,
                                 label="straight line between the end losses (left)")
            if i == 0:
                lines += loss + acc
                chords = chord
    first = results["per_seed"][0]
    data = first["pairs"][pair]
    for a, key in ((0, "theta_1"), (1, "theta_2")):
        ax_loss.axvline(a, color="grey", lw=0.8, ls=":")
        ax_loss.annotate(f"α={a}: {endpoint_label(first['endpoints'][data[key]])}", xy=(a, 0),
                         xycoords=("data", "axes fraction"), xytext=(3, 4),
                         textcoords="offset points", fontsize=7, color="dimgrey")
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("α  (θ(α) = (1 − α)·θ₁ + α·θ₂)")
    ax_loss.set_ylabel("cross-entropy", color=COLORS[0])
    ax_acc.set_ylabel("accuracy (%)", color=COLORS[1])
    ax_acc.set_ylim(0, 100)
    lines += chords
    ax_loss.legend(lines, [ln.get_label() for ln in lines], loc="upper center", fontsize=7,
                   bbox_to_anchor=(0.5, -0.12), ncol=3, frameon=False)
    n = len(results["per_seed"])
    ax_loss.set_title(f"{dataset_title(results)}, {results['model']}: interpolation between two "
                      f"{data['varies']}s, {n} seed pairs (one line each)\n"
                      f"(train = fixed {results['train_eval_samples']:,}-sample subset, "
                      f"test = {results['test_samples']:,} images)", fontsize=9)
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
                  f"on a fixed {results['train_eval_samples']:,}-image training subset; "
                  f"sensitivity over {results['sensitivity_samples']:,} test images")
    fig.tight_layout()
    save_figure(fig, path)


def _surface_contour(ax, xs, ys, loss, fig):
    """Filled contours of log10(loss) over the grid (loss indexed [x, y]) with a colour bar."""
    loss = np.log10(np.asarray(loss).T)
    cs = ax.contourf(xs, ys, loss, levels=25, cmap="viridis")
    ax.contour(xs, ys, loss, levels=cs.levels[::3], colors="white", linewidths=0.4, alpha=0.6)
    fig.colorbar(cs, ax=ax, label="log₁₀ training cross-entropy")


def plot_surface_path(results, path):
    """Loss over the plane of the top-2 principal directions of one training's path, with the
    path (one marker per epoch record) projected onto it."""
    s = results["surfaces"]
    plane = s["path_plane"]
    ratio = plane["explained_variance_ratio"]
    fig, ax = plt.subplots(figsize=(7.4, 5.8))
    _surface_contour(ax, plane["a"], plane["b"], plane["loss"], fig)
    coords = np.asarray(plane["path"])
    ax.plot(coords[:, 0], coords[:, 1], "-o", color="red", ms=2.5, lw=1,
            label=f"training {s['training']} path ({len(coords)} records)")
    ax.plot(*coords[0], marker="s", color="red", ms=6, ls="none", label="initialisation")
    ax.plot(0, 0, marker="*", color="white", mec="black", ms=12, ls="none", label="final model")
    ax.set_xlabel(f"direction 1 ({100 * ratio[0]:.1f}% of the path's variance)")
    ax.set_ylabel(f"direction 2 ({100 * ratio[1]:.1f}% of the path's variance)")
    ax.set_title(f"{dataset_title(results)}, MLP {layer_sizes(results['sizes'])}, training "
                 f"{s['training']}:\nloss over the plane of its path's top-2 principal directions\n"
                 f"({len(plane['a'])}×{len(plane['b'])} grid, fixed {s['eval_samples']:,}-image "
                 "training subset)")
    ax.legend(loc="best", fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)


def plot_surface_random(results, path):
    """Left: loss over two filter-normalised random directions around the final model;
    right: 1-D slices along such directions for two trainings (log y)."""
    s = results["surfaces"]
    plane = s["random_plane"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12.5, 5))
    _surface_contour(left, plane["alpha"], plane["beta"], plane["loss"], fig)
    left.plot(0, 0, marker="*", color="white", mec="black", ms=12, ls="none", label="final model")
    left.set_xlabel("α (random direction 1, filter-normalised)")
    left.set_ylabel("β (random direction 2, filter-normalised)")
    left.set_title(f"training {s['training']}: {len(plane['alpha'])}×{len(plane['beta'])} grid")
    left.legend(loc="upper right", fontsize=7)
    t = s["slices"]["t"]
    for i, (name, loss) in enumerate(s["slices"]["loss"].items()):
        right.plot(t, loss, color=COLORS[i // 2], ls="-" if i % 2 == 0 else "--", label=name)
    right.set_yscale("log")
    right.set_xlabel("t (θ + t·d, d filter-normalised)")
    right.set_ylabel("training cross-entropy")
    right.set_title("1-D slices through two final models")
    right.legend(fontsize=7, handlelength=3)
    fig.suptitle(f"{dataset_title(results)}, MLP {layer_sizes(results['sizes'])}: loss around the "
                 f"final model along random directions (fixed {s['eval_samples']:,}-image "
                 "training subset)")
    fig.tight_layout()
    save_figure(fig, path)


def plot_random_labels(results, path_loss, path_acc):
    """Loss (log y) and accuracy per epoch of the true-label and the random-label runs, one line
    per seed: training images solid, test set dashed; a dotted line marks where each run first
    reached the target training accuracy."""
    title = dataset_title(results)
    colors = {"true labels": COLORS[0], "random labels": COLORS[3]}
    n = len(results["per_seed"])
    for key, ylabel, path in (("loss", "cross-entropy", path_loss), ("acc", "accuracy (%)", path_acc)):
        fig, ax = plt.subplots(figsize=(7.4, 4.6))
        scale = 100 if key == "acc" else 1
        for i, seed_run in enumerate(results["per_seed"]):
            for run, h in seed_run["runs"].items():
                ep = epochs_axis(len(h[f"train_{key}"]))
                first = i == 0
                ax.plot(ep, np.asarray(h[f"train_{key}"]) * scale, color=colors[run], ls="-",
                        lw=1, label=f"{run}: training images ({results['train_samples']:,})"
                        if first else None)
                ax.plot(ep, np.asarray(h[f"test_{key}"]) * scale, color=colors[run], ls="--",
                        lw=1, label=f"{run}: test set ({results['test_samples']:,}, true labels)"
                        if first else None)
                reached = seed_run["epochs_to_target"][run]
                if reached:
                    ax.axvline(reached, color=colors[run], ls=":", lw=0.8)
        if key == "loss":
            ax.set_yscale("log")
        else:
            ax.axhline(10, color="grey", lw=0.8, ls=":", label="chance (10%)")
            ax.axhline(100 * results["target_acc"], color="black", lw=0.8, ls="-.",
                       label=f"target {100 * results['target_acc']:g}% (training accuracy)")
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.set_title(f"{title}, MLP {layer_sizes(results['sizes'])} ({results['n_params']:,} "
                     f"params): true vs random labels, {n} seeds (one line each)\n(eval mode; "
                     f"dotted vertical: first epoch with training accuracy ≥ "
                     f"{100 * results['target_acc']:g}%)", fontsize=9)
        ax.legend(fontsize=7, handlelength=3)
        fig.tight_layout()
        save_figure(fig, path)


def plot_params_generalization(results, path):
    """Final loss (left, log y) and accuracy (right) against the parameter count (log x): every
    seed a dot, the mean a line; training set solid, test set dashed."""
    runs = [results["runs"][str(w)] for w in results["widths"]]
    params = np.asarray([r["n_params"] for r in runs])
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    for ax, key, ylabel, scale in ((axes[0], "loss", "cross-entropy", 1),
                                   (axes[1], "acc", "accuracy (%)", 100)):
        for split, color, ls in (("train", COLORS[0], "-"), ("test", COLORS[3], "--")):
            stats = [r[f"{split}_{key}"] for r in runs]
            for p, s in zip(params, stats):
                ax.scatter([p] * len(s["values"]), np.asarray(s["values"]) * scale, s=12,
                           color=color, alpha=0.7, lw=0)
            ax.plot(params, [s["mean"] * scale for s in stats], color=color, ls=ls, marker="o",
                    ms=3, label=f"{split} ({results[f'{split}_samples']:,} images), mean")
        ax.set_xscale("log")
        ax.set_xlabel("number of parameters (log scale)")
        ax.set_ylabel(ylabel)
        if key == "loss":
            ax.set_yscale("log")
        ax.legend(fontsize=7, handlelength=3)
    cfg = results["meta"]["config"]
    fig.suptitle(f"{dataset_title(results)}, {results['family']} at {len(runs)} widths: final "
                 f"loss and accuracy vs parameters ({plural(cfg['epochs'], 'epoch')}, Adam lr "
                 f"{cfg['lr']:g}, batch {cfg['batch_size']}; dots: {len(results['seeds'])} seeds)")
    fig.tight_layout()
    save_figure(fig, path)


def plot_sharpness(results, path):
    """Top: eps-sharpness for each eps (left, log) and the top Hessian eigenvalue (right, log);
    bottom: test accuracy; all against batch size (log2)."""
    sizes = results["batch_sizes"]
    stats = [results["runs"][str(b)] for b in sizes]
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(7.2, 6.4))
    lines = [_line_with_band(top, sizes, stats, f"sharpness_{name}", 1, color=COLORS[k],
                             ls=("-", "--")[k % 2], label=f"ε-sharpness, ε = {name} (left)")
             for k, name in enumerate(results["epsilons"])]
    right = top.twinx()
    right.grid(False)
    lines.append(_line_with_band(right, sizes, stats, "hessian_max_eig", 1, color=COLORS[3],
                                 label="largest Hessian eigenvalue (right)"))
    # log scales where the values allow (power iteration can return a negative eigenvalue of
    # largest magnitude, and an ascent that finds nothing gives 0)
    for ax, keys in ((top, [f"sharpness_{e}" for e in results["epsilons"]]),
                     (right, ["hessian_max_eig"])):
        if all(s[k]["mean"] - s[k]["std"] > 0 for s in stats for k in keys):
            ax.set_yscale("log")
    top.set_ylabel("ε-sharpness (%)")
    right.set_ylabel("largest Hessian eigenvalue", color=COLORS[3])
    top.legend(lines, [ln.get_label() for ln in lines], loc="best", fontsize=7, handlelength=4)
    _line_with_band(bottom, sizes, stats, "test_acc", 100, color=COLORS[2], label="test accuracy")
    bottom.set_ylabel("test accuracy (%)")
    bottom.legend(loc="best", fontsize=7)
    bottom.set_xscale("log", base=2)
    bottom.set_xticks(sizes, [str(b) for b in sizes])
    bottom.set_xlabel("training batch size (log₂ scale)")
    n_seeds = len(results["seeds"])
    band = f"mean ± std over {n_seeds} seeds" if n_seeds > 1 else "1 seed"
    top.set_title(f"{dataset_title(results)}, {results['model']}: sharpness of the final models "
                  f"({band})\ntraining loss on a fixed {results['sharpness_samples']:,}-image "
                  "training subset")
    fig.tight_layout()
    save_figure(fig, path)

"""HW1-2 (optimisation): what paths do 8 trainings of the same network take through parameter
space, seen through a 2-D PCA of their parameter snapshots?

Trains the MLP 784-500-50-10 (ReLU, 418,060 parameters) 8 times from 8 initialisations (seeds
seed..seed+7, each also shuffling its own minibatches) with Adam on an MNIST-format data set,
recording all parameters at initialisation and after every epoch. One PCA (2 components) is
fitted jointly on all snapshots of all trainings, once for fc1 (weights and bias, 392,500
parameters) and once for the whole model.
Loss surfaces (Li et al., 2018) on a fixed training subset: over the plane of the top-2 principal
directions of training 1's own path (theta_epoch - theta_final), with the path projected onto it;
over two random filter-normalised directions (each neuron's weight row scaled to the norm of the
model's row, biases not moved) around training 1's final model; and 1-D slices along such
directions for trainings 1 and 2.

    python hw1_2_optimization.py --dataset fashion-mnist   # full run (8 min on a 2-core AMD EPYC)
    python hw1_2_optimization.py --quick

Writes <out-dir>/hw1_2_optimization.json, _fc1.png, _whole.png, _surface_path.png and
_surface_random.png.
"""
import dataclasses

import numpy as np
import torch

from common import cli, stats
from common.data import load_image_data, subset_indices
from common.metrics import (filter_normalised_direction, flatten_params, mlp_plane_losses,
                            path_directions, pca_2d)
from common.models import MLP, MNIST_MLP_LR, MNIST_MLP_SIZES, mlp_params
from common.plotting import (COLORS, dataset_title, layer_sizes, legend_outside, panels, plt,
                             save_figure)
from common.train import evaluate_classifier, progress, train_classifier_epoch

STEM = "hw1_2_optimization"


@dataclasses.dataclass(frozen=True)
class Settings:
    """The experiment's flags (cli.setting: default, type, help, --quick value)."""
    runs: int = cli.setting(8, cli.positive_int, "number of trainings")   # seeds seed, seed + 1 ..
    epochs: int = cli.setting(50, cli.positive_int, "training epochs", quick=3)
    lr: float = cli.setting(MNIST_MLP_LR, cli.positive_float, "Adam learning rate")
    weight_decay: float = cli.setting(1e-4, cli.nonnegative_float, "Adam weight decay (L2)")
    batch_size: int = cli.setting(1000, cli.positive_int, "training minibatch size")
    train_samples: int = cli.setting(0, cli.nonnegative_int,
                                     "train on the first N training images only (0 = all)",
                                     quick=3000)
    surface_grid: int = cli.setting(31, cli.positive_int,
                                    "grid points per axis of the loss surfaces", quick=7)
    surface_samples: int = cli.setting(10000, cli.positive_int,
                                       "fixed training subset for the loss surfaces", quick=500)


DEFAULTS, QUICK = Settings(), cli.quick_settings(Settings)
INIT_LOSS_SAMPLES = 10000 # training subset for the loss at initialisation (record 0)
SURFACE_MARGIN = 0.4      # the path plane extends 40% of the path's span beyond it (at 15 % the
                          # plane's lowest point sat one grid step from the edge)
SLICE_POINTS = 41         # points of each 1-D slice on [-1, 1]


def build_model(device):
    """The experiment's MLP (MNIST_MLP_SIZES) on `device`, initialised from torch's current random
    state."""
    return MLP(MNIST_MLP_SIZES).to(device)


def build_parser():
    return cli.make_parser(STEM, __doc__, Settings)


def validate(args):
    cli.check_seed_count(args, args.runs, "trainings")
    if args.runs < 2:
        raise cli.ScriptError("--runs must be at least 2 (the slices compare two trainings)")


def train_runs(args, data, device):
    """Train the models one after the other, model k from seed seed + k (its initialisation and
    its minibatch order); snapshots (M, R, P), train losses and test metrics (M, R), record 0
    at initialisation (its training loss on a fixed subset)."""
    n_params = mlp_params(MNIST_MLP_SIZES)
    # snapshots and histories live in host memory whatever the device (651 MB of snapshots)
    snapshots = torch.empty(args.runs, args.epochs + 1, n_params, device="cpu")
    train_loss = torch.empty(args.runs, args.epochs + 1, device="cpu")
    test_loss, test_acc = torch.empty_like(train_loss), torch.empty_like(train_loss)
    init_idx = subset_indices(len(data.train_x), INIT_LOSS_SAMPLES, args.seed, device)
    for k in range(args.runs):
        torch.manual_seed(args.seed + k)
        model = build_model(device)
        generator = torch.Generator().manual_seed(args.seed + k)
        optimizer = torch.optim.Adam(model.parameters(), lr=args.lr,
                                     weight_decay=args.weight_decay)
        train_loss[k, 0] = evaluate_classifier(model, data.train_x[init_idx],
                                               data.train_y[init_idx])[0]
        for epoch in progress(range(args.epochs + 1), f"training {k + 1} of {args.runs}"):
            if epoch:
                train_loss[k, epoch] = train_classifier_epoch(
                    model, optimizer, data.train_x, data.train_y, args.batch_size, generator)
            snapshots[k, epoch] = flatten_params(model).cpu()
            test_loss[k, epoch], test_acc[k, epoch] = evaluate_classifier(model, data.test_x,
                                                                          data.test_y)
    return snapshots, train_loss, test_loss, test_acc, n_params


def grid_through_zero(values, points, margin):
    """Evenly spaced multiples of one step covering `values` and 0 (plus margin on both sides):
    `points` or `points` + 1 of them, one exactly 0."""
    lo, hi = min(min(values), 0.0), max(max(values), 0.0)
    span = (hi - lo) or 1.0
    lo, hi = lo - margin * span, hi + margin * span
    step = (hi - lo) / max(points - 1, 1)
    first, last = int(np.floor(lo / step)), int(np.ceil(hi / step))
    return [k * step for k in range(first, last + 1)]


def loss_surfaces(args, data, snapshots, device):
    """Path-plane surface of training 1, random-direction surface around it, 1-D slices of
    trainings 1 and 2; all on a fixed training subset."""
    idx = subset_indices(len(data.train_x), args.surface_samples, args.seed, device)
    x, y = data.train_x[idx], data.train_y[idx]
    path = snapshots[0].to(device)
    final = path[-1]
    directions, ratio = path_directions(path[:-1] - final)
    coords = ((path - final) @ directions.T).cpu()
    a_grid = grid_through_zero(coords[:, 0].tolist(), args.surface_grid, SURFACE_MARGIN)
    b_grid = grid_through_zero(coords[:, 1].tolist(), args.surface_grid, SURFACE_MARGIN)
    plane = mlp_plane_losses(MNIST_MLP_SIZES, final, directions[0], directions[1], x, y,
                             a_grid, b_grid)
    g = torch.Generator().manual_seed(args.seed)
    unit = [k / ((args.surface_grid - 1) // 2 or 1) for k in
            range(-((args.surface_grid - 1) // 2), (args.surface_grid - 1) // 2 + 1)]
    d1, d2 = (filter_normalised_direction(MNIST_MLP_SIZES, final, g) for _ in range(2))
    random_plane = mlp_plane_losses(MNIST_MLP_SIZES, final, d1, d2, x, y, unit, unit)
    t = [k / ((SLICE_POINTS - 1) // 2) for k in range(-(SLICE_POINTS // 2), SLICE_POINTS // 2 + 1)]
    slices = {}
    for run in (0, 1):
        theta = snapshots[run, -1].to(device)
        for which in (1, 2):
            d = filter_normalised_direction(MNIST_MLP_SIZES, theta, g)
            zero = torch.zeros_like(d)
            slices[f"training {run + 1}, direction {which}"] = mlp_plane_losses(
                MNIST_MLP_SIZES, theta, d, zero, x, y, t, [0.0])[:, 0].tolist()
    return {"training": 1, "seed": args.seed, "eval_samples": len(idx),
            "path_plane": {"a": a_grid, "b": b_grid, "loss": plane.tolist(),
                           "path": coords.tolist(), "explained_variance_ratio": ratio.tolist()},
            "random_plane": {"alpha": unit, "beta": unit, "loss": random_plane.tolist()},
            "slices": {"t": t, "loss": slices}}


def experiment(args, device):
    data = load_image_data(args.dataset, args.data_dir, device, train_limit=args.train_samples)
    snapshots, train_loss, test_loss, test_acc, n_params = train_runs(args, data, device)
    surfaces = loss_surfaces(args, data, snapshots, device)
    fc1_size = MNIST_MLP_SIZES[0] * MNIST_MLP_SIZES[1] + MNIST_MLP_SIZES[1]
    flat = snapshots.flatten(0, 1)  # run-major: row r * (epochs + 1) + e
    pca = {}
    for name, cols in (("fc1", slice(0, fc1_size)), ("whole", slice(None))):
        coords, ratio = pca_2d(flat[:, cols])
        pca[name] = {"n_params": flat[:, cols].shape[1], "explained_variance_ratio": ratio.tolist(),
                     "coords": coords.view(args.runs, args.epochs + 1, 2).tolist()}
    return {
        "dataset_source": data.source, "sizes": list(MNIST_MLP_SIZES), "n_params": n_params,
        "runs": args.runs,
        "record_epochs": list(range(args.epochs + 1)),
        "snapshot_storage_mb": round(snapshots.numel() * 4 / 2**20, 1),
        "train_loss_note": ("record 0: loss at initialisation on a fixed 10,000-sample training "
                            "subset; record e >= 1: mean minibatch loss during epoch e"),
        "seeds": [args.seed + k for k in range(args.runs)],
        "train_loss": train_loss.tolist(), "test_loss": test_loss.tolist(),
        "test_acc": test_acc.tolist(), "pca": pca, "surfaces": surfaces,
    }


def mean_distance(points):
    """Mean Euclidean distance over all pairs of `points` (n x d)."""
    d = np.asarray(points)[:, None, :] - np.asarray(points)[None, :, :]
    n = len(points)
    return float(np.sqrt((d ** 2).sum(-1)).sum() / (n * (n - 1)))


def pca_spread(coords):
    """How far apart the trainings are in the whole-model PCA plane at their first and last
    snapshot (mean pairwise distance), and the ratio last / first."""
    coords = np.asarray(coords)
    start, end = mean_distance(coords[:, 0]), mean_distance(coords[:, -1])
    return {"start": start, "end": end, "ratio": end / start}


def summarise(results):
    """Final test accuracy over the trainings, and the 1-D slices: each direction's rise, the
    mean loss at t = -1 and +1 over the loss at t = 0; do both ends lie above the centre; is
    one training's rise higher than the other's (Welch's t over their directions, which are
    independent random draws)."""
    acc = [row[-1] for row in results["test_acc"]]
    slices = results["surfaces"]["slices"]
    t, centre = slices["t"], slices["t"].index(0.0)
    rise, above = {}, 0
    for name, curve in slices["loss"].items():
        run = name.split(",")[0]
        rise.setdefault(run, []).append((curve[0] + curve[-1]) / 2 / curve[centre])
        above += curve[0] > curve[centre] and curve[-1] > curve[centre]
    (first, a), (second, b) = rise.items()
    mean, std = stats.mean_std(acc)
    path, rand = results["surfaces"]["path_plane"], results["surfaces"]["random_plane"]
    rl, mid = np.asarray(rand["loss"]), len(rand["alpha"]) // 2
    edges = [rl[0, mid], rl[-1, mid], rl[mid, 0], rl[mid, -1]]
    return {"test_acc": {"mean": mean, "std": std, "n": len(acc), "range": [min(acc), max(acc)]},
            "pca_spread": pca_spread(results["pca"]["whole"]["coords"]),
            "final_loss": path["loss"][path["a"].index(0.0)][path["b"].index(0.0)],
            "random_plane_edges": [float(min(edges)), float(max(edges))],
            "slice_rise": rise, "slice_ends_above_centre": [above, len(slices["loss"])],
            "slice_distance": [t[0], t[-1]],
            "rise_comparison": {"a": first, "b": second, **stats.compare(a, b)}}


def draw_pca_paths(ax, coords, accuracy):
    """Draw each run's path (coords: runs x records x 2) and label its first record, the one
    after epoch 1 and its last with that same record's test accuracy (accuracy: runs x records,
    in [0, 1]); labels on every few records piled up into smears along the paths, and a middle
    record sits next to the end once the paths slow down."""
    coords, accuracy = np.asarray(coords), np.asarray(accuracy)
    for run, (path, acc) in enumerate(zip(coords, accuracy)):
        color = COLORS[run % len(COLORS)]
        ax.plot(path[:, 0], path[:, 1], "-o", color=color, ms=2.5, lw=0.8, label=f"training {run + 1}")
        ax.plot(*path[0], marker="s", color=color, ms=5)
        # start label left of its point, epoch 1 below right, end above right, with a vertical
        # offset per training: labels of nearby points stay apart
        places = {0: ((-6, 2), "right"), min(1, len(path) - 1): ((6, -12), "left"),
                  len(path) - 1: ((6, -4 + 6 * (run % 3)), "left")}
        for rec, (offset, align) in sorted(places.items()):
            ax.annotate(f"{100 * acc[rec]:.1f}", xy=path[rec], xytext=offset, ha=align,
                        textcoords="offset points", fontsize=8, color=color)


def plot_pca_paths(results, part, path):
    """PCA of parameter snapshots of all trainings, one colour per training."""
    pca = results["pca"][part]
    ratio = pca["explained_variance_ratio"]
    fig, ax = plt.subplots(figsize=(8, 6.4))
    draw_pca_paths(ax, pca["coords"], results["test_acc"])
    ax.set_xlabel(f"PC1 ({100 * ratio[0]:.1f}% of variance)")
    ax.set_ylabel(f"PC2 ({100 * ratio[1]:.1f}% of variance)")
    what = ("fc1 (weights + bias)" if part == "fc1" else "whole model") + f", {pca['n_params']:,} parameters"
    ax.set_title(f"{dataset_title(results)}, MLP {layer_sizes(results['sizes'])}: PCA of {what}\n"
                 "square = initialisation; numbers = test accuracy (%) at the start, after "
                 "epoch 1 and at the end")
    ax.legend(ncol=2, loc="best")
    fig.tight_layout()
    save_figure(fig, path)


def surface_contour(ax, xs, ys, loss, fig):
    """Filled contours of the loss over the grid (loss indexed [x, y]) on log-spaced levels, with
    a colour bar in loss units."""
    from matplotlib.colors import LogNorm
    loss = np.asarray(loss).T
    levels = np.geomspace(loss.min(), loss.max(), 25)
    cs = ax.contourf(xs, ys, loss, levels=levels, cmap="viridis", norm=LogNorm())
    ax.contour(xs, ys, loss, levels=levels[::3], colors="white", linewidths=0.4, alpha=0.6)
    bar = fig.colorbar(cs, ax=ax, shrink=0.7)       # constrained layout gives it its room
    decades = range(int(np.floor(np.log10(loss.min()))), int(np.ceil(np.log10(loss.max()))) + 1)
    ticks = [m * 10.0 ** d for d in decades for m in (1, 2, 3, 5)
             if loss.min() <= m * 10.0 ** d <= loss.max()]
    bar.set_ticks(ticks, labels=[f"{t:g}" for t in ticks])
    bar.ax.minorticks_off()
    bar.set_label("training cross-entropy (log colour scale)")


def nearest_on_grid(xs, ys, loss, point):
    """The loss at the grid point nearest to `point` (loss indexed [x, y])."""
    i = int(np.argmin(np.abs(np.asarray(xs) - point[0])))
    j = int(np.argmin(np.abs(np.asarray(ys) - point[1])))
    return float(np.asarray(loss)[i, j])


def plot_surface_path(results, path):
    """Loss over the plane of the top-2 principal directions of one training's path, with the
    path (one marker per epoch record) projected onto it; equal aspect. The background is the
    loss on the plane: the epoch models themselves lie partly off it."""
    s = results["surfaces"]
    plane = s["path_plane"]
    ratio = plane["explained_variance_ratio"]
    fig, ax = panels(1, 1, 5.6)
    ax.set_aspect("equal")
    surface_contour(ax, plane["a"], plane["b"], plane["loss"], fig)
    coords = np.asarray(plane["path"])
    run = s["training"] - 1
    own = results["train_loss"][run][0]
    on_plane = nearest_on_grid(plane["a"], plane["b"], plane["loss"], coords[0])
    ax.plot(coords[:, 0], coords[:, 1], "-o", color="red", ms=2.5, lw=1,
            label=f"training {s['training']} path ({len(coords)} records), projected")
    ax.plot(*coords[0], marker="s", color="red", ms=6, ls="none",
            label=f"initialisation (its loss {own:.3g}; the plane at its projection {on_plane:.3g})")
    ax.plot(0, 0, marker="*", color="white", mec="black", ms=12, ls="none", label="final model")
    ax.set_xlabel(f"direction 1 ({100 * ratio[0]:.1f}% of the path's variance)")
    ax.set_ylabel(f"direction 2 ({100 * ratio[1]:.1f}% of the path's variance)")
    ax.set_title(f"{dataset_title(results)}, MLP {layer_sizes(results['sizes'])}, training "
                 f"{s['training']}:\nloss on the plane of its path's top-2 principal directions\n"
                 f"({len(plane['a'])}×{len(plane['b'])} grid, fixed {s['eval_samples']:,}-image "
                 "training subset; colours = loss on the plane)")
    legend_outside(fig, [ax], ncol=1)
    save_figure(fig, path)


def plot_surface_random(results, path):
    """Left: loss over two filter-normalised random directions around the final model;
    right: 1-D slices along other such directions for two trainings (log y)."""
    s = results["surfaces"]
    plane = s["random_plane"]
    fig, (left, right) = panels(1, 2, 4.2)
    left.set_aspect("equal")
    surface_contour(left, plane["alpha"], plane["beta"], plane["loss"], fig)
    left.plot(0, 0, marker="*", color="white", mec="black", ms=12, ls="none", label="final model")
    left.set_xticks([-1, -0.5, 0, 0.5, 1])
    left.set_xlabel("α (random direction 1)")
    left.set_ylabel("β (random direction 2)")
    left.set_title(f"training {s['training']}: {len(plane['alpha'])}×{len(plane['beta'])} grid")
    left.legend(loc="upper right")
    t = s["slices"]["t"]
    for i, (name, loss) in enumerate(s["slices"]["loss"].items()):
        right.plot(t, loss, color=COLORS[i // 2], ls="-" if i % 2 == 0 else "--", label=name)
    right.set_yscale("log")
    right.set_xticks([-1, -0.5, 0, 0.5, 1])
    right.set_xlabel("t (θ + t·d)")
    right.set_ylabel("training cross-entropy")
    right.set_title("1-D slices through two final models\n(other directions than the left panel's)")
    right.legend(handlelength=3)
    fig.suptitle(f"{dataset_title(results)}, MLP {layer_sizes(results['sizes'])}: loss around the "
                 f"final model along random filter-normalised directions\n(fixed "
                 f"{s['eval_samples']:,}-image training subset)")
    save_figure(fig, path)


def plot(results, out, stem):
    paths = [out / f"{stem}_fc1.png", out / f"{stem}_whole.png", out / f"{stem}_surface_path.png",
             out / f"{stem}_surface_random.png"]
    plot_pca_paths(results, "fc1", paths[0])
    plot_pca_paths(results, "whole", paths[1])
    plot_surface_path(results, paths[2])
    plot_surface_random(results, paths[3])
    return paths


def main(argv=None):
    return cli.run_main(argv, build_parser(), STEM, experiment, plot, QUICK, validate, summarise)


if __name__ == "__main__":
    main()

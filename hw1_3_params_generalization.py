"""HW1-3 (generalisation): how do training and test loss and accuracy change with the number of
parameters of a network?

One family, MLP 784-h-h-10 with ReLU, at 12 widths h from 1 to 768 (807 to 1,201,162 parameters,
more than three decades), every width trained from --seeds seeds with the same Adam, batch and
epochs on an MNIST-format training set. At the end, in eval mode: loss and accuracy on the whole
training set and on the test set.

    python hw1_3_params_generalization.py --dataset fashion-mnist   # full run (22 min on a 2-core AMD EPYC)
    python hw1_3_params_generalization.py --quick

Writes <out-dir>/hw1_3_params_generalization.json and _params.png.
"""
import dataclasses

import numpy as np
import torch
from matplotlib.ticker import FuncFormatter

from common import cli, stats
from common.data import cached_image_data
from common.models import MLP, count_params
from common.plotting import COLORS, dataset_title, legend_outside, panels, plural, save_figure
from common.stats import described
from common.train import evaluate_classifier, progress, train_classifier_epoch

STEM = "hw1_3_params_generalization"
@dataclasses.dataclass(frozen=True)
class Settings:
    """The experiment's flags (cli.setting: default, type, help, --quick value)."""
    widths: str = cli.setting("1,2,4,8,16,32,64,128,256,384,512,768", cli.positive_int_list,
                              "comma-separated hidden widths h of MLP 784-h-h-10",
                              quick=[2, 16, 64])
    epochs: int = cli.setting(10, cli.positive_int, "training epochs", quick=1)
    lr: float = cli.setting(1e-3, cli.positive_float, "Adam learning rate")
    batch_size: int = cli.setting(100, cli.positive_int, "training minibatch size")
    train_samples: int = cli.setting(0, cli.nonnegative_int,
                                     "train on the first N training images only (0 = all)",
                                     quick=2000)
    seeds: int = cli.setting(6, cli.positive_int, "seeds per width: seed, seed + 1, ...", quick=2)


DEFAULTS, QUICK = Settings(), cli.quick_settings(Settings)
ZOOM_POINTS = 10             # the zoomed accuracy panel: widths within this of the best test acc


def family_sizes(width):
    """Layer sizes of the family member of hidden width `width`."""
    return (784, width, width, 10)


def build_model(width, device):
    """The family member of hidden width `width` on `device`, initialised from torch's current
    random state."""
    return MLP(family_sizes(width)).to(device)


def build_parser():
    return cli.make_parser(STEM, __doc__, Settings)


def validate(args):
    cli.check_seed_count(args, args.seeds, "seeds")


def train_width(width, seed, data, device, lr, epochs, batch_size):
    """Train one family member by Adam (lr) for `epochs` epochs of minibatches of batch_size;
    final eval-mode metrics on the training and test sets."""
    torch.manual_seed(seed)
    model = build_model(width, device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        train_classifier_epoch(model, optimizer, data.train_x, data.train_y, batch_size,
                               generator)
    train_loss, train_acc = evaluate_classifier(model, data.train_x, data.train_y)
    test_loss, test_acc = evaluate_classifier(model, data.test_x, data.test_y)
    return {"train_loss": train_loss, "train_acc": train_acc, "test_loss": test_loss,
            "test_acc": test_acc}


def experiment(args, device):
    data = cached_image_data(args.dataset, args.data_dir, device, args.train_samples)
    seeds = [args.seed + s for s in range(args.seeds)]
    pairs = [(w, seed) for w in args.widths for seed in seeds]
    done = iter([train_width(w, seed, data, device, args.lr, args.epochs, args.batch_size)
                 for w, seed in progress(pairs, "trainings (width x seed)")])
    runs = {}
    for width in args.widths:
        results = [next(done) for _ in seeds]
        runs[str(width)] = {"n_params": count_params(build_model(width, "cpu"))}
        for key in results[0]:
            values = [r[key] for r in results]
            runs[str(width)][key] = described(values)
    return {"dataset_source": data.source, "family": "MLP 784-h-h-10", "widths": args.widths,
            "seeds": seeds,
            "train_samples": len(data.train_x), "test_samples": len(data.test_x), "runs": runs}


def summarise(results):
    """The trends the README quotes, from the recorded per-seed values: test-minus-train loss
    gap, test loss and test accuracy against log10(parameters), Spearman over all trainings
    (widths x seeds)."""
    x, ys = [], {"gap": [], "test_loss": [], "test_acc": []}
    for width in results["widths"]:
        run = results["runs"][str(width)]
        test, train = run["test_loss"]["values"], run["train_loss"]["values"]
        x += [run["n_params"]] * len(test)
        ys["gap"] += [a - b for a, b in zip(test, train)]
        ys["test_loss"] += test
        ys["test_acc"] += run["test_acc"]["values"]
    return {"trend": {key: stats.trend(x, y) for key, y in ys.items()},
            # per width: mean test loss minus mean training loss over the seeds
            "gap": {str(w): results["runs"][str(w)]["test_loss"]["mean"] -
                    results["runs"][str(w)]["train_loss"]["mean"] for w in results["widths"]},
            "saturation": plateau(results, "test_acc", higher_is_better=True),
            "loss_plateau": plateau(results, "test_loss", higher_is_better=False),
            "lowest_test_loss": min(results["widths"],
                                    key=lambda w: results["runs"][str(w)]["test_loss"]["mean"])}


def plateau(results, key, higher_is_better):
    """Where `key` stops improving detectably with the parameter count. For every width w but
    the widest: Spearman's trend of the per-seed values against the parameter count over w and
    every wider width (one point per training, so a window pools 2-12 widths' seeds). The
    windows are tested in a fixed sequence from the narrowest (first_not_improving): the
    "still improving" claims before the first window that detects no improvement keep the
    5 % family-wise level without a correction. "plateau_from": that window's width (None when
    every window improves, the two widest included); "at": its trend (a failure to reject, not
    an equivalence; it may detect the other direction); "before": the window one width
    narrower (improving; None at the narrowest). A monotone test: a fall followed by a rise
    within a window can cancel out. Not each width against the best: the best of 12 widths is
    chosen by its noise."""
    widths = results["widths"]
    improving = "rises" if higher_is_better else "falls"
    windows = {}
    for i, width in enumerate(widths[:-1]):
        x, y = [], []
        for w in widths[i:]:
            run = results["runs"][str(w)]
            x += [run["n_params"]] * len(run[key]["values"])
            y += run[key]["values"]
        windows[str(width)] = stats.trend(x, y)
    start = first_not_improving([windows[str(w)]["verdict"] for w in widths[:-1]], improving)
    found = widths[start] if start is not None else None
    return {"test": "Spearman over a width and every wider one, in a fixed sequence from the "
                    "narrowest", "key": key, "improving": improving, "windows": windows,
            "plateau_from": found, "at": windows[str(found)] if found is not None else None,
            "before": windows[str(widths[start - 1])] if start else None,
            "best": max(widths, key=lambda w: (1 if higher_is_better else -1) *
                        results["runs"][str(w)][key]["mean"]),
            "blocked": blocked_plateau(results, key, higher_is_better)}


def blocked_plateau(results, key, higher_is_better):
    """The same rule with the seeds as blocks: every seed trains every width from its own
    initialisation stream and minibatch order (train_width), so a window's trainings are not
    independent across widths, as Spearman over the pooled trainings assumes. Page's L test
    within seeds (stats.blocked_trend, one-sided in the improving direction) over each window
    of at least 3 widths, in the same fixed sequence; "plateau_from" None when every such
    window improves."""
    widths, runs = results["widths"], results["runs"]
    counts = {len(runs[str(w)][key]["values"]) for w in widths}
    if len(counts) != 1:
        raise ValueError(f"every width needs the same seeds for a blocked test, got {counts}")
    n_seeds = counts.pop()
    windows = {}
    for i, width in enumerate(widths[:-2]):
        rows = [[runs[str(w)][key]["values"][k] for w in widths[i:]] for k in range(n_seeds)]
        windows[str(width)] = stats.blocked_trend(rows, rising=higher_is_better)
    improving = "rises" if higher_is_better else "falls"
    start = first_not_improving([windows[str(w)]["verdict"] for w in widths[:-2]], improving)
    found = widths[start] if start is not None else None
    return {"test": "Page's L within seeds over a width and every wider one (3 or more), in a "
                    "fixed sequence from the narrowest", "windows": windows,
            "plateau_from": found, "at": windows[str(found)] if found is not None else None}


def first_not_improving(verdicts, improving):
    """Index of the first verdict that is not `improving` (the fixed-sequence stop), None when
    all are."""
    return next((i for i, v in enumerate(verdicts) if v != improving), None)


def plot_params_generalization(results, path):
    """Final loss (left, log y), accuracy (middle) and accuracy zoomed to the widths within
    ZOOM_POINTS of the best mean test accuracy (right) against the parameter count (log x): every
    seed a dot, the mean a line; training set solid, test set dashed."""
    runs = [results["runs"][str(w)] for w in results["widths"]]
    params = np.asarray([r["n_params"] for r in runs])
    fig, axes = panels(1, 3, 3.8)
    for ax, key, ylabel, scale in ((axes[0], "loss", "cross-entropy", 1),
                                   (axes[1], "acc", "accuracy (%)", 100),
                                   (axes[2], "acc", "accuracy (%), zoomed", 100)):
        for split, color, ls in (("train", COLORS[0], "-"), ("test", COLORS[3], "--")):
            stats = [r[f"{split}_{key}"] for r in runs]
            for p, s in zip(params, stats):
                ax.scatter([p] * len(s["values"]), np.asarray(s["values"]) * scale, s=12,
                           color=color, alpha=0.7, lw=0)
            ax.plot(params, [s["mean"] * scale for s in stats], color=color, ls=ls, marker="o",
                    ms=3, label=f"{split} ({results[f'{split}_samples']:,} images), mean")
        ax.set_xscale("log")
        ax.set_xlabel("parameters (log scale)")
        ax.set_ylabel(ylabel)
        if key == "loss":
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.yaxis.set_minor_formatter(FuncFormatter(   # only 2, 3, 5 x 10^k: no crowding
                lambda v, _: f"{v:g}" if f"{v:.0e}"[0] in "235" else ""))
    marks = plateau_marks(results)
    for ax, key in ((axes[0], "loss_plateau"), (axes[1], "saturation"), (axes[2], "saturation")):
        if key in marks:
            x, label, ls = marks[key]
            ax.axvline(x, color="0.35", ls=ls, lw=1, label=label)
    legend_outside(fig, axes, ncol=2)
    best = max(r["test_acc"]["mean"] for r in runs)
    near = [r for r in runs if r["test_acc"]["mean"] >= best - ZOOM_POINTS / 100]
    values = [100 * v for r in near for split in ("train", "test") for v in r[f"{split}_acc"]["values"]]
    axes[2].set_ylim(min(values) - 0.5, max(values) + 0.5)
    axes[2].set_xlim(0.7 * min(r["n_params"] for r in near), 1.4 * params.max())
    axes[2].set_title(f"zoom: within {ZOOM_POINTS:g} points of the best")
    cfg = results["meta"]["config"]
    fig.suptitle(f"{dataset_title(results)}, {results['family']} at {len(runs)} widths: final "
                 f"loss and accuracy vs parameters\n({plural(cfg['epochs'], 'epoch')}, Adam lr "
                 f"{cfg['lr']:g}, batch {cfg['batch_size']}; dots: {len(results['seeds'])} seeds)")
    save_figure(fig, path)


def plateau_marks(results):
    """{summary key: (parameters, legend label, line style)} of the plateaus the summary found:
    where the test loss and the test accuracy stop improving detectably (plateau())."""
    marks = {}
    for key, what, ls in (("loss_plateau", "test loss: no falling", ":"),
                          ("saturation", "test accuracy: no rising", "-.")):
        width = results.get("summary", {}).get(key, {}).get("plateau_from")
        if width is not None:
            marks[key] = (results["runs"][str(width)]["n_params"],
                          f"{what} trend detected from width {width} on", ls)
    return marks


def plot(results, out, stem):
    path = out / f"{stem}_params.png"
    plot_params_generalization(results, path)
    return [path]


def main(argv=None):
    return cli.run_main(argv, build_parser(), STEM, experiment, plot, QUICK, validate, summarise)


if __name__ == "__main__":
    main()

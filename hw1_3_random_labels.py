"""HW1-3 (generalisation): can a network fit random labels (Zhang et al., 2017), and what happens
to its test loss while it memorises them?

For each of --seeds seeds, one MLP 784-512-512-10 (ReLU, 669,706 parameters) is trained twice
from the same initialisation and with the same minibatch order, on the same training images (the
first --train-samples): once with their true labels, once with those labels permuted with the
seed (the class counts stay the same, the image-label pairing is random); the seed sets the
initialisation, the minibatch order and the permutation. Adam, cross-entropy. Both train in lock-step
until the random-label run first reaches --target-acc training accuracy (or --max-epochs). After
every epoch, in eval mode: loss and accuracy on the training images with the labels that run
trains on, and on the full test set with its true labels.

    python hw1_3_random_labels.py --dataset fashion-mnist   # full run (8 min on a 2-core AMD EPYC)
    python hw1_3_random_labels.py --quick

Writes <out-dir>/hw1_3_random_labels.json, _loss.png, _accuracy.png and _slowdown.png (epochs
to each training accuracy from 50 % to the target, true vs random labels).
"""
import dataclasses
import math

import numpy as np
import torch

from common import cli, stats
from common.data import cached_image_data
from common.models import MLP, count_params
from common.plotting import COLORS, dataset_title, epochs_axis, layer_sizes, plt, save_figure
from common.train import evaluate_classifier, progress, train_classifier_epoch

STEM = "hw1_3_random_labels"
SIZES = (784, 512, 512, 10)


@dataclasses.dataclass(frozen=True)
class Settings:
    """The experiment's flags (cli.setting: default, type, help, --quick value)."""
    lr: float = cli.setting(1e-3, cli.positive_float, "Adam learning rate")
    batch_size: int = cli.setting(100, cli.positive_int, "training minibatch size")
    # the first N images of the training set
    train_samples: int = cli.setting(10000, cli.positive_int,
                                     "number of training images both runs fit", quick=500)
    target_acc: float = cli.setting(
        0.99, cli.positive_float,
        "stop when the random-label run reaches this training accuracy (0..1)")
    max_epochs: int = cli.setting(300, cli.positive_int, "cap on epochs", quick=3)
    seeds: int = cli.setting(3, cli.positive_int, "seeds: seed, seed + 1, ...", quick=2)


DEFAULTS, QUICK = Settings(), cli.quick_settings(Settings)
RUNS = ("true labels", "random labels")
# Training accuracies at which the slowdown (epochs on random / on true labels) is measured: one
# threshold alone would decide the factor, which differs several-fold between 90 % and 99 %.
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)


def build_model(device):
    """The experiment's MLP (SIZES) on `device`, initialised from torch's current random state."""
    return MLP(SIZES).to(device)


def build_parser():
    return cli.make_parser(STEM, __doc__, Settings)


def validate(args):
    cli.check_seed_count(args, args.seeds, "seeds")
    if args.target_acc > 1:
        raise cli.ScriptError(f"--target-acc {args.target_acc:g} is above 1: give a fraction "
                              "such as 0.99")


def random_labels(labels, seed):
    """`labels` permuted once with `seed`: same class counts, random image-label pairing."""
    g = torch.Generator().manual_seed(seed)
    return labels[torch.randperm(len(labels), generator=g).to(labels.device)]


def first_epoch_reaching(accuracies, target):
    """1-based epoch where accuracies first reach target, or None."""
    return next((k + 1 for k, a in enumerate(accuracies) if a >= target), None)


def train_seed(data, seed, device, lr, batch_size, target_acc, max_epochs):
    """True and random labels from one initialisation (seed), Adam (lr) on minibatches of
    batch_size, until the random-label run reaches target_acc training accuracy (or
    max_epochs); per-epoch eval-mode histories."""
    labels = {"true labels": data.train_y, "random labels": random_labels(data.train_y, seed)}
    torch.manual_seed(seed)
    init = build_model(device)
    models = {run: build_model(device) for run in RUNS}
    for model in models.values():
        model.load_state_dict(init.state_dict())
    optimizers = {run: torch.optim.Adam(models[run].parameters(), lr=lr) for run in RUNS}
    generators = {run: torch.Generator().manual_seed(seed) for run in RUNS}
    history = {run: {k: [] for k in ("train_loss", "train_acc", "test_loss", "test_acc")}
               for run in RUNS}
    for _ in progress(range(max_epochs), f"seed {seed}, epochs (both runs)"):
        for run in RUNS:
            train_classifier_epoch(models[run], optimizers[run], data.train_x, labels[run],
                                   batch_size, generators[run])
            h = history[run]
            loss, acc = evaluate_classifier(models[run], data.train_x, labels[run])
            h["train_loss"].append(loss)
            h["train_acc"].append(acc)
            loss, acc = evaluate_classifier(models[run], data.test_x, data.test_y)
            h["test_loss"].append(loss)
            h["test_acc"].append(acc)
        if history["random labels"]["train_acc"][-1] >= target_acc:
            break
    agree = (labels["random labels"] == data.train_y).float().mean().item()
    return {"seed": seed, "label_agreement": agree,
            "epochs_to_target": {run: first_epoch_reaching(history[run]["train_acc"],
                                                           target_acc) for run in RUNS},
            "runs": history}


def experiment(args, device):
    data = cached_image_data(args.dataset, args.data_dir, device, args.train_samples)
    seeds = [args.seed + s for s in range(args.seeds)]
    return {"dataset_source": data.source, "sizes": list(SIZES),
            "n_params": count_params(build_model("cpu")), "train_samples": len(data.train_x),
            "test_samples": len(data.test_x), "target_acc": args.target_acc, "seeds": seeds,
            "per_seed": [train_seed(data, seed, device, args.lr, args.batch_size,
                                    args.target_acc, args.max_epochs)
                         for seed in progress(seeds, "seeds")]}


def slowdown(per_seed, thresholds=THRESHOLDS):
    """Epochs to reach each training accuracy in `thresholds`, true vs random labels of the same
    seed, and the slowdown random / true per seed. Per threshold a one-sample t-test on
    log(slowdown) (seeds where either run never got there are left out), Holm-corrected over the
    thresholds; effect and interval are back on the ratio scale (geometric mean). Where every
    true-label run is there after its first epoch, the ratio is not resolved: the true runs got
    there at some point within epoch 1 and the random ones after more than r - 1 epochs, so the
    slowdown is at least r - 1 ("ratio_bound"). With all seeds equal the one-sample t-test is not
    defined and stats.one_sample returns p = 0 by rule."""
    rows = []
    for threshold in thresholds:
        epochs = {run: [first_epoch_reaching(s["runs"][run]["train_acc"], threshold)
                        for s in per_seed] for run in RUNS}
        pairs = [(t, r) for t, r in zip(epochs["true labels"], epochs["random labels"]) if t and r]
        test = stats.one_sample([math.log(r / t) for t, r in pairs])
        rows.append({"threshold": threshold, **{run.split()[0]: epochs[run] for run in RUNS},
                     "ratio": [r / t if t and r else None for t, r in zip(*epochs.values())],
                     "lower_bound": bool(pairs) and all(t == 1 for t, _ in pairs),
                     # true runs there within epoch 1, random ones after more than r - 1 epochs
                     "ratio_bound": [r - 1 if t == 1 else None for t, r in pairs],
                     "test": test["test"], "n": test["n"], "p": test["p"],
                     "geo_mean": math.exp(test["effect"]) if pairs else None,
                     "ci95": [math.exp(v) for v in test["ci95"]] if test["ci95"] else None})
    tested = [row for row in rows if row["p"] is not None]
    for row, p in zip(tested, stats.holm([row["p"] for row in tested])):
        row["p_holm"] = p
    for row in rows:
        row["verdict"] = ("not tested" if row["p"] is None else stats.verdict_of(
            math.log(row["geo_mean"]), row["p_holm"], up="longer", down="shorter"))
    ratios = [v for row in rows for v in row["ratio"] if v is not None]
    return {"thresholds": rows, "tested": len(tested),
            "longer_at": [row["threshold"] for row in rows if row["verdict"] == "longer"],
            "ratio_range": [min(ratios), max(ratios)] if ratios else None}


def summarise(results):
    """Did every seed fit its random labels, and do they take longer than the true ones? The
    epochs to the target accuracy, true vs random labels of the same seed (paired t-test; a
    seed that never reached the target is left out and counted), and the slowdown at every
    accuracy of THRESHOLDS up to the target."""
    reached = [s["epochs_to_target"] for s in results["per_seed"]]
    both = [e for e in reached if e["true labels"] and e["random labels"]]
    thresholds = [t for t in THRESHOLDS if t <= results["target_acc"]]
    return {"seeds": len(reached), "fitted": sum(bool(e["random labels"]) for e in reached),
            "longer": stats.compare([e["true labels"] for e in both],
                                    [e["random labels"] for e in both], paired=True),
            "slowdown": slowdown(results["per_seed"], thresholds)}


def plot_slowdown(results, path):
    """Epochs to reach each training accuracy (left, log y: 1 to 100+), true vs random labels,
    the line through the median seed and a band from the fastest to the slowest seed; right: the
    slowdown random / true, one marker per seed, hollow where it is only a lower bound."""
    rows = results["summary"]["slowdown"]["thresholds"]
    x = np.asarray([100 * row["threshold"] for row in rows])
    fig, axes = plt.subplots(1, 2, figsize=(8.1, 3.8))
    for run, color in (("true", COLORS[0]), ("random", COLORS[3])):
        values = np.asarray([[np.nan if e is None else e for e in row[run]] for row in rows], float)
        axes[0].plot(x, np.nanmedian(values, 1), color=color, marker="o", ms=4,
                     label=f"{run} labels (median seed)")
        axes[0].fill_between(x, np.nanmin(values, 1), np.nanmax(values, 1), color=color,
                             alpha=0.2, lw=0, label=f"{run} labels (range over seeds)")
    axes[0].set_yscale("log")
    axes[0].set_ylabel("first epoch with training accuracy ≥ threshold")
    for k, seed_run in enumerate(results["per_seed"]):
        bound = np.asarray([row["lower_bound"] for row in rows])
        # where the true-label run was there within epoch 1 only the bound (r - 1) is known
        ratio = np.asarray([np.nan if v is None else v for v in (
            row["ratio_bound"][k] if row["lower_bound"] else row["ratio"][k] for row in rows)],
            float)
        for sel, face in ((~bound, COLORS[k % len(COLORS)]), (bound, "none")):
            axes[1].scatter(x[sel] + 0.4 * (k - 1), ratio[sel], s=22, facecolors=face,
                            edgecolors=COLORS[k % len(COLORS)],
                            label=f"seed {seed_run['seed']}" if face != "none" else None)
    axes[1].scatter([], [], s=22, facecolors="none", edgecolors="grey",
                    label="lower bound (true labels there within epoch 1)")
    axes[1].set_yscale("log")
    axes[1].set_yticks([2, 3, 5, 10, 20, 30, 50], labels=["2", "3", "5", "10", "20", "30", "50"])
    axes[1].minorticks_off()
    axes[1].set_ylabel("slowdown = epochs random / epochs true")
    for ax in axes:
        ax.set_xlabel("training-accuracy threshold (%)")
        ax.legend(fontsize=8)
    fig.suptitle(f"{dataset_title(results)}, MLP {layer_sizes(results['sizes'])}: epochs to fit "
                 f"{results['train_samples']:,} images, true vs random labels, "
                 f"{len(results['per_seed'])} seeds", fontsize=10)
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
                    ax.annotate(str(reached), xy=(reached, 1), xycoords=("data", "axes fraction"),
                                xytext=(0, 2 + 8 * i), textcoords="offset points", fontsize=8,
                                color=colors[run], ha="center", annotation_clip=False)
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
                     f"{100 * results['target_acc']:g}%, its epoch above the axes)", fontsize=9, pad=30)
        ax.legend(fontsize=8, handlelength=3)
        fig.tight_layout()
        save_figure(fig, path)


def plot(results, out, stem):
    paths = [out / f"{stem}_loss.png", out / f"{stem}_accuracy.png", out / f"{stem}_slowdown.png"]
    plot_random_labels(results, *paths[:2])
    plot_slowdown(results, paths[2])
    return paths


def main(argv=None):
    return cli.run_main(argv, build_parser(), STEM, experiment, plot, QUICK, validate, summarise)


if __name__ == "__main__":
    main()

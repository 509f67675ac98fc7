"""HW1-3 (flatness vs generalisation, part 1): what do loss and accuracy look like on the straight
line between two trained models, theta(alpha) = (1 - alpha) theta_1 + alpha theta_2?

LeNet-5 (61,706 parameters), cross-entropy, SGD with momentum 0.9. For each of --seeds seeds,
three models from the seed's initialisation and minibatch order, forming two pairs:
  "batch": batch 100 vs batch 500 (lr 1e-2);   "lr": lr 1e-3 vs lr 1e-2 (batch 100).
The model (batch 100, lr 1e-2) belongs to both pairs and is trained once.
At every alpha (61 values in [-1, 2], 0 and 1 exactly): cross-entropy and accuracy on the full
test set and on a fixed training subset, in no-grad batches. Also, as Goodfellow et al. (2015)
do, the line from the seed's initialisation to each trained model (21 values on [0, 1]): does
the loss fall monotonically along it?

    python hw1_3_interpolation.py --dataset fashion-mnist    # full run (40 min on a 2-core AMD EPYC)
    python hw1_3_interpolation.py --quick

Writes <out-dir>/hw1_3_interpolation.json, _batch.png, _lr.png and _init.png.
"""
import copy
import dataclasses

import numpy as np
import torch

from common import cli, stats
from common.data import cached_image_data, subset_indices
from common.metrics import flatten_params, load_flat_params
from common.models import LeNet5, count_params
from common.plotting import COLORS, dataset_title, legend_outside, mosaic, plt, save_figure
from common.train import evaluate_classifier, progress, train_classifier_epoch

STEM = "hw1_3_interpolation"
MOMENTUM = 0.9
SMALL_BATCH, LARGE_BATCH = 100, 500
LOW_LR, HIGH_LR = 1e-3, 1e-2
ALPHA_RANGE = (-1.0, 2.0)
EVAL_BATCH_SIZE = 500     # no-grad evaluation batch (fastest measured for LeNet-5 on 2 CPU cores)
MONOTONE_TOLERANCES = (0.0, 0.01, 0.1)  # a rise along the initialisation line up to this share of
                                        # the total fall still counts as monotone
MODEL_NAME = "LeNet-5"
CHANNELS, HIDDEN = (6, 16), (120, 84)  # LeNet-5's conv channels and hidden dense widths


@dataclasses.dataclass(frozen=True)
class Settings:
    """The experiment's flags (cli.setting: default, type, help, --quick value)."""
    epochs: int = cli.setting(30, cli.positive_int, "epochs per model", quick=2)
    train_samples: int = cli.setting(0, cli.nonnegative_int,
                                     "train on the first N training images only (0 = all)",
                                     quick=2000)
    train_eval_samples: int = cli.setting(10000, cli.positive_int,
                                          "fixed training subset evaluated along alpha", quick=1000)
    test_eval_samples: int = cli.setting(
        0, cli.nonnegative_int, "fixed test subset evaluated along alpha (0 = the whole test set)",
        quick=1000)
    # 20 per unit of alpha -> 61 values on [-1, 2], exact 0 and 1
    alpha_steps: int = cli.setting(20, cli.positive_int,
                                   "alpha values per unit interval (61 values on [-1, 2] at 20)",
                                   quick=4)
    seeds: int = cli.setting(6, cli.positive_int, "seed pairs (seed, seed + 1, ...): each seed's "
                             "three models share its initialisation", quick=2)


DEFAULTS, QUICK = Settings(), cli.quick_settings(Settings)


def build_model(device):
    """The experiment's LeNet-5 (CHANNELS, HIDDEN) on `device`, channels_last (faster
    convolutions on a CPU); initialised from torch's current random state."""
    return LeNet5(CHANNELS, HIDDEN).to(device).to(memory_format=torch.channels_last)


def endpoint_name(batch_size, lr):
    """JSON key of a trained model, e.g. 'b100_lr0.01'."""
    return f"b{batch_size}_lr{lr:g}"


# pair -> (what differs, (batch, lr) of theta_1, (batch, lr) of theta_2)
PAIR_SETTINGS = {"batch": ("batch size", (SMALL_BATCH, HIGH_LR), (LARGE_BATCH, HIGH_LR)),
                 "lr": ("learning rate", (SMALL_BATCH, LOW_LR), (SMALL_BATCH, HIGH_LR))}
MODELS = {endpoint_name(*setting): setting
          for _, *ends in PAIR_SETTINGS.values() for setting in ends}
PAIRS = {pair: (endpoint_name(*first), endpoint_name(*second))
         for pair, (_, first, second) in PAIR_SETTINGS.items()}


def build_parser():
    return cli.make_parser(STEM, __doc__, Settings)


def validate(args):
    cli.check_seed_count(args, args.seeds, "seeds")
    if args.alpha_steps < 2:
        raise cli.ScriptError("--alpha-steps must be at least 2 (a barrier needs an alpha "
                              "strictly between 0 and 1)")


def alphas(steps_per_unit):
    """Evenly spaced alpha on ALPHA_RANGE with exact 0 and 1 (integer numerators)."""
    lo, hi = (int(round(a * steps_per_unit)) for a in ALPHA_RANGE)
    return [i / steps_per_unit for i in range(lo, hi + 1)]


def train_models(data, seeds, epochs, device):
    """Train the three models of every seed, each from the seed's initialisation and minibatch
    order; [(name -> model, name -> per-epoch training loss)] per seed."""
    out = []
    for seed in seeds:
        models, histories = {}, {}
        for name, (batch, lr) in MODELS.items():
            torch.manual_seed(seed)
            models[name] = build_model(device)
            g = torch.Generator().manual_seed(seed)
            opt = torch.optim.SGD(models[name].parameters(), lr=lr, momentum=MOMENTUM)
            histories[name] = [train_classifier_epoch(models[name], opt, data.train_x,
                                                      data.train_y, batch, g)
                               for _ in progress(range(epochs), f"{name} seed {seed}")]
        out.append((models, histories))
    return out


def interpolate(model_1, model_2, alpha_values, evals, desc):
    """Metrics of theta(alpha) for each alpha on each evaluation set {name: (x, y)}."""
    theta_1, theta_2 = flatten_params(model_1), flatten_params(model_2)
    probe = copy.deepcopy(model_1)
    out = {f"{split}_{m}": [] for split in evals for m in ("loss", "acc")}
    for alpha in progress(alpha_values, desc):
        load_flat_params(probe, (1 - alpha) * theta_1 + alpha * theta_2)
        for split, (x, y) in evals.items():
            loss, acc = evaluate_classifier(probe, x, y, EVAL_BATCH_SIZE)
            out[f"{split}_loss"].append(loss)
            out[f"{split}_acc"].append(acc)
    return out


def init_alphas(steps_per_unit):
    """alpha on [0, 1] for the line from the initialisation, 0 and 1 exact."""
    return [i / steps_per_unit for i in range(steps_per_unit + 1)]


def init_lines(models, seed, evals, alpha_values, device):
    """Metrics along (1 - alpha) theta_0 + alpha theta for each trained model, theta_0 the
    seed's initialisation (rebuilt here: every model of a seed starts from it)."""
    torch.manual_seed(seed)
    init = build_model(device)
    return {name: interpolate(init, model, alpha_values, evals, f"init to {name} seed {seed}")
            for name, model in models.items()}


def experiment(args, device):
    data = cached_image_data(args.dataset, args.data_dir, device, args.train_samples, True)
    eval_idx = subset_indices(len(data.train_x), args.train_eval_samples, args.seed, device)
    test_x, test_y = data.test_x, data.test_y
    if args.test_eval_samples:   # a fixed test subset (--quick); by default the whole test set
        test_idx = subset_indices(len(test_x), args.test_eval_samples, args.seed, device)
        test_x, test_y = test_x[test_idx], test_y[test_idx]
    evals = {"train": (data.train_x[eval_idx], data.train_y[eval_idx]), "test": (test_x, test_y)}
    seeds = [args.seed + s for s in range(args.seeds)]
    per_seed = []
    for seed, (models, histories) in zip(seeds, train_models(data, seeds, args.epochs, device)):
        endpoints, pairs = evaluate_line(args, models, histories, evals, seed)
        lines = init_lines(models, seed, evals, init_alphas(args.alpha_steps), device)
        per_seed.append({"seed": seed, "endpoints": endpoints, "pairs": pairs,
                         "init_lines": lines})
    return {"dataset_source": data.source, "model": MODEL_NAME,
            "n_params": count_params(build_model("cpu")),
            "train_eval_samples": len(eval_idx), "test_samples": len(test_x),
            "alphas": alphas(args.alpha_steps), "init_alphas": init_alphas(args.alpha_steps),
            "seeds": seeds, "per_seed": per_seed}


def evaluate_line(args, models, histories, evals, seed):
    """Endpoint metrics and the metrics along alpha for every pair."""
    endpoints = {}
    for name, model in models.items():
        metrics = {}
        for split, (x, y) in evals.items():
            # Same batches as along alpha, so that alpha = 0 and 1 reproduce these to the bit.
            metrics[f"{split}_loss"], metrics[f"{split}_acc"] = evaluate_classifier(
                model, x, y, EVAL_BATCH_SIZE)
        endpoints[name] = {"batch_size": MODELS[name][0], "lr": MODELS[name][1],
                           "train_loss_history": histories[name], **metrics}
    alpha_values = alphas(args.alpha_steps)
    pairs = {}
    for pair, (first, second) in PAIRS.items():
        pairs[pair] = {"varies": PAIR_SETTINGS[pair][0], "theta_1": first, "theta_2": second,
                       **interpolate(models[first], models[second], alpha_values, evals,
                                     f"{pair} seed {seed}")}
    return endpoints, pairs


def barriers(alpha_values, losses):
    """Loss barrier of one line, two ways: (against the straight line between the end losses,
    the usual definition: max over 0 < alpha < 1 of L(alpha) - ((1 - alpha) L(0) + alpha L(1)),
    and the alpha where it lies; against the higher end: max inside - max(L(0), L(1)))."""
    a = list(alpha_values)
    start, end = losses[a.index(0.0)], losses[a.index(1.0)]
    inside = [i for i, x in enumerate(a) if 0 < x < 1]
    excess = {i: losses[i] - ((1 - a[i]) * start + a[i] * end) for i in inside}
    top = max(inside, key=lambda i: excess[i])
    return excess[top], a[top], max(losses[i] for i in inside) - max(start, end)


def summarise(results):
    """Per pair and split (train subset, test set), over the seed pairs: the barrier against the
    straight line between the end losses, tested against zero (one-sample t, one value per
    seed), the barrier against the higher end, and theta_2 against theta_1 at the ends (test
    accuracy and test - train loss gap; paired t, the two models of a seed share its
    initialisation and minibatch order)."""
    a = results["alphas"]
    out = {"seeds": len(results["per_seed"]), "pairs": {}}
    for pair in results["per_seed"][0]["pairs"]:
        lines = [run["pairs"][pair] for run in results["per_seed"]]
        ends = [(run["endpoints"][d["theta_1"]], run["endpoints"][d["theta_2"]])
                for run, d in zip(results["per_seed"], lines)]
        block = {"theta_1": lines[0]["theta_1"], "theta_2": lines[0]["theta_2"]}
        for split in ("train", "test"):
            found = [barriers(a, d[f"{split}_loss"]) for d in lines]
            block[f"{split}_barrier"] = {
                "values": [f[0] for f in found], "alphas": [f[1] for f in found],
                **stats.one_sample([f[0] for f in found])}
            block[f"{split}_above_higher_end"] = [f[2] for f in found]
        block["test_acc"] = stats.compare([e1["test_acc"] for e1, _ in ends],
                                          [e2["test_acc"] for _, e2 in ends], paired=True)
        block["gap"] = stats.compare([e1["test_loss"] - e1["train_loss"] for e1, _ in ends],
                                     [e2["test_loss"] - e2["train_loss"] for _, e2 in ends],
                                     paired=True)
        out["pairs"][pair] = block
    if "init_lines" in results["per_seed"][0]:
        out["init_lines"] = monotone_summary(results["per_seed"], results["init_alphas"])
        out["init_totals"] = monotone_totals(out["init_lines"])
    return out


def monotone_totals(lines):
    """Per split over every line from the initialisation (models x seeds): how many lines,
    how many never rise, the alphas where the rising ones begin to rise, the largest rise."""
    out = {}
    for split in ("train", "test"):
        rises = [(x, a) for d in lines.values()
                 for x, a in zip(d[split]["relative_rise"], d[split]["rise_from_alpha"])]
        out[split] = {"lines": len(rises), "never": sum(x <= 0 for x, _ in rises),
                      "rise_at": [a for x, a in rises if x > 0],
                      "largest_rise": max(x for x, _ in rises)}
    return out


def largest_rise(losses):
    """Largest rise of the loss above its running minimum along the line, max over alpha of
    L(alpha) - min over alpha' <= alpha of L(alpha') (0: the loss never rises), and the index of
    the alpha where that running minimum lies (where the rise begins)."""
    loss = np.asarray(losses, dtype=np.float64)
    floor = np.minimum.accumulate(loss)
    top = int(np.argmax(loss - floor))
    rise = float(loss[top] - floor[top])
    return rise, int(np.flatnonzero(loss[:top + 1] == floor[top])[0]) if rise > 0 else top


def monotone_summary(per_seed, alpha_values):
    """Goodfellow et al.'s question per trained model and split: over the seeds, the largest
    rise of the loss above its running minimum on the line from the initialisation (see
    largest_rise), relative to the total fall L(0) - L(1), and the alpha where it begins; and
    how many lines never rise or rise by at most 1 % or 10 % of the fall (the tolerance varied).
    The loss is measured on a grid of alphas, so "never" means at none of them."""
    out = {}
    for name in per_seed[0]["init_lines"]:
        out[name] = {}
        for split in ("train", "test"):
            rises, where = [], []
            for run in per_seed:
                loss = run["init_lines"][name][f"{split}_loss"]
                rise, at = largest_rise(loss)
                rises.append(rise / (loss[0] - loss[-1]))
                where.append(alpha_values[at])
            out[name][split] = {"relative_rise": rises, "rise_from_alpha": where,
                                **{f"below_{tol:g}": sum(r <= tol for r in rises)
                                   for tol in MONOTONE_TOLERANCES}}
    return out


def plot_init_lines(results, path):
    """Loss (log y) along the line from the initialisation to each trained model, one panel per
    split, one colour per model, one line per seed."""
    alpha = results["init_alphas"]
    fig, axes = plt.subplots(1, 2, figsize=(8.1, 3.8), sharey=True)
    for ax, split in zip(axes, ("train", "test")):
        for color, name in zip(COLORS, results["per_seed"][0]["init_lines"]):
            for i, run in enumerate(results["per_seed"]):
                ax.plot(alpha, run["init_lines"][name][f"{split}_loss"], color=color, lw=1,
                        label=endpoint_label(run["endpoints"][name]) if i == 0 else None)
        ax.set_yscale("log")
        ax.set_xlabel("α  (θ(α) = (1 − α)·θ_init + α·θ_trained)")
        ax.set_title("training subset" if split == "train" else "test set", fontsize=10)
        ax.legend(fontsize=8, title="trained model", title_fontsize=8)
    axes[0].set_ylabel("cross-entropy")
    fig.suptitle(f"{dataset_title(results)}, {results['model']}: from the initialisation to each "
                 f"trained model, {len(results['per_seed'])} seeds (one line each)", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)


def endpoint_label(endpoint):
    """'batch 100, lr 0.01' from an endpoint record of the interpolation JSON."""
    return f"batch {endpoint['batch_size']}, lr {endpoint['lr']:g}"


def plot_interpolation(results, pair, path):
    """Top: cross-entropy (log y) and accuracy along theta(alpha) over the whole range, the two
    trained models marked and named on the curves' vertical lines; bottom: the cross-entropy on
    the segment alpha in [0, 1] on a linear scale with the straight lines between the end losses
    (the barrier's baseline). Train solid, test dashed, one line per seed pair; one legend under
    the panels."""
    from matplotlib.transforms import blended_transform_factory
    alpha = np.asarray(results["alphas"])
    fig, axes = mosaic([["loss", "acc"], ["zoom", "zoom"]], 6.6)
    seg = (alpha >= 0) & (alpha <= 1)
    for i, seed_run in enumerate(results["per_seed"]):
        data = seed_run["pairs"][pair]
        for split, style, color in (("train", "-", COLORS[0]), ("test", "--", COLORS[1])):
            label = (lambda what: f"{split} {what}" if i == 0 else None)
            axes["loss"].plot(alpha, data[f"{split}_loss"], style, color=color, lw=1,
                              label=label("cross-entropy"))
            axes["acc"].plot(alpha, 100 * np.asarray(data[f"{split}_acc"]), style, color=color,
                             lw=1, label=None)
            l0, l1 = (data[f"{split}_loss"][list(alpha).index(a)] for a in (0.0, 1.0))
            axes["zoom"].plot(alpha[seg], np.asarray(data[f"{split}_loss"])[seg], style,
                              color=color, lw=1)
            axes["zoom"].plot(alpha[seg], (1 - alpha[seg]) * l0 + alpha[seg] * l1, ":",
                              color="black", lw=0.9,
                              label="straight line between the end losses (the barrier's "
                                    "baseline)" if i == 0 and split == "train" else None)
    first = results["per_seed"][0]
    data = first["pairs"][pair]
    for name in ("loss", "acc"):
        ax = axes[name]
        where = blended_transform_factory(ax.transData, ax.transAxes)
        for a, key, sub in ((0, "theta_1", "₁"), (1, "theta_2", "₂")):
            ax.axvline(a, color="grey", lw=0.8, ls=":")
            ax.text(a, 0.5, f"θ{sub}: {endpoint_label(first['endpoints'][data[key]])}",
                    transform=where, rotation=90, ha="right", va="center", color="dimgrey",
                    fontsize=8)
        ax.set_xlabel("α  (θ(α) = (1 − α)·θ₁ + α·θ₂)")
    axes["loss"].set_yscale("log")
    axes["loss"].set_ylabel("cross-entropy (log scale)")
    axes["acc"].set_ylabel("accuracy (%)")
    axes["acc"].set_ylim(0, 100)
    axes["zoom"].set_xlabel("α on the segment between the two models")
    axes["zoom"].set_ylabel("cross-entropy (linear)")
    axes["zoom"].set_title("α ∈ [0, 1]: above the dotted line = a barrier")
    legend_outside(fig, list(axes.values()), ncol=3)
    n = len(results["per_seed"])
    fig.suptitle(f"{dataset_title(results)}, {results['model']}: interpolation between two "
                 f"{data['varies']}s, {n} seed pairs (one line each)\ntrain = fixed "
                 f"{results['train_eval_samples']:,}-sample subset (solid), test = "
                 f"{results['test_samples']:,} images (dashed)")
    save_figure(fig, path)


def plot(results, out, stem):
    paths = []
    for pair in PAIRS:
        paths.append(out / f"{stem}_{pair}.png")
        plot_interpolation(results, pair, paths[-1])
    if "init_lines" in results["per_seed"][0]:
        paths.append(out / f"{stem}_init.png")
        plot_init_lines(results, paths[-1])
    return paths


def main(argv=None):
    return cli.run_main(argv, build_parser(), STEM, experiment, plot, QUICK, validate, summarise)


if __name__ == "__main__":
    main()

"""HW1-1 (deep vs shallow, real task): at a fixed budget of about 30,000 parameters, does depth
help a CNN classify MNIST-format images?

Depth series (common.models.CONV_DEPTH_SERIES, 30,000 +- 3 % parameters): C1 with one conv
layer, C2 with two, C4 with four (pooling and widths adjusted to keep the count). Beside them the
original report's CNN1-CNN3: conv(1->C1, 4) - ReLU - maxpool 2 - conv(C1->20, 4) - ReLU -
maxpool 2 - fc(320->F1) - ReLU - dropout 0.25 - fc(F1->100) - ReLU - fc(100->10), (C1, F1) =
(10, 50), (16, 70), (12, 60). Every model trains from --seeds seeds (initialisation and minibatch
order) with the same Adam, batch and epochs; after every epoch, loss and accuracy in eval mode
on the full test set and on a fixed training subset.

    python hw1_1_mnist_cnn.py --dataset fashion-mnist     # full run (18 min on a 2-core AMD EPYC)
    python hw1_1_mnist_cnn.py --quick                      # seconds

Writes <out-dir>/hw1_1_mnist_cnn.json, _loss.png and _accuracy.png.
"""
import dataclasses

import numpy as np
import torch

from common import cli, stats
from common.data import cached_image_data, subset_indices
from common.models import CNN_DEPTH_SERIES, CNN_MODELS, build_cnn, count_params
from common.plotting import COLORS, dataset_title, epochs_axis, legend_outside, panels, save_figure
from common.stats import described
from common.train import evaluate_classifier, progress, train_classifier_epoch

STEM = "hw1_1_mnist_cnn"
TRAIN_SAMPLES_HELP = "train on the first N training images only (0 = all)"


@dataclasses.dataclass(frozen=True)
class Settings:
    """The experiment's flags (cli.setting: default, type, help, --quick value)."""
    epochs: int = cli.setting(10, cli.positive_int, "training epochs", quick=2)
    lr: float = cli.setting(1e-3, cli.positive_float, "Adam learning rate")
    weight_decay: float = cli.setting(1e-4, cli.nonnegative_float, "Adam weight decay (L2)")
    batch_size: int = cli.setting(600, cli.positive_int, "training minibatch size")
    train_samples: int = cli.setting(0, cli.nonnegative_int, TRAIN_SAMPLES_HELP, quick=2000)
    seeds: int = cli.setting(10, cli.positive_int, "seeds per model: seed, seed + 1, ...", quick=2)
    train_eval_samples: int = cli.setting(5000, cli.positive_int,
                                          "size of the fixed training subset evaluated each epoch",
                                          quick=1000)
    # 1000: the fastest no-grad evaluation batch measured on 2 CPU cores
    eval_batch_size: int = cli.setting(1000, cli.positive_int, "batch size of no-grad evaluation")
    channels_last: bool = cli.setting(True, bool,
                                      "channels_last memory layout (faster convolutions on CPU)")


DEFAULTS, QUICK = Settings(), cli.quick_settings(Settings)
RISING_WINDOW = 3           # "still rising": test accuracy gained over the last 3 epochs, per
                            # seed, detected above zero (one-sample t over the seeds)
METRICS = ("train_loss_running", "train_loss", "train_acc", "test_loss", "test_acc")


def build_parser():
    return cli.make_parser(STEM, __doc__, Settings)


def validate(args):
    cli.check_seed_count(args, args.seeds, "seeds")


def train_model(model, data, eval_idx, generator, desc, epochs, lr, weight_decay, batch_size,
                eval_batch_size):
    """Train one CNN by Adam (lr, weight_decay) for `epochs` epochs of minibatches of
    batch_size, drawn by `generator`; per-epoch history of the running training loss and the
    eval-mode metrics on the training images eval_idx and on the test set."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    history = {k: [] for k in METRICS}
    ex, ey = data.train_x[eval_idx], data.train_y[eval_idx]
    for _ in progress(range(epochs), desc):
        running = train_classifier_epoch(model, optimizer, data.train_x, data.train_y,
                                         batch_size, generator)
        train_loss, train_acc = evaluate_classifier(model, ex, ey, eval_batch_size)
        test_loss, test_acc = evaluate_classifier(model, data.test_x, data.test_y,
                                                  eval_batch_size)
        for key, value in zip(METRICS, (running, train_loss, train_acc, test_loss, test_acc)):
            history[key].append(value)
    return history


def model_summary(name, runs):
    """Per-seed histories of one model and mean/std of the final metrics."""
    model = build_cnn(name)
    final = {}
    for key in METRICS:
        values = [run["history"][key][-1] for run in runs]
        final[key] = described(values)
    return {"n_params": count_params(model),
            "conv_layers": model.conv_layers, "series": "original" if name in CNN_MODELS
            else "depth", "runs": runs, "final": final}


def experiment(args, device):
    data = cached_image_data(args.dataset, args.data_dir, device, args.train_samples,
                             args.channels_last)
    eval_idx = subset_indices(len(data.train_x), args.train_eval_samples, args.seed, device)
    names = [*CNN_DEPTH_SERIES, *CNN_MODELS]
    seeds = [args.seed + s for s in range(args.seeds)]
    runs = {name: [] for name in names}
    for name, seed in progress([(n, s) for n in names for s in seeds], "trainings (model x seed)"):
        torch.manual_seed(seed)
        model = build_cnn(name).to(device)
        if args.channels_last:
            model = model.to(memory_format=torch.channels_last)
        history = train_model(model, data, eval_idx, torch.Generator().manual_seed(seed),
                              f"{name} seed {seed}", args.epochs, args.lr, args.weight_decay,
                              args.batch_size, args.eval_batch_size)
        runs[name].append({"seed": seed, "history": history})
    models = {name: model_summary(name, runs[name]) for name in names}
    return {"dataset_source": data.source, "normalisation": [data.mean, data.std],
            "train_samples": len(data.train_x), "test_samples": len(data.test_x),
            "train_eval_samples": len(eval_idx), "seeds": seeds, "models": models}


def rank_at(models, epoch):
    """Per series (depth, original): the models' test accuracies after `epoch` (1-based) over
    the seeds, every pair by Welch's t with Holm's correction; and the depth-series models
    above / below the shallowest one."""
    def accs(m):
        return [run["history"]["test_acc"][epoch - 1] for run in m["runs"]]
    out = {series: stats.ranking({n: accs(m) for n, m in models.items() if m["series"] == series})
           for series in ("depth", "original")}
    shallowest = min((n for n, m in models.items() if m["series"] == "depth"),
                     key=lambda n: models[n]["conv_layers"])
    out["shallowest"] = shallowest
    out["above_shallowest"] = stats.separated_from(out["depth"], shallowest, "higher")
    out["below_shallowest"] = stats.separated_from(out["depth"], shallowest, "lower")
    return out


def still_rising(models, window=RISING_WINDOW):
    """Per model: the test accuracy gained over the last `window` epochs, one value per seed,
    and whether that gain is detected above zero (one-sample t, Holm-corrected over the models):
    a model still rising at the end is compared before it has finished."""
    out = {}
    for name, m in models.items():
        acc = [run["history"]["test_acc"] for run in m["runs"]]
        if len(acc[0]) <= window:
            out[name] = {"test": "one-sample t", "n": len(acc), "verdict": "not tested"}
            continue
        out[name] = stats.one_sample([a[-1] - a[-1 - window] for a in acc],
                                     up="still rising", down="falling")
    tested = [t for t in out.values() if t.get("p") is not None]
    for t, p in zip(tested, stats.holm([t["p"] for t in tested])):
        t["p_holm"] = p
        t["verdict"] = stats.verdict_of(t["effect"], p, up="still rising", down="falling").replace(
            stats.NO_DIFFERENCE, stats.NOT_DETECTED)
    return out


def summarise(results):
    """The verdicts the README quotes: within each series (depth, original), the models' test
    accuracies over the seeds after the last epoch and after half of them, every pair compared
    by Welch's t with Holm's correction; and which models are still rising at the end."""
    models = results["models"]
    epochs = len(next(iter(models.values()))["runs"][0]["history"]["test_acc"])
    out = rank_at(models, epochs)
    out["budgets"] = {str(e): rank_at(models, e) for e in sorted({max(1, epochs // 2), epochs})}
    out["still_rising"] = still_rising(models)
    out["rising_window"] = RISING_WINDOW
    out["rising_range"] = rising_range(out["still_rising"])
    return out


def rising_range(rising):
    """The smallest and largest late gain (percentage points) and Holm-corrected p over the
    models whose still-rising test ran, and its n; None when none ran."""
    tested = [t for t in rising.values() if t.get("p") is not None]
    if not tested:
        return None
    gains = [100 * t["effect"] for t in tested]
    p = [t["p_holm"] for t in tested]
    return {"gain_points": [min(gains), max(gains)], "p_holm": [min(p), max(p)],
            "n": tested[0]["n"]}


def plot_classifier_curves(results, path_loss, path_acc):
    """Loss and accuracy vs epoch: mean over seeds with a ±1 std band, one colour per model;
    left panel the fixed training subset, right panel the test set (two figures)."""
    title = dataset_title(results)
    n_seeds = len(results["seeds"])
    for key, ylabel, path in (("loss", "cross-entropy", path_loss), ("acc", "accuracy (%)", path_acc)):
        fig, axes = panels(1, 2, 4.4, sharey=True)
        scale = 100 if key == "acc" else 1
        dashes = {}
        for name, model in results["models"].items():   # originals: a dash pattern each
            others = [n for n in dashes if results["models"][n]["series"] == "original"]
            dashes[name] = "-" if model["series"] == "depth" else ("--", "-.", ":")[len(others) % 3]
        spans = []
        for ax, split in zip(axes, ("train", "test")):
            for color, (name, model) in zip(COLORS, results["models"].items()):
                curves = np.asarray([run["history"][f"{split}_{key}"] for run in model["runs"]])
                mean = curves.mean(0) * scale
                std = curves.std(0, ddof=1) * scale if len(curves) > 1 else 0 * mean
                ep = epochs_axis(curves.shape[1])
                spans += [mean.min(), mean.max()]
                ax.plot(ep, mean, color=color, lw=1.2, ls=dashes[name],
                        label=f"{name}: {model['conv_layers']} conv ({model['n_params']:,} params)")
                ax.fill_between(ep, mean - std, mean + std, color=color, alpha=0.15, lw=0)
            where = (f"fixed {results['train_eval_samples']:,}-image training subset" if split == "train"
                     else f"test set ({results['test_samples']:,} images)")
            ax.set_title(where)
            ax.set_xlabel("epoch")
        if key == "loss" and max(spans) >= 10 * min(spans):   # log only over a decade or more
            axes[0].set_yscale("log")
        axes[0].set_ylabel(ylabel)
        legend_outside(fig, axes, ncol=3)
        fig.suptitle(f"{title} CNNs: {ylabel} per epoch in eval mode, mean ± std over {n_seeds} "
                     "seeds\n(solid: depth series; dashed, dash-dot, dotted: original CNN1-3)")
        save_figure(fig, path)


def plot(results, out, stem):
    paths = [out / f"{stem}_loss.png", out / f"{stem}_accuracy.png"]
    plot_classifier_curves(results, *paths)
    return paths


def main(argv=None):
    return cli.run_main(argv, build_parser(), STEM, experiment, plot, QUICK, validate, summarise)


if __name__ == "__main__":
    main()

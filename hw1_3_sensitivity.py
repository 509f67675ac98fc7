"""HW1-3 (flatness vs generalisation, part 2): how do input sensitivity, loss and accuracy move
with the training batch size?

LeNet-5 (61,706 parameters), cross-entropy, SGD momentum 0.9, every training on one fixed random
subset of --train-subset training images. Fixed-epoch trainings: lr 1e-2, the same number of
epochs for every batch size (so large batches take far fewer steps). Sensitivity (Novak et al., 2018) =
Frobenius norm of the Jacobian of the softmax output (10) with respect to the input image (784),
per test sample, averaged over a fixed test subset; the same for the logits is recorded too.
Sharpness (Keskar et al., 2017) of every final model on a fixed training subset: the
eps-sharpness 100 (max L(theta + z) - L(theta)) / (1 + L(theta)) over the box
|z_i| <= eps (|theta_i| + 1) for eps = 1e-3 and 5e-4, maximised as Keskar et al. do (L-BFGS-B,
10 iterations, full space), and the largest Hessian eigenvalue by Lanczos on Hessian-vector
products (relative accuracy 1e-3). Each matched model (below) is also rescaled as Dinh et al.
(2017) do: fc1 times 10, fc2's weights over 10; the same function, measured again.
Matched training (Keskar et al. compare converged models; at a fixed epoch count large batches
end under-trained): a second set of trainings on the same subset, every batch size trained
until its epoch-mean training loss reaches --target-train-loss (or --max-epochs), with the
learning rate scaled by sqrt(batch / smallest batch) so that large batches get there in a
bearable number of epochs; the same measurements at the end. --target-train-loss 0 skips it.
Because the target is a chosen threshold, the same trainings are also measured on the
way down, at the first epoch whose training loss is at or below --check-train-loss (a copy is
measured, training goes on untouched), and every matched verdict is stated at both losses.

    python hw1_3_sensitivity.py --dataset fashion-mnist     # full run (50 min on a 2-core AMD EPYC)
    python hw1_3_sensitivity.py --seeds 3 --matched-seeds 5  # fewer seeds, about half that
    python hw1_3_sensitivity.py --quick

Writes <out-dir>/hw1_3_sensitivity.json, _batch_size.png, _sharpness.png and _matched.png.
"""
import copy
import dataclasses
import math

import numpy as np
import torch
import torch.nn.functional as F

from common import cli, stats
from common.data import cached_image_data, subset_indices
from common.metrics import epsilon_sharpness, hessian_top_eigenvalue, input_jacobian_norms
from common.models import LeNet5, count_params
from common.plotting import (COLORS, dataset_title, legend_outside, log_scale_if_decade, panels,
                             plural, save_figure)
from common.stats import described
from common.train import evaluate_classifier, progress, train_classifier_epoch

STEM = "hw1_3_sensitivity"
MOMENTUM = 0.9
EVAL_BATCH_SIZE = 500       # no-grad evaluation batch (fastest measured for LeNet-5 on 2 CPU cores)
EPSILONS = {"1e-3": 1e-3, "5e-4": 5e-4}  # eps-sharpness box sizes (Keskar et al. use both)
DINH_ALPHA = 10.0            # Dinh et al. (2017): fc1 times alpha, fc2's weights over alpha, on
                             # every matched model: the same function, another sharpness
MODEL_NAME = "LeNet-5"
CHANNELS, HIDDEN = (6, 16), (120, 84)  # LeNet-5's conv channels and hidden dense widths


@dataclasses.dataclass(frozen=True)
class Settings:
    """The experiment's flags (cli.setting: default, type, help, --quick value)."""
    batch_sizes: str = cli.setting(",".join(str(2 ** k) for k in range(5, 13)),   # 32 .. 4096
                                   cli.positive_int_list, "comma-separated training batch sizes",
                                   quick=[32, 256])
    epochs: int = cli.setting(20, cli.positive_int, "training epochs", quick=1)
    lr: float = cli.setting(1e-2, cli.positive_float, "SGD learning rate")
    # the same fixed random subset in both modes
    train_subset: int = cli.setting(10000, cli.positive_int, "size of the fixed random training "
                                    "subset that every training uses", quick=2000)
    # 5 and 10 (not 3 and 5): with fewer, the ends comparisons and the eigenvalue trend
    # changed their verdict when the seed base changed
    seeds: int = cli.setting(5, cli.positive_int, "repeats (seed, seed+1, ...)", quick=1)
    sensitivity_samples: int = cli.setting(
        2000, cli.positive_int, "size of the fixed test subset for the Jacobian norms", quick=100)
    sharpness_samples: int = cli.setting(
        2000, cli.positive_int, "size of the fixed training subset for the sharpness measures",
        quick=100)
    # 10 as Keskar et al.
    sharpness_iterations: int = cli.setting(
        10, cli.positive_int, "L-BFGS-B iterations of the eps-sharpness maximisation", quick=2)
    target_train_loss: float = cli.setting(
        0.25, cli.nonnegative_float, "matched training: train each batch size until its "
        "epoch-mean training loss is at most this (0 = skip the matched trainings)")
    # fewer sizes than the fixed-epoch mode, to fit the budget
    matched_batch_sizes: str = cli.setting("32,256,2048", cli.positive_int_list,
                                           "comma-separated batch sizes of the matched trainings",
                                           quick=[32, 256])
    # the matched verdicts at a second target: the epsilon-sharpness verdict of the ends changed
    # when the target went from 0.25 to 0.35
    check_train_loss: float = cli.setting(
        0.35, cli.nonnegative_float, "a second, looser training loss at which every matched "
        "training is also measured, on its way to --target-train-loss (the same trainings); "
        "the summary states each matched verdict at both (0 = none)")
    max_epochs: int = cli.setting(150, cli.positive_int, "epoch cap of the matched trainings",
                                  quick=2)
    matched_seeds: int = cli.setting(10, cli.positive_int,
                                     "repeats of the matched trainings (seed, seed+1, ...)",
                                     quick=1)


DEFAULTS, QUICK = Settings(), cli.quick_settings(Settings)


def build_model(device):
    """The experiment's LeNet-5 (CHANNELS, HIDDEN) on `device`, channels_last (faster
    convolutions on a CPU); initialised from torch's current random state."""
    return LeNet5(CHANNELS, HIDDEN).to(device).to(memory_format=torch.channels_last)


def build_parser():
    return cli.make_parser(STEM, __doc__, Settings)


def validate(args):
    cli.check_seed_count(args, args.seeds, "seeds")
    cli.check_seed_count(args, args.matched_seeds, "matched-seeds")
    if args.target_train_loss and 0 < args.check_train_loss <= args.target_train_loss:
        raise cli.ScriptError(f"--check-train-loss {args.check_train_loss:g} must be above "
                              f"--target-train-loss {args.target_train_loss:g} (or 0)")


@dataclasses.dataclass(frozen=True)
class Probes:
    """How every trained model is measured: fixed subsets of these sizes drawn under `seed`
    (the run's base seed), and the L-BFGS-B iterations of the eps-sharpness maximisation."""
    sensitivity_samples: int = DEFAULTS.sensitivity_samples
    sharpness_samples: int = DEFAULTS.sharpness_samples
    sharpness_iterations: int = DEFAULTS.sharpness_iterations
    seed: int = 0


def train_one(data, batch_size, seed, device, lr, epochs, probes, targets=()):
    """Train LeNet-5 at one batch size by SGD (lr, MOMENTUM) for `epochs` epochs; final
    metrics, sensitivities and sharpness (measured as `probes` says). With targets (training
    losses), training stops at the first epoch whose epoch-mean loss is at most the smallest
    (cap `epochs`), and the model is measured at the first epoch at or below each target (a
    copy, so the training goes on untouched): one result per target, in the order of targets;
    the smallest target's result has Dinh et al.'s rescaling too. A target not reached by the
    cap gets the final model's result."""
    torch.manual_seed(seed)
    model = build_model(device)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=MOMENTUM)
    g = torch.Generator().manual_seed(seed)
    pending, found = sorted(targets, reverse=True), {}
    steps_per_epoch = -(-len(data.train_x) // batch_size)
    done = 0
    for _ in progress(range(epochs), f"batch {batch_size} seed {seed}"):
        loss = train_classifier_epoch(model, opt, data.train_x, data.train_y, batch_size, g)
        done += 1
        while len(pending) > 1 and loss <= pending[0]:       # a looser target: a copy, measured
            found[pending.pop(0)] = measure(copy.deepcopy(model), data, probes, device, done,
                                            steps_per_epoch, loss)
        if pending and loss <= pending[0]:
            break
    final = measure(model, data, probes, device, done, steps_per_epoch, loss, bool(targets))
    if not targets:
        return final
    smallest = min(targets)
    plain = {k: v for k, v in final.items() if not k.startswith("rescaled_")}
    return [found.get(t, final if t == smallest else plain) for t in targets]


def measure(model, data, probes, device, epochs, steps_per_epoch, last_epoch_loss, rescale=False):
    """One trained model's metrics, sensitivities and sharpness (and, with `rescale`, Dinh et
    al.'s rescaling), after `epochs` epochs whose last had the mean loss last_epoch_loss."""
    train_loss, train_acc = evaluate_classifier(model, data.train_x, data.train_y, EVAL_BATCH_SIZE)
    test_loss, test_acc = evaluate_classifier(model, data.test_x, data.test_y, EVAL_BATCH_SIZE)
    idx = subset_indices(len(data.test_x), probes.sensitivity_samples, probes.seed, device)
    sens, sens_logits = (v.mean().item() for v in input_jacobian_norms(model, data.test_x[idx]))
    return {"train_loss": train_loss, "train_acc": train_acc, "test_loss": test_loss,
            "test_acc": test_acc, "sensitivity": sens, "sensitivity_logits": sens_logits,
            "epochs": epochs, "steps": epochs * steps_per_epoch,
            "last_epoch_loss": last_epoch_loss, **sharpness(model, data, probes, device),
            **(rescaling(model, data, probes, device) if rescale else {})}


def rescaled(model, alpha):
    """A copy of a LeNet-5 with fc1's weights and bias times alpha and fc2's weights over alpha:
    ReLU(alpha z) = alpha ReLU(z) for alpha > 0, so it computes the same function."""
    twin = copy.deepcopy(model)
    with torch.no_grad():
        twin.fc1.weight.mul_(alpha)
        twin.fc1.bias.mul_(alpha)
        twin.fc2.weight.div_(alpha)
    return twin


def rescaling(model, data, probes, device, alpha=DINH_ALPHA):
    """Dinh et al.'s point on one trained model: the rescaled twin's largest logit change and
    loss change on the sharpness subset (zero up to rounding) and its eps-sharpness (eps 1e-3)
    and top Hessian eigenvalue."""
    idx = subset_indices(len(data.train_x), probes.sharpness_samples, probes.seed, device)
    x, y = data.train_x[idx], data.train_y[idx]
    twin = rescaled(model, alpha).eval()
    with torch.no_grad():
        before, after = model.eval()(x), twin(x)
    measured = sharpness(twin, data, probes, device, epsilons={"1e-3": EPSILONS["1e-3"]})
    return {"rescaled_logit_change": ((after - before).abs().max() / before.abs().max()).item(),
            "rescaled_loss_change": (F.cross_entropy(after, y) - F.cross_entropy(before, y)).item(),
            "rescaled_sharpness_1e-3": measured["sharpness_1e-3"],
            "rescaled_hessian_max_eig": measured["hessian_max_eig"]}


def sharpness(model, data, probes, device, epsilons=EPSILONS):
    """eps-sharpness for each of `epsilons` and the top Hessian eigenvalue on a training subset."""
    idx = subset_indices(len(data.train_x), probes.sharpness_samples, probes.seed, device)
    x, y = data.train_x[idx], data.train_y[idx]
    model.eval()
    params = list(model.parameters())

    def loss_fn():
        return F.cross_entropy(model(x), y)
    out = {f"sharpness_{name}": epsilon_sharpness(loss_fn, params, eps, probes.sharpness_iterations)
           for name, eps in epsilons.items()}
    out["hessian_max_eig"], out["hessian_products"] = hessian_top_eigenvalue(loss_fn, params,
                                                                             seed=probes.seed)
    return out


def training_subset(data, size, seed, device):
    """The fixed random training subset that every training uses."""
    idx = subset_indices(len(data.train_x), size, seed, device)
    return dataclasses.replace(data, train_x=data.train_x[idx], train_y=data.train_y[idx])


def matched_lr(lr, batch_size, smallest):
    """lr * sqrt(batch / smallest matched batch)."""
    return lr * math.sqrt(batch_size / smallest)


def experiment(args, device):
    data = training_subset(cached_image_data(args.dataset, args.data_dir, device, 0, True),
                           args.train_subset, args.seed, device)
    probes = Probes(args.sensitivity_samples, args.sharpness_samples, args.sharpness_iterations,
                    args.seed)
    smallest = min(args.matched_batch_sizes)
    seeds = [args.seed + s for s in range(args.seeds)]
    # (batch size, seed, learning rate, epochs or epoch cap, target losses: none, or the
    # matched target and the looser check)
    tasks = [(b, seed, args.lr, args.epochs, ()) for b in args.batch_sizes for seed in seeds]
    matched_seeds = [args.seed + s for s in range(args.matched_seeds)]
    targets = (args.target_train_loss, *([args.check_train_loss] if args.check_train_loss else []))
    if args.target_train_loss > 0:
        tasks += [(b, seed, matched_lr(args.lr, b, smallest), args.max_epochs, targets)
                  for b in args.matched_batch_sizes for seed in matched_seeds]
    done = iter([train_one(data, b, seed, device, lr, epochs, probes, target)
                 for b, seed, lr, epochs, target in progress(tasks, "trainings (batch x seed)")])
    runs = {str(b): seed_summary([next(done) for _ in seeds]) for b in args.batch_sizes}
    results = {"dataset_source": data.source, "model": MODEL_NAME,
               "n_params": count_params(build_model("cpu")),
               "seeds": seeds,
               "sensitivity_samples": min(args.sensitivity_samples, len(data.test_x)),
               "sharpness_samples": min(args.sharpness_samples, len(data.train_x)),
               "epsilons": list(EPSILONS),
               "train_eval_samples": len(data.train_x), "batch_sizes": args.batch_sizes,
               "epochs": args.epochs, "lr": args.lr, "runs": runs}
    if args.target_train_loss > 0:
        results["matched"] = {
            "target_train_loss": args.target_train_loss, "max_epochs": args.max_epochs,
            "train_samples": len(data.train_x),
            "lr_rule": "lr * sqrt(batch / smallest batch)",
            "lrs": {str(b): matched_lr(args.lr, b, smallest) for b in args.matched_batch_sizes},
            "seeds": matched_seeds, "batch_sizes": args.matched_batch_sizes,
            "runs": {}}
        check = {}
        for b in args.matched_batch_sizes:
            per_seed = [next(done) for _ in matched_seeds]
            results["matched"]["runs"][str(b)] = seed_summary([r[0] for r in per_seed])
            if len(targets) > 1:
                check[str(b)] = seed_summary([r[1] for r in per_seed])
        if check:
            # the same trainings, measured the first epoch their loss was at most the check
            results["matched"]["check"] = {"target_train_loss": args.check_train_loss,
                                           "runs": check}
    return results


def seed_summary(per_seed):
    """{key: {mean, std (ddof 1, 0 for one seed), values}} over the seeds' result dicts."""
    summary = {}
    for key in per_seed[0]:
        values = [float(r[key]) for r in per_seed]
        summary[key] = described(values)
    return summary


# Measures whose trend over the batch size, and whose smallest-vs-largest-batch difference in the
# matched trainings, the README states; "gap" is test loss minus training loss.
SHARPNESS = (*(f"sharpness_{name}" for name in EPSILONS), "hessian_max_eig")
MEASURES = ("sensitivity", "test_acc", "train_loss", "gap", *SHARPNESS)
# Pairs of measures whose correlation over all trainings (batch sizes x seeds) the README quotes.
CORRELATIONS = (("sensitivity", "gap"), ("sensitivity", "test_acc"), ("sharpness_1e-3", "gap"),
                ("sharpness_1e-3", "test_acc"), ("sharpness_1e-3", "hessian_max_eig"),
                ("sharpness_1e-3", "sensitivity"))


def seed_values(run, key):
    """Per-seed values of one measure of one batch size's summary (gap: test - train loss)."""
    if key == "gap":
        return [t - r for t, r in zip(run["test_loss"]["values"], run["train_loss"]["values"])]
    return run[key]["values"]


def pooled(runs, sizes, key):
    """(log2 batch size, value) of every training of `sizes`, seed by seed."""
    x, y = [], []
    for b in sizes:
        values = seed_values(runs[str(b)], key)
        x += [math.log2(b)] * len(values)
        y += values
    return x, y


def summarise(results):
    """The verdicts the README quotes, from the recorded per-seed values: each measure's trend
    over log2(batch size) (Spearman over all trainings), correlations between measures over
    all trainings, and smallest vs largest batch (Welch's t over the seeds); the matched
    verdicts at the target and, when recorded, at the looser check target, and whether each
    ends verdict is the same at both."""
    out = {"fixed_epochs": {**verdicts(results["runs"], results["batch_sizes"]),
                            "peak": {k: peak(results["runs"], results["batch_sizes"], k)
                                     for k in SHARPNESS}}}
    if "matched" in results:
        out["matched"] = matched_summary(results["matched"])
        if "check" in results["matched"]:
            # the same trainings at the check target: its runs and target in place of the main,
            # over the batch sizes and seeds that reached the main target (one can pass the
            # looser check target only), so that both verdicts compare the same trainings
            main = out["matched"]
            out["matched_check"] = matched_summary({**results["matched"],
                                                    **results["matched"]["check"],
                                                    "batch_sizes": main["batch_sizes"]},
                                                   main["left_out"])
            out["matched_check"]["agreement"] = agreement(out["matched"], out["matched_check"])
    return out


def verdicts(runs, sizes):
    """Trend over log2(batch size), smallest vs largest batch and the correlations of one mode."""
    return {"trend": {k: stats.trend(*pooled(runs, sizes, k)) for k in MEASURES},
            "ends": {k: stats.compare(seed_values(runs[str(sizes[0])], k),
                                      seed_values(runs[str(sizes[-1])], k)) for k in MEASURES},
            "correlation": {f"{a}~{b}": stats.trend(pooled(runs, sizes, a)[1],
                                                    pooled(runs, sizes, b)[1])
                            for a, b in CORRELATIONS}}


def matched_summary(matched, left_before=None):
    """verdicts() and the sharpness peaks of the matched trainings that reached the target
    (see reached() and its `left_before`), Dinh et al.'s rescaling where recorded; the peaks
    because the ends test misses a hump. Fewer than two batch sizes at the target (a --quick
    run): no comparisons."""
    runs, left_out = reached(matched, left_before)
    sizes = [b for b in matched["batch_sizes"] if str(b) in runs]
    out = ({**verdicts(runs, sizes), "peak": {k: peak(runs, sizes, k) for k in SHARPNESS}}
           if len(sizes) > 1 else {})
    out.update(runs=runs, batch_sizes=sizes, left_out=left_out,
               target_train_loss=matched["target_train_loss"])
    if len(sizes) > 1 and "rescaled_sharpness_1e-3" in runs[str(sizes[0])]:
        out["rescaling"] = rescaling_summary(runs, sizes)
    return out


def agreement(target, check):
    """Per measure, the smallest-vs-largest-batch verdict at the target and at the check
    target, and whether they are the same (empty when either compares no two batch sizes)."""
    if "ends" not in target or "ends" not in check:
        return {}
    return {k: {"target": target["ends"][k]["verdict"], "check": check["ends"][k]["verdict"],
                "same": target["ends"][k]["verdict"] == check["ends"][k]["verdict"]}
            for k in MEASURES}


def reached(matched, left_before=None):
    """The matched trainings that reached the target (epoch-mean training loss at most
    target_train_loss before the epoch cap), per batch size as seed_summary() records (a batch
    size none reached is absent), and per batch size the seeds of those that did not. A
    training stopped by the cap is not a model at the matched loss (one batch-2048 training of
    seed base 100 never left ln 10), so it is left out of every matched comparison; so are the
    seeds listed per batch size in `left_before` (those left out at the main target, when this
    is the check target)."""
    target, before = matched["target_train_loss"], left_before or {}
    runs, left_out = {}, {}
    for b in matched["batch_sizes"]:
        run = matched["runs"][str(b)]
        ok = [loss <= target and seed not in before.get(str(b), ())
              for seed, loss in zip(matched["seeds"], run["last_epoch_loss"]["values"])]
        left_out[str(b)] = [seed for seed, k in zip(matched["seeds"], ok) if not k]
        if any(ok):
            runs[str(b)] = {key: described([v for v, k in zip(rec["values"], ok) if k])
                            for key, rec in run.items()}
    return runs, left_out


def peak(runs, sizes, key):
    """The batch size with the highest seed-mean of `key` and that mean (the first on a tie);
    when it lies strictly between the ends, the test of a hump there ("hump"): its seeds
    against each end's (Welch's t). A hump needs both ends below it, so the test's p is the
    larger of the two (an intersection-union test), times the len(sizes) - 2 inner batch sizes
    the peak was picked from (Bonferroni: the pick is part of the test)."""
    means = [runs[str(b)][key]["mean"] for b in sizes]
    i = int(np.argmax(means))
    out = {"batch_size": sizes[i], "mean": means[i]}
    if 0 < i < len(sizes) - 1 and np.all(np.isfinite(means)):
        top = seed_values(runs[str(sizes[i])], key)
        ends = [{"batch_size": b, **stats.compare(top, seed_values(runs[str(b)], key))}
                for b in (sizes[0], sizes[-1])]
        ps = [e["p"] for e in ends]
        p = None if None in ps else min(1.0, (len(sizes) - 2) * max(ps))
        verdict = ("not tested" if p is None else "above both ends" if p < stats.ALPHA
                   else "no hump detected")       # the peak is the argmax: both effects <= 0
        out["hump"] = {"test": "Welch's t against each end, intersection-union, Bonferroni",
                       "candidates": len(sizes) - 2, "ends": ends, "p": p, "verdict": verdict}
    return out


def rescaling_summary(runs, sizes):
    """Dinh et al.'s rescaling over every matched model (batch sizes x seeds): rescaled /
    original eps-sharpness and top eigenvalue per model, each tested for a change (one-sample t
    on the log ratio; effect and interval back on the ratio scale), the largest function change,
    and how the rescaled smallest-batch models compare with the original largest-batch ones
    (Welch's t): rescaling alone can make the flattest models the sharpest."""
    out = {"models": 0}
    for key in ("sharpness_1e-3", "hessian_max_eig"):
        ratios = [r / o for b in sizes for r, o in zip(runs[str(b)][f"rescaled_{key}"]["values"],
                                                      runs[str(b)][key]["values"])]
        test = stats.one_sample(np.log(ratios), up="rises", down="falls")
        out[key] = {"ratios": ratios, "n": test["n"], "p": test["p"], "verdict": test["verdict"],
                    "geo_mean": math.exp(test["effect"]),
                    "ci95": [math.exp(v) for v in test["ci95"]] if test["ci95"] else None,
                    "small_rescaled_mean": float(np.mean(
                        runs[str(sizes[0])][f"rescaled_{key}"]["values"])),
                    "large_mean": float(np.mean(runs[str(sizes[-1])][key]["values"])),
                    "small_rescaled_vs_large": stats.compare(
                        runs[str(sizes[-1])][key]["values"],
                        runs[str(sizes[0])][f"rescaled_{key}"]["values"])}
        out["models"] = len(ratios)
    out["max_logit_change"] = max(v for b in sizes
                                  for v in runs[str(b)]["rescaled_logit_change"]["values"])
    out["max_loss_change"] = max(abs(v) for b in sizes
                                 for v in runs[str(b)]["rescaled_loss_change"]["values"])
    return out


def plot_matched(results, path):
    """Fixed-epoch trainings against trainings matched to one training loss, against batch size
    (3 x 2 panels): test accuracy, training loss, sensitivity, eps-sharpness (largest eps), top
    Hessian eigenvalue (log y where the means span a decade, see log_band_axis); and, when
    recorded, both sharpness measures of the matched models before and after Dinh et al.'s
    rescaling (log y: the rescaling moves them by a decade)."""
    # the trainings that reached the target loss (see reached()), as the summary counts them
    matched = {**results["matched"], **results["summary"]["matched"]}
    left_out = sum(len(v) for v in matched["left_out"].values())
    eps = results["epsilons"][0]
    panels_ = (("test_acc", 100, "test accuracy (%)"),
               ("train_loss", 1, "training loss when measured"),
               ("sensitivity", 1, "sensitivity ‖∂softmax/∂x‖_F"),
               (f"sharpness_{eps}", 1, f"ε-sharpness, ε = {eps} (%)"),
               ("hessian_max_eig", 1, "top Hessian eigenvalue"))
    fig, axes = panels(3, 2, 8.4)
    axes = axes.ravel()
    n_fixed, n_matched = len(results["seeds"]), len(matched["seeds"])
    ticks = sorted(set(results["batch_sizes"]) | set(matched["batch_sizes"]))
    series = [(results, COLORS[0], "-", f"{plural(results['epochs'], 'epoch')}, lr "
                                        f"{results['lr']:g}", n_fixed, 0),
              (matched, COLORS[3], "-", f"to training loss {matched['target_train_loss']:g}",
               n_matched, left_out)]
    check = results["summary"].get("matched_check")
    if check is not None:     # the same trainings, measured on their way to the target
        series.append((check, COLORS[1], "--", f"the same, at training loss "
                                              f"{check['target_train_loss']:g}", n_matched,
                       sum(len(v) for v in check["left_out"].values())))
    for ax, (key, scale, label) in zip(axes, panels_):
        for res, color, ls, name, n, left in series:
            sizes = res["batch_sizes"]
            band = f"mean ± std, {n} seeds" if n > 1 else "1 seed"
            if left:
                band += f"; {left} that never reached it left out"
            line_with_band(ax, sizes, [res["runs"][str(b)] for b in sizes], key, scale,
                           color=color, ls=ls, label=f"{name} ({band})")
        ax.set_ylabel(label)
        if key in SHARPNESS:     # the matched lines sit flat under the fixed-epoch peak
            log_band_axis(ax, [res["runs"][str(b)][key] for res, *_ in series
                               for b in res["batch_sizes"]])

    ax = axes[5]
    runs = [matched["runs"][str(b)] for b in matched["batch_sizes"]]
    if runs and f"rescaled_sharpness_{eps}" in runs[0]:
        for key, color, name in ((f"sharpness_{eps}", COLORS[2], "ε-sharpness"),
                                 ("hessian_max_eig", COLORS[4], "top eigenvalue")):
            line_with_band(ax, matched["batch_sizes"], runs, key, 1, color=color,
                           label=f"{name}, as trained")
            line_with_band(ax, matched["batch_sizes"], runs, f"rescaled_{key}", 1, color=color,
                           ls="--", label=f"{name}, rescaled")
        ax.set_yscale("log")
        ax.set_ylabel("sharpness measure (log scale)")
        ax.set_title(f"matched models, fc1 × {DINH_ALPHA:g}, fc2 ÷ {DINH_ALPHA:g}: same function")
    else:
        ax.axis("off")
    legend_outside(fig, axes, ncol=2)
    for ax in axes[:6]:
        if ax.axison:
            ax.set_xscale("log", base=2)
            shown = matched["batch_sizes"] if ax is axes[5] else ticks
            ax.set_xticks(shown, [str(b) for b in shown], rotation=45)
            ax.set_xlabel("training batch size")
    epochs = ", ".join(f"{b}: {matched['runs'][str(b)]['epochs']['mean']:.0f}"
                       for b in matched["batch_sizes"])
    if check is not None:
        epochs += f"; to {check['target_train_loss']:g}: " + ", ".join(
            f"{check['runs'][str(b)]['epochs']['mean']:.0f}" for b in check["batch_sizes"])
    fig.suptitle(f"{dataset_title(results)}, {results['model']}: fixed epochs vs matched training "
                 f"loss ({matched['train_samples']:,}-image subset, matched lr ∝ √batch;\n"
                 f"mean epochs used by batch size to {matched['target_train_loss']:g}: {epochs})")
    save_figure(fig, path)


def log_band_axis(ax, records):
    """A log y axis where positive means ({"mean", "std"} records) span a decade or more (else
    linear), for mean ± std bands that may reach zero or below: the axis spans the means and
    the upper band edges, halved and doubled, and a lower band edge below that runs off it."""
    means = np.asarray([r["mean"] for r in records], float)
    tops = means + np.asarray([r["std"] for r in records], float)
    if means.min() <= 0:
        return
    log_scale_if_decade(ax, means)
    if ax.get_yscale() != "log":
        return
    ax.set_ylim(means.min() / 2, tops.max() * 2)
    ax.set_ylabel(f"{ax.get_ylabel()} (log scale)")


def line_with_band(ax, x, stats, key, scale, **kw):
    mean = np.asarray([s[key]["mean"] for s in stats]) * scale
    std = np.asarray([s[key]["std"] for s in stats]) * scale
    (line,) = ax.plot(x, mean, marker="o", ms=3, **kw)
    if np.any(std > 0):
        ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.15, lw=0)
    return line


def batch_axes(axes, sizes):
    """log2 batch-size x axes with the batch sizes as ticks."""
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [str(b) for b in sizes], rotation=45)
        ax.set_xlabel("training batch size")


def plot_sensitivity(results, path):
    """Three panels against batch size (log2): train/test loss, train/test accuracy and the
    sensitivity, each on its own axis (no twin axes), mean with a std band over the seeds."""
    sizes = results["batch_sizes"]
    stats = [results["runs"][str(b)] for b in sizes]
    fig, axes = panels(1, 3, 3.6)
    n_seeds = len(results["seeds"])
    for ax, key, ylabel, scale in ((axes[0], "loss", "cross-entropy", 1),
                                   (axes[1], "acc", "accuracy (%)", 100)):
        line_with_band(ax, sizes, stats, f"train_{key}", scale, color=COLORS[0], ls="-",
                       label=f"train ({results['train_eval_samples']:,}-image subset)")
        line_with_band(ax, sizes, stats, f"test_{key}", scale, color=COLORS[1], ls="--",
                       label="test set")
        ax.set_ylabel(ylabel)
    line_with_band(axes[2], sizes, stats, "sensitivity", 1, color=COLORS[3],
                   label=f"sensitivity (mean over {results['sensitivity_samples']:,} test images)")
    axes[2].set_ylabel("sensitivity ‖∂softmax/∂x‖_F")
    legend_outside(fig, axes, ncol=3)
    batch_axes(axes, sizes)
    band = f"mean ± std over {n_seeds} seeds" if n_seeds > 1 else "1 seed"
    cfg = results["meta"]["config"]
    fig.suptitle(f"{dataset_title(results)}, {results['model']}, SGD lr {cfg['lr']:g}, "
                 f"{plural(cfg['epochs'], 'epoch')} for every batch size ({band})")
    save_figure(fig, path)


def plot_sharpness(results, path):
    """Three panels against batch size (log2): eps-sharpness for each eps, the top Hessian
    eigenvalue and the test accuracy, each on its own linear axis (the scales of the matched
    figure), mean with a std band over the seeds."""
    sizes = results["batch_sizes"]
    stats = [results["runs"][str(b)] for b in sizes]
    fig, axes = panels(1, 3, 3.6)
    for k, name in enumerate(results["epsilons"]):
        line_with_band(axes[0], sizes, stats, f"sharpness_{name}", 1, color=(COLORS[0],
                       COLORS[2])[k % 2], ls=("-", "--")[k % 2], label=f"ε-sharpness, ε = {name}")
    axes[0].set_ylabel("ε-sharpness (%)")
    line_with_band(axes[1], sizes, stats, "hessian_max_eig", 1, color=COLORS[3],
                   label="top Hessian eigenvalue")
    axes[1].set_ylabel("top Hessian eigenvalue")
    line_with_band(axes[2], sizes, stats, "test_acc", 100, color=COLORS[4], label="test accuracy")
    axes[2].set_ylabel("test accuracy (%)")
    legend_outside(fig, axes, ncol=4)
    batch_axes(axes, sizes)
    n_seeds = len(results["seeds"])
    band = f"mean ± std over {n_seeds} seeds" if n_seeds > 1 else "1 seed"
    fig.suptitle(f"{dataset_title(results)}, {results['model']}: sharpness of the final models "
                 f"({band};\ntraining loss on a fixed {results['sharpness_samples']:,}-image "
                 "training subset)")
    save_figure(fig, path)


def plot(results, out, stem):
    paths = [out / f"{stem}_batch_size.png", out / f"{stem}_sharpness.png"]
    plot_sensitivity(results, paths[0])
    plot_sharpness(results, paths[1])
    if "matched" in results:
        paths.append(out / f"{stem}_matched.png")
        plot_matched(results, paths[2])
    return paths


def main(argv=None):
    return cli.run_main(argv, build_parser(), STEM, experiment, plot, QUICK, validate, summarise)


if __name__ == "__main__":
    main()

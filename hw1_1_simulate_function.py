"""HW1-1 (deep vs shallow): at a fixed budget of about 2,200 parameters, does depth help a ReLU
network fit a 1-D function?

Depth series (1, 2, 4 and 8 hidden layers; common.models.DEPTH_SERIES): D1 1-733-1 (2,200
parameters), D2 1-45-45-1 (2,206), M1 1-16-32-32-16-1 (2,177) and D8 with eight hidden layers of
17 (2,194); beside them the original report's other two 4-layer shapes M2 (2,113) and M3 (2,233).
Targets (every function of common.data.TARGET_FUNCTIONS): sin(5πx), sin(5πx)/(5πx), 5πx·sin(5πx)
and the square wave sign(sin(5πx)), on evenly spaced points of [-1, 1]; full-batch Adam on the MSE. Every (model, target) pair is trained from
--seeds initialisations; all fits of one depth train at once as batched matmuls (narrower models
zero-padded; see StackedMLP).

    python hw1_1_simulate_function.py            # full run (11 min on a 2-core AMD EPYC)
    python hw1_1_simulate_function.py --quick    # seconds

Writes <out-dir>/hw1_1_simulate_function.json, _loss.png, _predictions.png and _final_mse.png.
"""
import contextlib
import dataclasses
import copy

import numpy as np
import torch

from common import cli, stats
from common.data import TARGET_FUNCTIONS, function_samples
from common.metrics import convergence_epoch
from common.models import DEPTH_SERIES, FUNCTION_MODELS, StackedMLP, count_params, function_mlp
from common.plotting import COLORS, layer_sizes, legend_outside, panels, plt, save_figure
from common.stats import quartiles
from common.train import progress, train_stacked_regressors

STEM = "hw1_1_simulate_function"
@dataclasses.dataclass(frozen=True)
class Settings:
    """The experiment's flags (cli.setting: default, type, help, --quick value)."""
    # every model trains all epochs so that the curves compare (3000, not 5000, so that the fits
    # of every target, model and seed stay within a few minutes on 2 CPU cores)
    epochs: int = cli.setting(3000, cli.positive_int, "training epochs", quick=300)
    lr: float = cli.setting(0.0012, cli.positive_float, "Adam learning rate")
    weight_decay: float = cli.setting(1e-4, cli.nonnegative_float, "Adam weight decay (L2)")
    points: int = cli.setting(300, cli.positive_int,
                              "number of evenly spaced training points on [-1, 1]", quick=100)
    # 40: with 10 (and with 20) the models that beat D1 on sin(5πx) and sin(5πx)/(5πx), and
    # the ranking of M1-M3, changed with the seed base; the log10 MSEs of a model spread widely
    seeds: int = cli.setting(40, cli.positive_int,
                             "initialisations per (model, target): seed, seed + 1, ...", quick=3)


DEFAULTS, QUICK = Settings(), cli.quick_settings(Settings)
LOSS_TOL = 1e-3        # converged: the loss stays below this from some epoch to the end
BUDGETS = (1 / 3, 2 / 3, 1)  # the rankings at these shares of --epochs (1,000, 2,000 and 3,000
                             # by default): does the leader depend on when training stops?
CURVE_EVERY = 10       # the JSON keeps the loss quartiles of every 10th epoch (and the last)
MAX_ACTIVATIONS = 3_000_000  # nets x points x widest layer per stacked chunk: D1 (733 wide) took
                             # 84 s for 40 nets x 5000 epochs in chunks of 10, 121 s all at once
MODELS = {**DEPTH_SERIES, "M2": FUNCTION_MODELS["M2"], "M3": FUNCTION_MODELS["M3"]}


def build_parser():
    return cli.make_parser(STEM, __doc__, Settings, uses_dataset=False)


def validate(args):
    cli.check_seed_count(args, args.seeds, "seeds")


def initial_models(seeds, device):
    """name -> list over seeds of one initialised model (the same for every target)."""
    inits = {name: [] for name in MODELS}
    for seed in seeds:
        torch.manual_seed(seed)
        for name, hidden in MODELS.items():
            inits[name].append(function_mlp(hidden).to(device))
    return inits


def fit_depth_group(names, inits, x, targets, epochs, lr, weight_decay):
    """Train every (model in names, target, seed) by full-batch Adam (lr, weight_decay) for
    `epochs`; they share a depth, so they stack, in chunks of at most MAX_ACTIVATIONS
    activations per layer.

    Returns {(name, target, seed): ((epochs,) losses, (B,) prediction)} as numpy arrays.
    """
    keys, models, ys = [], [], []
    for name in names:
        for fname, y in targets.items():
            for s, init in enumerate(inits[name]):
                keys.append((name, fname, s))
                models.append(copy.deepcopy(init))
                ys.append(y)
    widest = max(max(MODELS[name]) for name in names)
    chunk = max(1, MAX_ACTIVATIONS // (len(x) * widest))
    out = {}
    for start in range(0, len(models), chunk):
        stacked = StackedMLP(models[start:start + chunk]).to(x.device)
        losses = train_stacked_regressors(stacked, x, torch.stack(ys[start:start + chunk]),
                                          epochs, lr, weight_decay,
                                          desc=f"depth {len(MODELS[names[0]])}")
        with torch.no_grad():
            preds = stacked(x)[:, :, 0].cpu().numpy()
        losses = losses.cpu().numpy()
        out.update({key: (losses[:, k], preds[k])
                    for k, key in enumerate(keys[start:start + chunk])})
    return out


def fit_summary(runs, seeds):
    """JSON record of one (model, target) over its seeds: final MSEs, convergence, quartile
    curves, and the prediction of the seed whose final MSE is the median (lower middle)."""
    losses = np.stack([loss for loss, _ in runs])                       # (seeds, epochs)
    final, epochs = losses[:, -1], losses.shape[1]
    keep = sorted(set(range(0, epochs, CURVE_EVERY)) | {epochs - 1})
    q1, med, q3 = np.percentile(losses[:, keep], [25, 50, 75], axis=0)
    median_seed = int(np.argsort(final)[(len(final) - 1) // 2])
    return {
        "final_loss": [float(v) for v in final],
        "convergence_epoch": [convergence_epoch(loss, LOSS_TOL) for loss, _ in runs],
        "loss_at": {str(e): [float(v) for v in losses[:, e - 1]]
                    for e in budget_epochs(epochs)},
        "final_quartiles": list(quartiles(final)),
        "curve_epochs": [k + 1 for k in keep],
        "curve_q1": _short(q1), "curve_median": _short(med), "curve_q3": _short(q3),
        "median_seed": seeds[median_seed],
        "median_prediction": _short(runs[median_seed][1]),
    }


def budget_epochs(epochs):
    """The epochs (1-based, ascending, distinct) at which the rankings are read: BUDGETS of
    `epochs`, the last one `epochs` itself."""
    return sorted({max(1, round(epochs * share)) for share in BUDGETS})


def keep_freed_memory():
    """Ask glibc to keep freed blocks instead of returning them to the system: the (nets,
    points, width) activations of each epoch are then reused, not mapped and unmapped again
    (measured: 40 D1 nets x 5000 epochs 286 s -> 121 s, mostly system time saved)."""
    import ctypes
    import ctypes.util
    name = ctypes.util.find_library("c")
    if name and "libc" in name:
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(name)
            libc.mallopt(-3, 1 << 30)  # M_MMAP_THRESHOLD: no mmap below 1 GiB
            libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD: keep up to 1 GiB of free heap


def _short(values):
    return [float(f"{v:.5g}") for v in values]


def experiment(args, device):
    keep_freed_memory()
    x, _ = function_samples(next(iter(TARGET_FUNCTIONS)), args.points, device)
    targets = {f: function_samples(f, args.points, device)[1] for f in TARGET_FUNCTIONS}
    seeds = [args.seed + s for s in range(args.seeds)]
    inits = initial_models(seeds, device)
    groups = {}
    for name, hidden in MODELS.items():
        groups.setdefault(len(hidden), []).append(name)
    runs = {}
    for names in progress(list(groups.values()), "depth groups"):
        runs.update(fit_depth_group(names, inits, x, targets, args.epochs, args.lr,
                                    args.weight_decay))
    fits = {fname: {name: fit_summary([runs[(name, fname, s)] for s in range(args.seeds)], seeds)
                    for name in MODELS} for fname in TARGET_FUNCTIONS}
    return {
        "optimiser": "full-batch Adam",
        "convergence_rule": {"stays_below_from_then_on": LOSS_TOL},
        "budgets": budget_epochs(args.epochs),
        "seeds": seeds,
        "models": {name: {"hidden": list(hidden), "depth": len(hidden),
                          "n_params": count_params(inits[name][0]),
                          "series": "depth" if name in DEPTH_SERIES else "original"}
                   for name, hidden in MODELS.items()},
        "x": x[:, 0].cpu().tolist(),
        "targets": {f: y[:, 0].cpu().tolist() for f, y in targets.items()},
        "fits": fits,
    }


def rank_series(per_model, models, key):
    """Rankings of the depth series and of M1-M3 on log10 of the per-seed MSEs per_model[name]
    [key] (lower is better; MSEs span decades), every pair by Welch's t with Holm's correction;
    and the question the README answers, "does any deeper net end below the shallowest?": each
    deeper model of the depth series against the shallowest, Holm over those contrasts only
    ("vs_shallowest", effect = mean log10 MSE minus the shallowest's). "depth_helps" is "yes"
    when at least one contrast rejects (Holm's first step is Bonferroni's test of "none is
    below"), with the smallest corrected p."""
    logs = {n: np.log10(np.maximum(key(fit), 1e-300)).tolist() for n, fit in per_model.items()}
    depth = [n for n in models if models[n]["series"] == "depth"]
    out = {series: stats.ranking({n: logs[n] for n in per_model if n in members},
                                 higher_is_better=False)
           for series, members in (("depth", depth), ("original", list(FUNCTION_MODELS)))}
    shallowest = min(depth, key=lambda n: models[n]["depth"])
    out["shallowest"] = shallowest
    deeper = {n: logs[n] for n in depth if n in per_model}
    vs = stats.against(deeper, shallowest)
    out["vs_shallowest"] = vs
    out["beat_shallowest"] = [n for n, c in vs.items() if c["verdict"] == "lower"]
    out["depth_helps"] = helps_answer(
        vs, len(logs[shallowest]), "Welch's t on log10 MSE, Holm over the contrasts with the "
        "shallowest")
    # the same question by ranks: a few stuck seeds of a deeper net (final MSE decades above
    # the rest) move its mean, not its ranks; effect = rank-biserial correlation
    vs_rank = stats.against(deeper, shallowest, test=stats.compare_ranks)
    out["vs_shallowest_rank"] = vs_rank
    out["depth_helps_rank"] = helps_answer(
        vs_rank, len(logs[shallowest]), "Mann-Whitney U, Holm over the contrasts with the "
        "shallowest")
    return out


def helps_answer(vs, n, test):
    """Does any deeper net end below the shallowest? From the contrasts `vs` (stats.against):
    "yes" when one is "lower", else "no" when one is "higher", else no difference detected (or
    "not tested"); with the smallest corrected p and the nets above the shallowest."""
    beat = [m for m, c in vs.items() if c["verdict"] == "lower"]
    above = [m for m, c in vs.items() if c["verdict"] == "higher"]
    tested = [c["p_holm"] for c in vs.values() if c["p_holm"] is not None]
    return {"test": test, "n": n, "contrasts": len(vs),
            "verdict": "yes" if beat else "no" if above else
            "not tested" if not tested else stats.NO_DIFFERENCE,
            "p_holm_min": min(tested, default=None), "above_shallowest": above}


def top_group(ranking):
    """The best model of a ranking() and those not detectably worse than it."""
    best = ranking["order"][0]
    worse = set(stats.separated_from(ranking, best, "higher"))
    return [n for n in ranking["order"] if n not in worse]


def leader_stability(by_budget):
    """Per series: the best model (lowest mean log10 MSE) and its top group (the models not
    detectably worse than it) at each budget, and whether the leader changes: the last budget's
    best is outside an earlier budget's top group, or an earlier budget's best outside the last
    budget's top group. Wide top groups make a change hard to detect."""
    out = {}
    for series in ("depth", "original"):
        best = {e: r[series]["order"][0] for e, r in by_budget.items()}
        group = {e: top_group(r[series]) for e, r in by_budget.items()}
        last = list(by_budget)[-1]
        changes = any(best[last] not in group[e] or best[e] not in group[last] for e in by_budget)
        out[series] = {"best": best, "top_group": group, "changes": changes}
    return out


def summarise(results):
    """The rankings the README quotes, per target: at the end of training and at each budget
    (from the recorded per-seed losses at those epochs), and whether the leader changes with the
    budget."""
    models = results["models"]
    out = {}
    for target, per_model in results["fits"].items():
        out[target] = rank_series(per_model, models, lambda fit: fit["final_loss"])
        by_budget = {e: rank_series(per_model, models, lambda fit, e=e: fit["loss_at"][e])
                     for e in next(iter(per_model.values()))["loss_at"]}
        out[target]["budgets"] = by_budget
        out[target]["leader"] = leader_stability(by_budget)
        out[target]["shallowest_still_falling"] = still_falling(
            per_model[out[target]["shallowest"]]["loss_at"])
        out[target]["converged"] = {n: sum(e is not None for e in fit["convergence_epoch"])
                                    for n, fit in per_model.items()}
    out["across_targets"] = across_targets(results, out)
    return out


def across_targets(results, summary):
    """What the README states over all targets: the models' parameter range, the targets on
    which the shallowest model is still falling (with the largest of their p and the pairs per
    test), and those on which the depth series' leader changes with the budget."""
    targets = list(results["fits"])
    falling = [summary[t]["shallowest_still_falling"] for t in targets]
    n_params = [m["n_params"] for m in results["models"].values()]
    down = [t for t, f in zip(targets, falling) if f["verdict"] == "lower"]
    return {"targets": len(targets), "params_range": [min(n_params), max(n_params)],
            "still_falling": down,
            "still_falling_max_p": max((f["p"] for f in falling if f["verdict"] == "lower"),
                                       default=None),
            "still_falling_pairs": falling[0]["n"][0],
            "leader_changes": [t for t in targets if summary[t]["leader"]["depth"]["changes"]]}


def still_falling(loss_at):
    """Is the model's MSE still falling between the last two budgets? Paired t over the seeds
    on log10 MSE (the same seed at both epochs)."""
    (_, earlier), (_, last) = list(loss_at.items())[-2:]
    return stats.compare(np.log10(earlier).tolist(), np.log10(last).tolist(), paired=True)


def model_label(name, model):
    """'D1 1-733-1 (2,200 params)' from a model record of the function-fit JSON."""
    sizes = layer_sizes([1, *model["hidden"], 1])
    if len(sizes) > 22:
        sizes = f"{model['depth']}×{model['hidden'][0]}" if len(set(model["hidden"])) == 1 \
            else f"{model['depth']} hidden layers"
    return f"{name} {sizes} ({model['n_params']:,} params)"


def target_grid(n):
    """Figure and flat list of axes for n targets (2 columns)."""
    rows = (n + 1) // 2
    fig, axes = plt.subplots(rows, 2, figsize=(8.1, 2.9 * rows), squeeze=False)
    return fig, axes.ravel()


def series_panels(results):
    """One row per target, one column per series (the depth series; the original report's
    shapes), at the README's width: the figure, and per panel (axes, target, the series' fits
    as (name, fit) pairs), the panel titled; plus a colour per model."""
    models = results["models"]
    series = {"depth series": [n for n in models if models[n]["series"] == "depth"],
              "original 4-layer shapes": [n for n in models
                                          if models[n]["series"] == "original" or n == "M1"]}
    fig, axes = panels(len(results["fits"]), 2, 2.4 * len(results["fits"]) + 1, squeeze=False,
                       sharex=True)
    cells = []
    for row, (fname, per_model) in zip(axes, results["fits"].items()):
        for ax, (title, names) in zip(row, series.items()):
            ax.set_title(f"{fname}: {title}")
            cells.append((ax, fname, [(name, per_model[name]) for name in names]))
    return fig, axes, cells, dict(zip(models, COLORS))


def plot_function_losses(results, path):
    """Median training MSE over seeds (line) and interquartile band per model; the depth series
    and the original shapes in separate columns, one row per target; log y."""
    models = results["models"]
    fig, axes, cells, colors = series_panels(results)
    for ax, _, fits in cells:
        for name, fit in fits:
            epochs = fit["curve_epochs"]
            ax.plot(epochs, fit["curve_median"], color=colors[name], lw=1,
                    label=model_label(name, models[name]))
            ax.fill_between(epochs, fit["curve_q1"], fit["curve_q3"], color=colors[name],
                            alpha=0.15, lw=0)
        ax.set_yscale("log")
        ax.set_ylabel("training MSE")
    for ax in axes[-1]:
        ax.set_xlabel("epoch")
    legend_outside(fig, axes, ncol=3)
    x, cfg = results["x"], results["meta"]["config"]
    fig.suptitle(f"Function fitting ({len(x)} points on [{x[0]:g}, {x[-1]:g}]): training MSE,\n"
                 f"median of {len(results['seeds'])} seeds and interquartile band "
                 f"({results['optimiser']} lr {cfg['lr']:g})")
    save_figure(fig, path)


def plot_function_predictions(results, path):
    """Prediction of each model's median-final-MSE seed, the ground truth drawn on top (dashed),
    the depth series and the original shapes in separate columns, one row per target."""
    x = np.asarray(results["x"])
    models = results["models"]
    fig, axes, cells, colors = series_panels(results)
    for ax, fname, fits in cells:
        for name, fit in fits:
            ax.plot(x, fit["median_prediction"], color=colors[name], lw=1.2,
                    label=model_label(name, models[name]))
        ax.plot(x, results["targets"][fname], color="black", lw=1, ls="--", zorder=5,
                label="ground truth")
        ax.set_ylabel("y")
    for ax in axes[-1]:
        ax.set_xlabel("x")
    legend_outside(fig, axes, ncol=3)
    fig.suptitle(f"Function fitting: prediction of each model's median seed\n(by final MSE of "
                 f"{len(results['seeds'])} seeds) against the ground truth")
    save_figure(fig, path)


def plot_final_mse(results, path):
    """Final MSE of every seed (dots), the median (bar) and the interquartile range (box), per
    model and target; log y."""
    fits, models = results["fits"], results["models"]
    fig, axes = target_grid(len(fits))
    rng = np.random.default_rng(0)  # horizontal jitter only, so that equal values stay visible
    for ax, (fname, per_model) in zip(axes, fits.items()):
        names = list(per_model)
        for i, (color, name) in enumerate(zip(COLORS, names)):
            final = np.asarray(per_model[name]["final_loss"])
            ax.scatter(i + rng.uniform(-0.15, 0.15, len(final)), final, s=12, color=color,
                       alpha=0.8, lw=0)
            q1, med, q3 = np.percentile(final, [25, 50, 75])
            ax.hlines(med, i - 0.3, i + 0.3, color="black", lw=1.5)
            ax.add_patch(plt.Rectangle((i - 0.25, q1), 0.5, q3 - q1, fill=False, ec="black",
                                       lw=0.8))
        ax.set_xticks(range(len(names)),
                      [f"{n}\n{models[n]['depth']} hidden" for n in names], fontsize=8)
        ax.set_yscale("log")
        ax.set_xlabel("model")
        ax.set_ylabel("final training MSE")
        ax.set_title(f"target y = {fname}")
    fig.suptitle(f"Function fitting: final MSE of each of {len(results['seeds'])} seeds (dots), "
                 "the median (bar) and the interquartile range (box) per model")
    fig.tight_layout()
    save_figure(fig, path)


def plot(results, out, stem):
    paths = [out / f"{stem}_loss.png", out / f"{stem}_predictions.png",
             out / f"{stem}_final_mse.png"]
    plot_function_losses(results, paths[0])
    plot_function_predictions(results, paths[1])
    plot_final_mse(results, paths[2])
    return paths


def main(argv=None):
    return cli.run_main(argv, build_parser(), STEM, experiment, plot, QUICK, validate, summarise)


if __name__ == "__main__":
    main()

"""HW1-2 (optimisation): how does the gradient norm behave during training, and what do points
where the gradient is almost zero look like (minimum or saddle)?

Part 1: gradient norm (total 2-norm over all parameters) and loss at every iteration of
  (a) the 1-500-1 ReLU network (1,501 parameters) fitting sin(5πx)/(5πx) on 300 points, full-batch
      Adam, and (b) the 784-500-50-10 MLP on an MNIST-format data set, batch 1000.
Part 2: 100 trainings of a 1-10-10-1 tanh network (141 parameters) from different seeds, in
  float64. Phase 1 minimises the MSE with Adam for a number of epochs that varies across
  trainings; phase 2 solves grad L = 0 by Levenberg-Marquardt steps with the exact Hessian
  (common/critical.py), which converge to the nearby critical point whether it is a saddle or a
  minimum. At the end point: the Hessian's eigenvalues and the minimal ratio = share of
  eigenvalues > tol (tol relative to the largest |eigenvalue|).
  Contrast: the same with the 1-500-1 ReLU network and Adam on ||grad L||^2 as phase 2, which
  stalls on the kinks that ReLU puts into ||grad L||^2 (closed-form Hessian, common/shallow.py).

    python hw1_2_grad_norm.py --dataset fashion-mnist    # full run (2.5-4.5 min on 2 CPU cores)
    python hw1_2_grad_norm.py --quick

Writes <out-dir>/hw1_2_grad_norm.json, _function.png, _mnist.png, _minimal_ratio.png and
_minimal_ratio_relu.png.
"""
import dataclasses

import numpy as np
import torch
from matplotlib.ticker import NullFormatter
import torch.nn.functional as F

from common import cli, critical, stats
from common.data import function_samples, load_image_data, minibatches
from common.metrics import escape_along, eigenvalue_summary, gradient_norm, sign_counts
from common.models import MLP, MNIST_MLP_LR, MNIST_MLP_SIZES, count_params, mlp_params
from common.shallow import GROUP_SIZE, ShallowNets, block_norms
from common.plotting import (COLORS, dataset_title, layer_sizes, legend_outside,
                             log_scale_if_decade, mosaic, plt, save_figure)
from common.train import RowAdam, check_finite, progress

STEM = "hw1_2_grad_norm"
TARGET = "sin(5πx)/(5πx)"
POINTS = 300
HIDDEN = 500


@dataclasses.dataclass(frozen=True)
class Settings:
    """The experiment's flags (cli.setting: default, type, help, --quick value)."""
    epochs: int = cli.setting(2500, cli.positive_int, "part 1 function-fit epochs", quick=200)
    lr: float = cli.setting(1e-3, cli.positive_float, "Adam learning rate (part 1, phase 1)")
    weight_decay: float = cli.setting(1e-4, cli.nonnegative_float, "Adam weight decay")
    # part 1 (b), batch 1000 -> 60 iterations per epoch; long enough to see the norm settle
    # (3 epochs showed only its first drop)
    mnist_epochs: int = cli.setting(20, cli.positive_int, "part 1 MLP epochs", quick=1)
    train_samples: int = cli.setting(0, cli.nonnegative_int,
                                     "train on the first N training images only (0 = all)",
                                     quick=3000)
    trainings: int = cli.setting(100, cli.positive_int, "part 2 trainings", quick=6)
    # phase-1 epochs spread evenly over the trainings from the fewest to the most
    phase1_min: int = cli.setting(100, cli.positive_int, "fewest phase-1 epochs", quick=50)
    phase1_max: int = cli.setting(1000, cli.positive_int, "most phase-1 epochs", quick=200)
    # plain MSE, no weight decay
    tanh_lr: float = cli.setting(1e-2, cli.positive_float,
                                 "phase-1 Adam learning rate of the tanh nets")
    lm_steps: int = cli.setting(300, cli.positive_int,
                                "phase-2 Levenberg-Marquardt steps (tanh nets)", quick=30)
    phase2_steps: int = cli.setting(300, cli.positive_int,
                                    "phase-2 Adam step cap of the ReLU contrast", quick=100)
    phase2_lr: float = cli.setting(1e-4, cli.positive_float,
                                   "phase-2 Adam learning rate of the ReLU contrast")
    # "reached": final ||grad L|| below this (the ReLU phase 2 stops there)
    grad_threshold: float = cli.setting(1e-3, cli.positive_float,
                                        "gradient norm of the MSE that counts as reached")
    eig_rel_tol: float = cli.setting(1e-6, cli.positive_float,
                                     "eigenvalues with |lambda| <= tol * max|lambda| count as zero")


DEFAULTS, QUICK = Settings(), cli.quick_settings(Settings)
MNIST_BATCH = 1000        # the MLP and its learning rate are those of hw1_2_optimization
TANH_SIZES = (1, 10, 10, 1)  # part 2 network: smooth, so ||grad L||^2 has no kinks
LM_REFRESH = 5            # Hessian recomputed every this many LM steps
TOLERANCES = (1e-8, 1e-6, 1e-4)  # the zero tolerance varied: minima / saddles at each of these
ESCAPE_STEPS = (1e-3, 1e-2, 1e-1)  # steps (parameter units) along the most negative eigenvector


def build_parser():
    return cli.make_parser(STEM, __doc__, Settings)


def validate(args):
    if args.phase1_min > args.phase1_max:
        raise cli.ScriptError(f"--phase1-min {args.phase1_min} exceeds --phase1-max "
                              f"{args.phase1_max}: give a range with min <= max")
    cli.check_seed_count(args, args.trainings, "trainings")


# --- part 1 ----------------------------------------------------------------------------------

def record_training(model, optimizer, batches, loss_fn, desc, total=None):
    """Run optimiser steps over `batches` (x, y); per-iteration loss and gradient norm (lists)."""
    losses, norms = [], []
    for x, y in progress(batches, desc, total=total):
        loss = loss_fn(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norms.append(gradient_norm(model.parameters()))
        losses.append(loss.detach())
        optimizer.step()
    losses, norms = torch.stack(losses).tolist(), torch.stack(norms).tolist()
    check_finite(losses[-1], "training loss")
    return {"loss": losses, "grad_norm": norms}


def part1_function(args, device):
    x, y = function_samples(TARGET, POINTS, device)
    model = MLP((1, HIDDEN, 1)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    result = record_training(model, optimizer, [(x, y)] * args.epochs, F.mse_loss, "function fit")
    return {"sizes": list(model.sizes), "n_params": count_params(model), "target": TARGET,
            "points": POINTS, "lr": args.lr, **result}


def part1_mnist(args, device):
    data = load_image_data(args.dataset, args.data_dir, device, train_limit=args.train_samples)
    n = len(data.train_x)
    model = MLP(MNIST_MLP_SIZES).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=MNIST_MLP_LR, weight_decay=args.weight_decay)
    g = torch.Generator().manual_seed(args.seed)
    per_epoch = -(-n // MNIST_BATCH)

    def batches():
        for _ in range(args.mnist_epochs):
            for idx in minibatches(n, MNIST_BATCH, g, device):
                yield data.train_x[idx].flatten(1), data.train_y[idx]

    result = record_training(model, optimizer, batches(), F.cross_entropy, "MLP",
                             total=per_epoch * args.mnist_epochs)
    return {"sizes": list(model.sizes), "n_params": count_params(model), "lr": MNIST_MLP_LR,
            "batch_size": MNIST_BATCH, "iterations_per_epoch": per_epoch, **result}


# --- part 2: tanh nets, Levenberg-Marquardt to a critical point ------------------------------

def phase1_epochs(low, high, trainings):
    """Phase-1 epochs of each training, ascending, evenly spread over [low, high]."""
    return np.rint(np.linspace(low, high, trainings)).astype(int)


def tanh_phase1(x, y, seeds, epochs, lr):
    """Adam (learning rate lr) on the MSE of all tanh nets at once (dtype of x), net k
    initialised under seeds[k] and stopped after epochs[k] (ascending)."""
    theta = critical.init_mlps(TANH_SIZES, seeds, x.dtype, x.device)
    adam = RowAdam([theta], lr=lr)
    stops = torch.as_tensor(epochs, device=x.device)
    for epoch in progress(range(1, int(epochs.max()) + 1), "phase 1 (tanh nets, MSE)"):
        rows = torch.nonzero(stops >= epoch)[:, 0]
        adam.step([critical.mse_grad(theta[rows], TANH_SIZES, x, y)[1]], rows)
    check_finite(critical.mse_losses(theta, TANH_SIZES, x, y).sum().item(), "phase-1 loss")
    return theta


def tanh_phase2(theta, x, y, steps):
    """`steps` Levenberg-Marquardt steps on grad L = 0 with the exact Hessian; (theta, norms
    (K, steps + 1))."""
    ticker = iter(progress(range(steps), "phase 2 (LM on grad L = 0)"))
    return critical.lm_critical_points(
        theta, lambda t: critical.mse_grad(t, TANH_SIZES, x, y)[1],
        lambda t: critical.mse_hessian(t, TANH_SIZES, x, y), steps, LM_REFRESH,
        on_step=lambda _: next(ticker, None))


def part2_tanh(args, device):
    x, y = (t[:, 0].double() for t in function_samples(TARGET, POINTS, device))
    epochs = phase1_epochs(args.phase1_min, args.phase1_max, args.trainings)
    theta = tanh_phase1(x, y, range(args.seed, args.seed + args.trainings), epochs, args.tanh_lr)
    theta, norms = tanh_phase2(theta, x, y, args.lm_steps)
    losses, grads = critical.mse_grad(theta, TANH_SIZES, x, y)
    eigs, vecs = torch.linalg.eigh(critical.mse_hessian(theta, TANH_SIZES, x, y))
    escape = escape_along(lambda t: critical.mse_losses(t, TANH_SIZES, x, y), theta,
                          vecs[:, :, 0], eigs[:, 0], ESCAPE_STEPS)
    rows = []
    for k in range(len(theta)):
        norm = grads[k].norm().item()
        rows.append({"loss": losses[k].item(), "grad_norm": norm,
                     **eigenvalue_summary(eigs[k], args.eig_rel_tol),
                     "by_tol": sign_counts(eigs[k], TOLERANCES),
                     "escape": escape_record(escape, k, grads[k] @ vecs[k, :, 0]),
                     "phase1_epochs": int(epochs[k]), "seed": args.seed + k,
                     "reached": norm < args.grad_threshold,
                     "phase2_norms": [float(f"{v:.4g}") for v in norms[k].tolist()]})
    return {"activation": "tanh", "sizes": list(TANH_SIZES),
            "n_params": mlp_params(TANH_SIZES), "target": TARGET, "points": POINTS,
            "phase1_lr": args.tanh_lr, "phase2": "Levenberg-Marquardt on grad L = 0",
            "lm_steps": args.lm_steps, "lm_refresh": LM_REFRESH,
            "threshold": args.grad_threshold, "eig_rel_tol": args.eig_rel_tol,
            "tolerances": list(TOLERANCES), "escape_steps": list(ESCAPE_STEPS), "trainings": rows}


def escape_record(escape, k, slope):
    """Training k's escape test (see metrics.escape_along), with the gradient's component along
    the eigenvector (the first-order term the even part cancels)."""
    return {"slope": slope.item(), **{key: [float(f"{v:.6g}") for v in escape[key][k]]
                                      for key in ("even", "predicted", "drop")}}


# --- contrast: 1-500-1 ReLU nets, Adam on ||grad L||^2 -------------------------------------

def init_nets(seeds, device, dtype=torch.float32):
    """Stacked parameters of the trainings, training k initialised like MLP((1, 500, 1)) under
    seeds[k]."""
    models = []
    for seed in seeds:
        torch.manual_seed(seed)
        models.append(MLP((1, HIDDEN, 1)))
    return ShallowNets.from_mlps(models).to(device, dtype)


def phase1(x, y, seeds, epochs, lr, weight_decay, chunk=GROUP_SIZE):
    """Adam on the MSE; training k, initialised under seeds[k], stops after epochs[k] epochs
    (ascending). Trainings run `chunk` at a time (within a chunk the ones still training are a
    suffix). The networks take the dtype and device of x."""
    nets = init_nets(seeds, x.device, x.dtype)
    adam = RowAdam(nets.parts(), lr=lr, weight_decay=weight_decay)
    for start in progress(range(0, len(seeds), chunk), "phase 1 (MSE), chunks"):
        stop = min(start + chunk, len(seeds))
        for epoch in range(1, epochs[start:stop].max() + 1):
            first = start + int(np.searchsorted(epochs[start:stop], epoch))
            rows = torch.arange(first, stop, device=x.device)
            adam.step(nets[first:stop].grad(x, y)[1], rows)
    check_finite(nets.loss(x, y).sum().item(), "phase-1 loss")
    return nets


def phase2(nets, x, y, lr, max_steps, threshold, chunk=GROUP_SIZE):
    """Adam on ||grad MSE_k||^2 (its gradient is 2 H g, a closed-form Hessian-vector product);
    a training stops once its gradient norm is below `threshold`, or after max_steps. Returns
    steps per training."""
    adam = RowAdam(nets.parts(), lr=lr)
    n = len(nets.w)
    steps = torch.full((n,), max_steps, device="cpu")
    for start in progress(range(0, n, chunk), "phase 2 (grad norm), chunks"):
        active = torch.arange(start, min(start + chunk, n), device=x.device)
        for step in range(max_steps):
            _, grads, hvp = nets[active].grad_and_hvp(x, y)
            reached = block_norms(grads) < threshold
            if reached.any():
                steps[active[reached].cpu()] = step
                active, hvp = active[~reached], [h[~reached] for h in hvp]
                if len(active) == 0:
                    break
            adam.step([2 * h for h in hvp], active)
    return steps.tolist()


def spectrum_at_end_points(nets, x, y, eig_rel_tol, chunk=10):
    """Float64 loss, gradient norm, Hessian eigenvalue summary (eigenvalues within
    eig_rel_tol * max|λ| of 0 count as zero) and escape test for every training."""
    x64, y64 = x.double(), y.double()
    rows = []
    for start in progress(range(0, len(nets.w), chunk), "Hessians"):
        part = ShallowNets(*(p[start:start + chunk].double() for p in nets.parts()))
        loss, grads = part.grad(x64, y64)
        norms = block_norms(grads)
        eigs, vecs = torch.linalg.eigh(part.hessian(x64, y64))
        flat_grads = torch.cat([g.reshape(len(g), -1) for g in grads], 1)
        escape = escape_along(lambda t: ShallowNets.from_flat(t).loss(x64, y64), part.flat(),
                              vecs[:, :, 0], eigs[:, 0], ESCAPE_STEPS)
        for k in range(len(eigs)):
            rows.append({"loss": loss[k].item(), "grad_norm": norms[k].item(),
                         **eigenvalue_summary(eigs[k], eig_rel_tol),
                         "by_tol": sign_counts(eigs[k], TOLERANCES),
                         "escape": escape_record(escape, k, flat_grads[k] @ vecs[k, :, 0])})
    return rows


def part2_relu(args, device):
    x, y = (t[:, 0] for t in function_samples(TARGET, POINTS, device))
    seeds = range(args.seed, args.seed + args.trainings)
    epochs = phase1_epochs(args.phase1_min, args.phase1_max, args.trainings)
    nets = phase1(x, y, seeds, epochs, args.lr, args.weight_decay)
    steps = phase2(nets, x, y, args.phase2_lr, args.phase2_steps, args.grad_threshold)
    rows = spectrum_at_end_points(nets, x, y, args.eig_rel_tol)
    for row, k in zip(rows, range(len(rows))):
        row.update(phase1_epochs=int(epochs[k]), phase2_steps=steps[k], seed=args.seed + k,
                   reached=row["grad_norm"] < args.grad_threshold)
    return rows


def experiment(args, device):
    results = {"function": part1_function(args, device), "mnist": part1_mnist(args, device)}
    results["minimal_ratio"] = part2_tanh(args, device)
    results["minimal_ratio_relu"] = {
        "activation": "ReLU", "sizes": [1, HIDDEN, 1], "n_params": mlp_params((1, HIDDEN, 1)),
        "target": TARGET, "points": POINTS, "phase1_lr": args.lr,
        "phase2": "Adam on ||grad L||^2", "threshold": args.grad_threshold,
        "eig_rel_tol": args.eig_rel_tol, "tolerances": list(TOLERANCES),
        "escape_steps": list(ESCAPE_STEPS), "trainings": part2_relu(args, device)}
    return results


# Correlations over the 100 end points that the README quotes: (x, y) keys of the trainings'
# records ("-n_zero": minus the number of near-zero eigenvalues).
CORRELATIONS = {"loss": ("minimal_ratio", "loss"), "nonzero_loss": ("ratio_nonzero", "loss"),
                "epochs": ("minimal_ratio", "phase1_epochs"), "zero": ("minimal_ratio", "-n_zero")}


def correlations_by_tol(rows):
    """The loss correlations of CORRELATIONS at every recorded zero tolerance: the minimal ratio
    (positive eigenvalues over all) and the positive share of the non-zero ones, from the
    sign counts [positive, negative, zero] at that tolerance, each against the loss (Spearman):
    does what they show hang on the tolerance?"""
    loss = [r["loss"] for r in rows]
    out = {}
    for tol in rows[0]["by_tol"]:
        counts = [r["by_tol"][tol] for r in rows]
        ratio = [pos / (pos + neg + zero) for pos, neg, zero in counts]
        nonzero = [pos / (pos + neg) if pos + neg else 0.0 for pos, neg, zero in counts]
        out[tol] = {"loss": stats.trend(ratio, loss), "nonzero_loss": stats.trend(nonzero, loss)}
    return out


def classify(rows):
    """Minima (no eigenvalue below -tol * max|lambda|) among the end points at each recorded
    tolerance, and the answer: "saddles" (none at any tolerance), "minima" (all at every one)
    or "depends on the tolerance"."""
    tolerances = list(rows[0]["by_tol"])
    minima = {tol: sum(r["by_tol"][tol][1] == 0 for r in rows) for tol in tolerances}
    if all(m == 0 for m in minima.values()):
        answer = "saddles"
    elif all(m == len(rows) for m in minima.values()):
        answer = "minima"
    else:
        answer = "depends on the tolerance"
    return {"points": len(rows), "minima": minima, "answer": answer}


def escape_summary(rows, steps):
    """Per step t along the most negative eigenvector, over the end points whose most negative
    eigenvalue is < 0: how many lose loss in the even part (curvature, the gradient's term
    cancelled) and in the lower of the two sides, and the quartiles of even / (lambda t^2 / 2),
    which is 1 where the quadratic model holds; and how many of the end points that count as
    minima at the largest tolerance still lose loss in the even part."""
    curved = [r for r in rows if r["min_eigenvalue"] < 0]
    largest = list(rows[0]["by_tol"])[-1]
    hidden = [r for r in curved if r["by_tol"][largest][1] == 0]
    out = []
    for i, step in enumerate(steps):
        ratio = [r["escape"]["even"][i] / r["escape"]["predicted"][i] for r in curved]
        out.append({"step": step, "even_negative": sum(r["escape"]["even"][i] < 0 for r in curved),
                    "drop_negative": sum(r["escape"]["drop"][i] < 0 for r in curved),
                    "ratio_quartiles": stats.quartiles(ratio) if ratio else None,
                    "minima_that_escape": sum(r["escape"]["even"][i] < 0 for r in hidden)})
    return {"curved": len(curved), "steps": out, "tolerance": largest,
            "minima_at_tolerance": len(hidden)}


def summarise(results):
    """Per minimal-ratio experiment, from the recorded per-training values: Spearman correlations
    (ties handled) over the end points, the minima at each tolerance and the escape test."""
    def column(rows, key):
        return [-t[key[1:]] if key.startswith("-") else t[key] for t in rows]
    summary = {}
    for part in ("minimal_ratio", "minimal_ratio_relu"):
        rows = results[part]["trainings"]
        summary[part] = {name: stats.trend(column(rows, x), column(rows, y))
                         for name, (x, y) in CORRELATIONS.items()}
        summary[part]["by_tol"] = correlations_by_tol(rows)
        summary[part]["classification"] = classify(rows)
        summary[part]["escape"] = escape_summary(rows, results[part]["escape_steps"])
        summary[part]["spread"] = spread(rows)
    summary["mnist"] = mnist_norm_trend(results["mnist"])
    summary["function"] = function_norms(results["function"])
    return summary


SPREAD_KEYS = ("grad_norm", "loss", "minimal_ratio", "ratio_nonzero", "n_negative", "n_zero")
NORM_LEVELS = (1e-3, 1e-4, 1e-6)    # the gradient norms the README counts the end points below


def spread(rows):
    """Over the end points: [min, median, max] of each of SPREAD_KEYS, how many end below each
    norm of NORM_LEVELS, and how many reached the run's own threshold."""
    out = {key: [float(np.min(v)), float(np.median(v)), float(np.max(v))]
           for key in SPREAD_KEYS for v in [[t[key] for t in rows]]}
    out["below"] = {f"{level:g}": sum(t["grad_norm"] < level for t in rows)
                    for level in NORM_LEVELS}
    out["reached"] = sum(bool(t["reached"]) for t in rows)
    return out


def function_norms(function, late_from=1000):
    """The 1-D fit's gradient norm at the first and the late_from-th iteration, its range from
    there on (None when the run is shorter), and the iterations run."""
    norms = function["grad_norm"]
    late = norms[late_from:]
    return {"first": norms[0], "at": norms[min(late_from, len(norms)) - 1],
            "late_range": [min(late), max(late)] if late else None,
            "late_from": late_from, "iterations": len(norms)}


def mnist_norm_trend(mnist):
    """Per-epoch median of the minibatch gradient norm of the MLP, and its trend over the epochs
    (Spearman): does the norm shrink as the loss falls?"""
    per_epoch = mnist["iterations_per_epoch"]

    def epoch_medians(values):
        return [float(np.median(values[k:k + per_epoch])) for k in range(0, len(values), per_epoch)]
    norms, losses = epoch_medians(mnist["grad_norm"]), epoch_medians(mnist["loss"])
    epochs = np.arange(1, len(norms) + 1)
    return {"epoch_median_norm": norms, "epoch_median_loss": losses,
            "norm_trend": stats.trend(epochs, norms), "loss_trend": stats.trend(epochs, losses)}


def plot_minimal_ratio(mr, path):
    """Top left: final loss (log y) against the share of positive among the non-zero Hessian
    eigenvalues; top right: the most negative eigenvalue relative to the largest |eigenvalue|
    (log y) against the final gradient norm, with the zero tolerances as lines (below a line = a
    minimum at that tolerance); bottom, when recorded: the phase-2 gradient norms of every
    training. One legend under the panels."""
    rows = mr["trainings"]
    with_path = "phase2_norms" in rows[0]
    layout = [["loss", "eig"], ["path", "path"]] if with_path else [["loss", "eig"]]
    fig, axes = mosaic(layout, 6.4 if with_path else 3.8)
    groups = [(True, "o", COLORS[0]), (False, "x", COLORS[3])]
    for reached, marker, color in groups:
        sel = [r for r in rows if r["reached"] == reached]
        if not sel:
            continue
        label = f"end point with ‖∇L‖ {'<' if reached else '≥'} {mr['threshold']:g} ({len(sel)} of {len(rows)})"
        axes["loss"].scatter([100 * r["ratio_nonzero"] for r in sel], [r["loss"] for r in sel],
                             marker=marker, color=color, s=20, label=label)
        curved = [r for r in sel if r["min_eigenvalue"] < 0]
        axes["eig"].scatter([r["grad_norm"] for r in curved],
                            [-r["min_eigenvalue"] / max(r["max_eigenvalue"], -r["min_eigenvalue"])
                             for r in curved], marker=marker, color=color, s=20, label=label)
    axes["loss"].set_yscale("log")
    axes["loss"].set_xlabel(f"positive share of the non-zero eigenvalues (%)\n(zero: "
                            f"|λ| ≤ {mr['eig_rel_tol']:g}·max|λ|)")
    axes["loss"].set_ylabel("training MSE at the end point")
    axes["loss"].set_title("loss vs positive share")
    for tol, ls in zip(mr["tolerances"], (":", "--", "-.")):
        axes["eig"].axhline(tol, color="black", lw=0.9, ls=ls, label=f"zero tolerance {tol:g}")
    axes["eig"].set_xscale("log")
    axes["eig"].set_yscale("log")
    axes["eig"].xaxis.set_minor_formatter(NullFormatter())   # minor labels collide in a decade
    axes["eig"].set_xlabel("‖∇L‖ at the end point")
    axes["eig"].set_ylabel("|most negative λ| / max|λ|")
    axes["eig"].set_title("below a line: a minimum at that tolerance")
    if with_path:
        ax = axes["path"]
        for r in rows:
            ax.plot(np.arange(len(r["phase2_norms"])), r["phase2_norms"], lw=0.6, alpha=0.5,
                    color=COLORS[0] if r["reached"] else COLORS[3])
        ax.axhline(mr["threshold"], color="grey", ls=(0, (6, 2)), lw=1.5,
                   label=f"‖∇L‖ threshold {mr['threshold']:g}")
        ax.set_yscale("log")
        ax.set_xlabel(f"phase-2 step ({mr['phase2']})")
        ax.set_ylabel("‖∇L‖ (float64)")
        ax.set_title("gradient norm during phase 2, every training")
    legend_outside(fig, list(axes.values()), ncol=2)
    fig.suptitle(f"{layer_sizes(mr['sizes'])} {mr['activation']} net ({mr['n_params']:,} params) "
                 f"on {mr['target']} ({mr['points']} points), {len(rows)} trainings,\nexact "
                 f"float64 Hessian; phase 2 = {mr['phase2']}")
    save_figure(fig, path)


def plot_grad_norm(results, part, path):
    """Gradient norm (top) and loss (bottom) vs iteration, shared x axis, log y where the values
    span a decade."""
    run = results[part]
    it = np.arange(1, len(run["loss"]) + 1)
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(7, 5.5))
    top.plot(it, run["grad_norm"], color=COLORS[0], lw=0.8, label="gradient norm")
    bottom.plot(it, run["loss"], color=COLORS[1], lw=0.8,
                label="training MSE" if part == "function" else "minibatch cross-entropy")
    top.set_ylabel("‖∇L‖₂ (all parameters)")
    bottom.set_ylabel("loss")
    bottom.set_xlabel("iteration")
    for ax, values in ((top, run["grad_norm"]), (bottom, run["loss"])):
        log_scale_if_decade(ax, values)
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


def plot(results, out, stem):
    paths = [out / f"{stem}_function.png", out / f"{stem}_mnist.png",
             out / f"{stem}_minimal_ratio.png", out / f"{stem}_minimal_ratio_relu.png"]
    plot_grad_norm(results, "function", paths[0])
    plot_grad_norm(results, "mnist", paths[1])
    plot_minimal_ratio(results["minimal_ratio"], paths[2])
    plot_minimal_ratio(results["minimal_ratio_relu"], paths[3])
    return paths


def main(argv=None):
    return cli.run_main(argv, build_parser(), STEM, experiment, plot, QUICK, validate, summarise)


if __name__ == "__main__":
    main()

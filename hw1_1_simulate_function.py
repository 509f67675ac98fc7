"""HW1-1 (deep vs shallow): how well do three ReLU networks of about 2,200 parameters and
different shapes fit three 1-D functions?

Trains M1 (1-16-32-32-16-1), M2 (1-18-30-30-18-1) and M3 (1-14-34-34-14-1) on sin(5πx),
sin(5πx)/(5πx) and 5πx·sin(5πx), 300 evenly spaced points on [-1, 1], full-batch Adam on the MSE.
The nine fits run at once as batched matmuls (narrower models zero-padded; see StackedMLP).

    python hw1_1_simulate_function.py            # full run, writes figures/hw1_1_simulate_function*
    python hw1_1_simulate_function.py --quick    # seconds

Writes <out-dir>/hw1_1_simulate_function.json, _loss.png and _predictions.png.
"""
import torch

from common import cli
from common.data import TARGET_FUNCTIONS, function_samples
from common.metrics import convergence_epoch
from common.models import FUNCTION_MODELS, StackedMLP, count_params, function_mlp
from common.plotting import plot_function_losses, plot_function_predictions
from common.train import train_stacked_regressors

STEM = "hw1_1_simulate_function"
EPOCHS = 5000          # every model trains all epochs so that the curves compare
LR = 0.0012            # Adam learning rate
WEIGHT_DECAY = 1e-4    # Adam L2 penalty
POINTS = 300           # evenly spaced samples of each function on [-1, 1]
LOSS_TOL = 1e-3        # convergence: loss below this ...
CHANGE_TOL = 1e-5      # ... and the last two epoch-to-epoch changes below this
QUICK = {"epochs": 300, "points": 100}


def build_parser():
    parser = cli.make_parser(STEM, __doc__, uses_dataset=False)
    cli.add_training_flags(parser, EPOCHS, LR, "Adam", WEIGHT_DECAY, train_samples=False)
    parser.add_argument("--points", type=cli.positive_int, default=POINTS,
                        help="number of evenly spaced training points on [-1, 1]")
    return parser


def make_models(device):
    """The nine (function, model) pairs, initialised one after another from the seeded global RNG."""
    pairs, models = [], []
    for fname in TARGET_FUNCTIONS:
        for mname, hidden in FUNCTION_MODELS.items():
            pairs.append((fname, mname))
            models.append(function_mlp(hidden).to(device))
    return pairs, models


def fit_all(models, x, targets, args):
    """Train every model on its target; returns ((epochs, M) losses, (M, B, 1) predictions)."""
    stacked = StackedMLP(models).to(x.device)
    losses = train_stacked_regressors(stacked, x, targets, args.epochs, args.lr, args.weight_decay)
    with torch.no_grad():
        return losses, stacked(x)


def experiment(args, device):
    x, _ = function_samples(next(iter(TARGET_FUNCTIONS)), args.points, device)
    pairs, models = make_models(device)
    targets = torch.stack([function_samples(f, args.points, device)[1] for f, _ in pairs])
    losses, preds = fit_all(models, x, targets, args)
    losses, preds = losses.cpu().numpy(), preds.cpu().numpy()
    functions = {f: {} for f in TARGET_FUNCTIONS}
    for k, (fname, mname) in enumerate(pairs):
        functions[fname][mname] = {
            "hidden": list(FUNCTION_MODELS[mname]),
            "n_params": count_params(models[k]),
            "loss": [float(f"{v:.6g}") for v in losses[:, k]],
            "final_loss": float(losses[-1, k]),
            "convergence_epoch": convergence_epoch(losses[:, k], LOSS_TOL, CHANGE_TOL),
            "prediction": preds[k, :, 0].tolist(),
        }
    return {
        "optimiser": "full-batch Adam",
        "convergence_rule": {"loss_below": LOSS_TOL, "last_two_changes_below": CHANGE_TOL},
        "x": x[:, 0].cpu().tolist(),
        "targets": {f: function_samples(f, args.points, "cpu")[1][:, 0].tolist()
                    for f in TARGET_FUNCTIONS},
        "functions": functions,
    }


def plot(results, out, stem):
    paths = [out / f"{stem}_loss.png", out / f"{stem}_predictions.png"]
    plot_function_losses(results, paths[0])
    plot_function_predictions(results, paths[1])
    return paths


def main(argv=None):
    return cli.run_main(argv, build_parser(), STEM, experiment, plot, QUICK)


if __name__ == "__main__":
    main()

"""HW1-2 (optimisation): what paths do 8 trainings of the same network take through parameter
space, seen through a 2-D PCA of their parameter snapshots?

Trains the MLP 784-500-50-10 (ReLU, 418,060 parameters) 8 times from 8 initialisations (seeds
seed..seed+7, each also shuffling its own minibatches) with Adam on an MNIST-format data set,
recording all parameters at initialisation and after every epoch. One PCA (2 components) is
fitted jointly on all snapshots of all trainings, once for fc1 (weights and bias, 392,500
parameters) and once for the whole model. The 8 trainings run at once as batched matmuls.

    python hw1_2_optimization.py --dataset fashion-mnist   # full run (5.5 min on 2 CPU cores)
    python hw1_2_optimization.py --quick

Writes <out-dir>/hw1_2_optimization.json, _fc1.png and _whole.png.
"""
import torch

from common import cli
from common.data import load_image_data, subset_indices
from common.metrics import pca_2d
from common.models import MLP, MNIST_MLP_LR, MNIST_MLP_SIZES, StackedMLP, count_params
from common.plotting import plot_pca_paths
from common.train import (evaluate_stacked_classifiers, progress,
                          train_stacked_classifiers_epoch)

STEM = "hw1_2_optimization"
RUNS = 8                  # trainings, seeds seed .. seed + RUNS - 1
EPOCHS = 50
WEIGHT_DECAY = 1e-4
BATCH_SIZE = 1000
ANNOTATE_EVERY = 3        # label every 3rd record with its test accuracy
INIT_LOSS_SAMPLES = 10000 # training subset for the loss at initialisation (record 0)
QUICK = {"epochs": 3, "train_samples": 3000}


def build_parser():
    parser = cli.make_parser(STEM, __doc__)
    parser.add_argument("--runs", type=cli.positive_int, default=RUNS, help="number of trainings")
    cli.add_training_flags(parser, EPOCHS, MNIST_MLP_LR, "Adam", WEIGHT_DECAY, BATCH_SIZE)
    parser.add_argument("--annotate-every", type=cli.positive_int, default=ANNOTATE_EVERY,
                        help="annotate every k-th record with its test accuracy")
    return parser


def validate(args):
    cli.check_seed_count(args, args.runs, "trainings")


def flat_snapshot(stacked):
    """(M, P) float32 copy of every model's parameters in nn.Module order (fc1.weight first)."""
    parts = []
    for w, b in zip(stacked.weights, stacked.biases):
        parts += [w.detach().flatten(1), b.detach()]
    return torch.cat(parts, 1).cpu()


def train_runs(args, data, device):
    """Train the stacked models; returns snapshots (M, R, P), train losses and test metrics (M, R)."""
    models = []
    for k in range(args.runs):
        torch.manual_seed(args.seed + k)
        models.append(MLP(MNIST_MLP_SIZES))
    stacked = StackedMLP(models).to(device)
    generators = [torch.Generator().manual_seed(args.seed + k) for k in range(args.runs)]
    optimizer = torch.optim.Adam(stacked.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    n_params = count_params(models[0])
    snapshots = torch.empty(args.runs, args.epochs + 1, n_params)
    train_loss = torch.empty(args.runs, args.epochs + 1)
    test_loss, test_acc = torch.empty_like(train_loss), torch.empty_like(train_loss)
    init_idx = subset_indices(len(data.train_x), INIT_LOSS_SAMPLES, args.seed, device)
    snapshots[:, 0] = flat_snapshot(stacked)
    train_loss[:, 0] = evaluate_stacked_classifiers(stacked, data.train_x[init_idx],
                                                    data.train_y[init_idx])[0]
    test_loss[:, 0], test_acc[:, 0] = evaluate_stacked_classifiers(stacked, data.test_x, data.test_y)
    for epoch in progress(range(1, args.epochs + 1), f"epochs ({args.runs} runs at once)"):
        train_loss[:, epoch] = train_stacked_classifiers_epoch(
            stacked, optimizer, data.train_x, data.train_y, args.batch_size, generators).cpu()
        snapshots[:, epoch] = flat_snapshot(stacked)
        test_loss[:, epoch], test_acc[:, epoch] = evaluate_stacked_classifiers(
            stacked, data.test_x, data.test_y)
    return snapshots, train_loss, test_loss, test_acc, n_params


def experiment(args, device):
    data = load_image_data(args.dataset, args.data_dir, device, train_limit=args.train_samples)
    snapshots, train_loss, test_loss, test_acc, n_params = train_runs(args, data, device)
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
        "test_acc": test_acc.tolist(), "pca": pca,
    }


def plot(results, out, stem):
    paths = [out / f"{stem}_fc1.png", out / f"{stem}_whole.png"]
    every = results["meta"]["config"]["annotate_every"]
    plot_pca_paths(results, "fc1", every, paths[0])
    plot_pca_paths(results, "whole", every, paths[1])
    return paths


def main(argv=None):
    return cli.run_main(argv, build_parser(), STEM, experiment, plot, QUICK, validate)


if __name__ == "__main__":
    main()

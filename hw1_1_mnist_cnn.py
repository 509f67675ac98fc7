"""HW1-1 (deep vs shallow, real task): how do three small CNNs of 25k-36k parameters learn an
MNIST-format classification task?

CNN_i = conv(1->C1, 4) - ReLU - maxpool 2 - conv(C1->20, 4) - ReLU - maxpool 2 - fc(320->F1) - ReLU
- dropout 0.25 - fc(F1->100) - ReLU - fc(100->10), with (C1, F1) = (10, 50), (16, 70), (12, 60).
Adam, cross-entropy; after every epoch, loss and accuracy in eval mode on the full test set and
on a fixed training subset.

    python hw1_1_mnist_cnn.py --dataset fashion-mnist     # full run (about 2.5 min on 2 CPU cores)
    python hw1_1_mnist_cnn.py --quick                      # seconds

Writes <out-dir>/hw1_1_mnist_cnn.json, _loss.png and _accuracy.png.
"""
import argparse

import torch

from common import cli
from common.data import load_image_data, subset_indices
from common.models import CNN, CNN_MODELS, count_params
from common.plotting import plot_classifier_curves
from common.train import evaluate_classifier, progress, train_classifier_epoch

STEM = "hw1_1_mnist_cnn"
EPOCHS = 15
LR = 1e-3                   # Adam learning rate
WEIGHT_DECAY = 1e-4
BATCH_SIZE = 600
TRAIN_EVAL_SAMPLES = 10000  # fixed random training subset evaluated every epoch
EVAL_BATCH_SIZE = 1000      # no-grad evaluation batch (fastest measured on 2 CPU cores)
QUICK = {"epochs": 2, "train_samples": 2000, "train_eval_samples": 1000}


def build_parser():
    parser = cli.make_parser(STEM, __doc__)
    cli.add_training_flags(parser, EPOCHS, LR, "Adam", WEIGHT_DECAY, BATCH_SIZE)
    parser.add_argument("--train-eval-samples", type=cli.positive_int, default=TRAIN_EVAL_SAMPLES,
                        help="size of the fixed training subset evaluated each epoch")
    parser.add_argument("--eval-batch-size", type=cli.positive_int, default=EVAL_BATCH_SIZE,
                        help="batch size of no-grad evaluation")
    parser.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=True,
                        help="channels_last memory layout (faster convolutions on CPU)")
    return parser


def prepare_data(args, device):
    """The data set on the device, optionally truncated, in the chosen memory layout."""
    return load_image_data(args.dataset, args.data_dir, device, train_limit=args.train_samples,
                           channels_last=args.channels_last)


def train_model(model, data, eval_idx, args, generator, desc):
    """Train one CNN; per-epoch history of train loss and eval-mode metrics."""
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    history = {k: [] for k in ("train_loss_running", "train_loss", "train_acc",
                               "test_loss", "test_acc")}
    ex, ey = data.train_x[eval_idx], data.train_y[eval_idx]
    for _ in progress(range(args.epochs), desc):
        running = train_classifier_epoch(model, optimizer, data.train_x, data.train_y,
                                         args.batch_size, generator)
        train_loss, train_acc = evaluate_classifier(model, ex, ey, args.eval_batch_size)
        test_loss, test_acc = evaluate_classifier(model, data.test_x, data.test_y,
                                                  args.eval_batch_size)
        for key, value in zip(history, (running, train_loss, train_acc, test_loss, test_acc)):
            history[key].append(value)
    return history


def experiment(args, device):
    data = prepare_data(args, device)
    eval_idx = subset_indices(len(data.train_x), args.train_eval_samples, args.seed, device)
    runs = {}
    for name, (channels, width) in CNN_MODELS.items():
        model = CNN(channels, width).to(device)
        if args.channels_last:
            model = model.to(memory_format=torch.channels_last)
        generator = torch.Generator().manual_seed(args.seed)
        history = train_model(model, data, eval_idx, args, generator, name)
        runs[name] = {"conv1_channels": channels, "fc1_width": width,
                      "n_params": count_params(model), "history": history,
                      "final": {k: v[-1] for k, v in history.items()}}
    return {"dataset_source": data.source, "normalisation": [data.mean, data.std],
            "train_samples": len(data.train_x), "test_samples": len(data.test_x),
            "train_eval_samples": len(eval_idx), "models": runs}


def plot(results, out, stem):
    paths = [out / f"{stem}_loss.png", out / f"{stem}_accuracy.png"]
    plot_classifier_curves(results, *paths)
    return paths


def main(argv=None):
    return cli.run_main(argv, build_parser(), STEM, experiment, plot, QUICK)


if __name__ == "__main__":
    main()

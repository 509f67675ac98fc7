"""HW1-3 (flatness vs generalisation, part 2): how do input sensitivity, loss and accuracy move
with the training batch size?

LeNet-5 (61,706 parameters), cross-entropy, SGD momentum 0.9, lr 1e-2, the same number of epochs
for every batch size (so large batches take far fewer steps). Sensitivity (Novak et al., 2018) =
Frobenius norm of the Jacobian of the softmax output (10) with respect to the input image (784),
per test sample, averaged over a fixed test subset; the same for the logits is recorded too.
Sharpness (Keskar et al., 2017) of every final model on a fixed training subset: the
eps-sharpness 100 (max L(theta + z) - L(theta)) / (1 + L(theta)) over the box
|z_i| <= eps (|theta_i| + 1) for eps = 1e-3 and 5e-4, maximised by 10 steps of projected
sign-gradient ascent, and the largest Hessian eigenvalue by power iteration on Hessian-vector
products.

    python hw1_3_sensitivity.py --dataset fashion-mnist     # full run (about 8.5 min on 2 CPU cores)
    python hw1_3_sensitivity.py --seeds 3                   # mean and std over 3 seeds
    python hw1_3_sensitivity.py --quick

Writes <out-dir>/hw1_3_sensitivity.json, _batch_size.png and _sharpness.png.
"""
import numpy as np
import torch
import torch.nn.functional as F

from common import cli
from common.data import load_image_data, subset_indices
from common.metrics import epsilon_sharpness, hessian_top_eigenvalue, input_jacobian_norms
from common.models import LeNet5, count_params
from common.plotting import plot_sensitivity, plot_sharpness
from common.train import evaluate_classifier, progress, train_classifier_epoch

STEM = "hw1_3_sensitivity"
BATCH_SIZES = ",".join(str(2 ** k) for k in range(5, 13))   # 32 .. 4096
EPOCHS = 20
LR = 1e-2
MOMENTUM = 0.9
SEEDS = 1
SENSITIVITY_SAMPLES = 2000  # fixed test subset for the Jacobian norms
SHARPNESS_SAMPLES = 2000    # fixed training subset for the sharpness measures
EPSILONS = {"1e-3": 1e-3, "5e-4": 5e-4}  # eps-sharpness box sizes (Keskar et al. use both)
MODEL_NAME = "LeNet-5"
QUICK = {"epochs": 1, "train_samples": 2000, "batch_sizes": [32, 256], "sensitivity_samples": 200,
         "sharpness_samples": 200}


def build_parser():
    parser = cli.make_parser(STEM, __doc__)
    add = parser.add_argument
    add("--batch-sizes", type=cli.positive_int_list, default=BATCH_SIZES,
        help="comma-separated training batch sizes")
    cli.add_training_flags(parser, EPOCHS, LR, "SGD")
    add("--seeds", type=cli.positive_int, default=SEEDS, help="repeats (seed, seed+1, ...)")
    add("--sensitivity-samples", type=cli.positive_int, default=SENSITIVITY_SAMPLES,
        help="size of the fixed test subset for the Jacobian norms")
    add("--sharpness-samples", type=cli.positive_int, default=SHARPNESS_SAMPLES,
        help="size of the fixed training subset for the sharpness measures")
    return parser


def validate(args):
    cli.check_seed_count(args, args.seeds, "seeds")


def train_one(args, data, batch_size, seed, device):
    """Train LeNet-5 at one batch size; final metrics and sensitivities."""
    torch.manual_seed(seed)
    model = LeNet5().to(device).to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=MOMENTUM)
    g = torch.Generator().manual_seed(seed)
    for _ in progress(range(args.epochs), f"batch {batch_size} seed {seed}"):
        train_classifier_epoch(model, opt, data.train_x, data.train_y, batch_size, g)
    train_loss, train_acc = evaluate_classifier(model, data.train_x, data.train_y)
    test_loss, test_acc = evaluate_classifier(model, data.test_x, data.test_y)
    idx = subset_indices(len(data.test_x), args.sensitivity_samples, args.seed, device)
    sens = input_jacobian_norms(model, data.test_x[idx], softmax=True).mean().item()
    sens_logits = input_jacobian_norms(model, data.test_x[idx], softmax=False).mean().item()
    return {"train_loss": train_loss, "train_acc": train_acc, "test_loss": test_loss,
            "test_acc": test_acc, "sensitivity": sens, "sensitivity_logits": sens_logits,
            "steps": args.epochs * -(-len(data.train_x) // batch_size),
            **sharpness(model, data, args, device)}


def sharpness(model, data, args, device):
    """eps-sharpness for each EPSILONS and the top Hessian eigenvalue on a training subset."""
    idx = subset_indices(len(data.train_x), args.sharpness_samples, args.seed, device)
    x, y = data.train_x[idx], data.train_y[idx]
    model.eval()
    params = list(model.parameters())

    def loss_fn():
        return F.cross_entropy(model(x), y)
    out = {f"sharpness_{name}": epsilon_sharpness(loss_fn, params, eps)
           for name, eps in EPSILONS.items()}
    out["hessian_max_eig"] = hessian_top_eigenvalue(loss_fn, params, seed=args.seed)[0]
    return out


def experiment(args, device):
    data = load_image_data(args.dataset, args.data_dir, device, train_limit=args.train_samples,
                           channels_last=True)
    runs = {}
    for batch_size in args.batch_sizes:
        per_seed = [train_one(args, data, batch_size, args.seed + s, device)
                    for s in range(args.seeds)]
        summary = {}
        for key in per_seed[0]:
            values = np.asarray([r[key] for r in per_seed], dtype=float)
            summary[key] = {"mean": values.mean(), "std": values.std(ddof=1) if len(values) > 1
                            else 0.0, "values": values.tolist()}
        runs[str(batch_size)] = summary
    return {"dataset_source": data.source, "model": MODEL_NAME, "n_params": count_params(LeNet5()),
            "seeds": [args.seed + s for s in range(args.seeds)],
            "sensitivity_samples": min(args.sensitivity_samples, len(data.test_x)),
            "sharpness_samples": min(args.sharpness_samples, len(data.train_x)),
            "epsilons": list(EPSILONS),
            "train_eval_samples": len(data.train_x), "batch_sizes": args.batch_sizes,
            "runs": runs}


def plot(results, out, stem):
    paths = [out / f"{stem}_batch_size.png", out / f"{stem}_sharpness.png"]
    plot_sensitivity(results, paths[0])
    plot_sharpness(results, paths[1])
    return paths


def main(argv=None):
    return cli.run_main(argv, build_parser(), STEM, experiment, plot, QUICK, validate)


if __name__ == "__main__":
    main()

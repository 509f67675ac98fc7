"""Price k seeds of one architecture trained as one stack (common.train.ModelStack: torch.func
vmap over stacked parameters) against the same k trainings one after the other, per model kind,
at the batch size and optimiser its script uses; prints a table and writes
benchmarks/stacking_<device>.md.

    python benchmarks/stacking.py --dataset fashion-mnist [--device auto] [--repeats 3]

Each cell is the median over --repeats (after a warm-up) of STEPS optimiser steps of all k seeds
plus one evaluation pass of EVAL_IMAGES test images by all k; ratio = looped / stacked (above 1:
stacking pays). The scripts stack where this table says it pays on the device they run on.
--quick is a smoke run (seconds, on any data set, its numbers meaningless): one repeat of
QUICK_UNITS, the table to --out-dir.
"""
import dataclasses
import platform
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hw1_3_interpolation as interpolation  # noqa: E402
import hw1_3_params_generalization as params  # noqa: E402
import hw1_3_random_labels as random_labels  # noqa: E402
import hw1_3_sensitivity as sensitivity  # noqa: E402
from benchmarks.bench import table_path, timed  # noqa: E402
from common import cli  # noqa: E402
from common.data import load_image_data  # noqa: E402
from common.models import MLP, build_cnn  # noqa: E402
from common.outputs import atomic_write  # noqa: E402
from common.threads import available_cores  # noqa: E402
from common.train import ModelStack, evaluate_classifier, evaluate_stack  # noqa: E402


@dataclasses.dataclass(frozen=True)
class Units:
    steps: int = 10            # training steps of each seed per timed cell
    eval_images: int = 2000    # test images each seed evaluates per timed cell
    ks: tuple = (1, 2, 4, 8)   # seeds per stack
    max_batch: int = 0         # batch sizes capped at this (0: the scripts' own)


QUICK_UNITS = Units(steps=2, eval_images=64, ks=(1, 2), max_batch=16)


def sgd(params):
    return torch.optim.SGD(params, lr=1e-2, momentum=0.9)


def adam(params, weight_decay=0.0):
    return torch.optim.Adam(params, lr=1e-3, weight_decay=weight_decay)


# kind -> (scripts, model factory, batch size, optimiser factory, channels_last)
KINDS = {
    "LeNet-5": ("interpolation", lambda: interpolation.build_model("cpu"), 100, sgd, True),
    "LeNet-5 (batch 2048)": ("sensitivity", lambda: sensitivity.build_model("cpu"), 2048, sgd,
                             True),
    "CNN depth C2": ("mnist_cnn", lambda: build_cnn("C2"), 600, lambda p: adam(p, 1e-4), True),
    "CNN2": ("mnist_cnn", lambda: build_cnn("CNN2"), 600, lambda p: adam(p, 1e-4), True),
    "MLP 784-512-512-10": ("random_labels", lambda: MLP(random_labels.SIZES), 100, adam, False),
    "MLP 784-64-64-10": ("params_generalization", lambda: MLP(params.family_sizes(64)), 100, adam,
                         False),
    "MLP 784-768-768-10": ("params_generalization", lambda: MLP(params.family_sizes(768)), 100,
                           adam, False),
}


def looped(models, opts, x, y, batch, test_x, test_y):
    steps = len(x) // batch
    for model, opt in zip(models, opts):
        for s in range(steps):
            idx = slice(s * batch, (s + 1) * batch)
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        evaluate_classifier(model, test_x, test_y, 1000)


def stacked(stack, opt, x, y, batch, test_x, test_y):
    k = stack.k
    for s in range(len(x) // batch):
        idx = torch.arange(s * batch, (s + 1) * batch).expand(k, -1)
        per_model = F.cross_entropy(stack(x[idx]).flatten(0, 1), y[idx].flatten(),
                                    reduction="none").view(k, -1).mean(1)
        opt.zero_grad(set_to_none=True)
        per_model.sum().backward()
        opt.step()
    evaluate_stack(stack, test_x, test_y, 1000)


def price_kind(clock, data, make, batch, make_opt, channels_last, device, units):
    """{k: (looped s, stacked s)} for one model kind."""
    layout = torch.channels_last if channels_last else torch.contiguous_format
    x = data.train_x[:units.steps * batch].contiguous(memory_format=layout)
    y = data.train_y[:units.steps * batch]
    if len(x) < units.steps * batch:
        raise cli.ScriptError(f"{units.steps} steps of batch {batch} need {units.steps * batch:,} "
                              f"training images, the data set has {len(x):,}")
    test_x = data.test_x[:units.eval_images].contiguous(memory_format=layout)
    test_y = data.test_y[:units.eval_images]
    out = {}
    for k in units.ks:
        models = [make().to(device).to(memory_format=layout) for _ in range(k)]
        opts = [make_opt(m.parameters()) for m in models]
        t_loop = clock(lambda: looped(models, opts, x, y, batch, test_x, test_y))
        stack = ModelStack([make().to(device) for _ in range(k)])
        opt = make_opt(stack.parameters())
        t_stack = clock(lambda: stacked(stack, opt, x, y, batch, test_x, test_y))
        out[k] = (t_loop, t_stack)
    return out


def render(device_name, table, units):
    ks = units.ks
    lines = [f"Machine: {device_name}; torch {torch.__version__}, {torch.get_num_threads()} "
             f"threads; Python {platform.python_version()}.", "",
             f"Time of {units.steps} training steps + one evaluation of {units.eval_images:,} test "
             "images for k seeds (median of the repeats); ratio = looped / stacked (> 1: stacking "
             "pays).", "",
             "| model (scripts) | batch | " + " | ".join(f"k = {k}: looped / stacked" for k in ks)
             + " |", "|---|---|" + "---|" * len(ks)]
    for name, (scripts, batch, cells) in table.items():
        row = " | ".join(f"{lo:.2f} s / {st:.2f} s = **{lo / st:.2f}x**" for lo, st in cells.values())
        lines.append(f"| {name} ({scripts}) | {batch} | {row} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = cli.make_parser("benchmarks/stacking", __doc__)
    parser.add_argument("--repeats", type=cli.positive_int, default=3, help="timed repeats")
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated model kinds")
    args = cli.parse_args(parser, argv, {"repeats": 1})
    with cli.clean_errors("stacking.py"):
        unknown = sorted(set(args.kinds.split(",")) - set(KINDS))
        if unknown:
            raise cli.ScriptError(f"--kinds: no model kind {', '.join(map(repr, unknown))}; the "
                                  f"kinds are {', '.join(KINDS)}")
        units = QUICK_UNITS if args.quick else Units()
        device = cli.resolve_device(args.device)
        torch.set_num_threads(args.threads or available_cores())
        torch.set_flush_denormal(True)
        data = load_image_data(args.dataset, args.data_dir, device)
        sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
        clock = lambda fn: timed(fn, args.repeats, sync)  # noqa: E731
        table = {}
        for name in args.kinds.split(","):
            scripts, make, batch, make_opt, cl = KINDS[name]
            batch = min(batch, units.max_batch or batch)
            table[name] = (scripts, batch, price_kind(clock, data, make, batch, make_opt, cl,
                                                      device, units))
            print(name, {k: f"{lo / st:.2f}x" for k, (lo, st) in table[name][2].items()},
                  flush=True)
        name = (torch.cuda.get_device_name(device) if device.type == "cuda"
                else f"{platform.processor() or platform.machine()}, {available_cores()} cores")
        text = render(name, table, units)
        print(text)
        atomic_write(table_path(f"stacking_{device.type}.md", args.quick, args.out_dir),
                     lambda tmp: Path(tmp).write_text(text))
    return text


if __name__ == "__main__":
    main()

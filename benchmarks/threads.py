"""Thread counts per workload: 1 vs 2 (or more) torch threads, on a quiet machine and with
another process busy on one core, with OpenMP's default wait policy and with
OMP_WAIT_POLICY=PASSIVE (idle threads sleep instead of spinning), for a short slice of every
kind of work the scripts do.

    python benchmarks/threads.py --dataset fashion-mnist [--thread-counts 1,2]

Each wait policy is measured in a fresh child process (OpenMP reads the variable when torch is
loaded). Prints a table and writes it to benchmarks/threads_<device>.md. Each time is the median
of --repeats runs after one warm-up; "busy" runs beside a pure-Python busy loop (one core's worth
of load). The scripts' thread policy (common/threads.py) follows from this table. --quick is a
smoke run (seconds, on any data set, its numbers meaningless): one repeat of QUICK_UNITS in this
process (its wait policy only), the table to --out-dir.
"""
import argparse
import contextlib
import dataclasses
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hw1_2_optimization as optimization  # noqa: E402
import hw1_3_interpolation as interpolation  # noqa: E402
import hw1_3_sensitivity as sensitivity  # noqa: E402
from benchmarks.bench import table_path  # noqa: E402
from common import cli  # noqa: E402
from common.data import function_samples, load_image_data  # noqa: E402
from common.metrics import input_jacobian_norms  # noqa: E402
from common.models import (CNN, FUNCTION_MODELS, MLP, StackedMLP, function_mlp,  # noqa: E402
                           mlp_params)
from common.outputs import atomic_write  # noqa: E402
from common.shallow import ShallowNets  # noqa: E402
from common.threads import available_cores  # noqa: E402
from common.train import (RowAdam, evaluate_classifier, train_classifier_epoch,  # noqa: E402
                          train_stacked_regressors)


@dataclasses.dataclass(frozen=True)
class Units:
    """Size of each workload's timed slice."""
    fit_epochs: int = 200      # full-batch epochs of the 9 stacked function fits
    images: int = 6000         # training images of the CNN, MLP and LeNet-5 slices
    nets: int = 16             # 1-hidden-1 nets of the minimal-ratio slices
    hidden: int = 500
    phase1_steps: int = 50
    phase2_steps: int = 20
    hessians: int = 10         # float64 Hessians (at most `nets`)
    jacobian_images: int = 500


QUICK_UNITS = Units(fit_epochs=2, images=64, nets=2, hidden=20, phase1_steps=2, phase2_steps=2,
                    hessians=1, jacobian_images=4)


@contextlib.contextmanager
def busy_core():
    """A separate process spinning on one core for the duration of the block."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        yield
    finally:
        proc.kill()
        proc.wait()


def timed(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def workloads(data, units):
    """name -> (scripts that do this work, callable running one short slice of it)."""
    x_fn, _ = function_samples("sin(5πx)", 300)
    targets = torch.stack([function_samples("sin(5πx)", 300)[1]] * 9)

    def fits():
        models = [function_mlp(h) for _ in range(3) for h in FUNCTION_MODELS.values()]
        train_stacked_regressors(StackedMLP(models), x_fn, targets, units.fit_epochs, 1e-3, 1e-4)

    n = units.images
    x, y = data.train_x[:n], data.train_y[:n]
    xc = x.contiguous(memory_format=torch.channels_last)
    cnn = CNN(10, 50).to(memory_format=torch.channels_last)
    cnn_opt = torch.optim.Adam(cnn.parameters(), lr=1e-3)
    lenet, lenet_s = interpolation.build_model("cpu"), sensitivity.build_model("cpu")
    lenet_opt = torch.optim.SGD(lenet.parameters(), lr=1e-2, momentum=0.9)
    lenet_s_opt = torch.optim.SGD(lenet_s.parameters(), lr=1e-2, momentum=0.9)
    mlp = optimization.build_model("cpu")
    mlp_opt = torch.optim.Adam(mlp.parameters(), lr=4e-4)
    g = torch.Generator().manual_seed(0)
    xs, ys = (t[:, 0] for t in function_samples("sin(5πx)/(5πx)", 300))
    nets = ShallowNets.from_mlps([MLP((1, units.hidden, 1)) for _ in range(units.nets)])
    adam = RowAdam(nets.parts(), lr=1e-3)
    rows = torch.arange(units.nets)

    def phase1():
        for _ in range(units.phase1_steps):
            adam.step(nets.grad(xs, ys)[1], rows)

    def phase2():
        for _ in range(units.phase2_steps):
            adam.step([2 * h for h in nets.grad_and_hvp(xs, ys)[2]], rows)
    nets64 = ShallowNets(*(p[:units.hessians].double() for p in nets.parts()))
    images, steps = f"{len(x):,} images", -(-len(x) // 1000)
    net, p = f"1-{units.hidden}-1", mlp_params((1, units.hidden, 1))
    return {
        f"9 stacked function fits, {units.fit_epochs} full-batch epochs": (
            "simulate_function", fits),
        f"CNN1 training, {images}, batch 600": (
            "mnist_cnn", lambda: train_classifier_epoch(cnn, cnn_opt, xc, y, 600, g)),
        f"CNN1 evaluation, {images}": (
            "mnist_cnn", lambda: evaluate_classifier(cnn, xc, y, 1000)),
        f"MLP 784-500-50-10 training, {steps} steps of batch 1000": (
            "optimization", lambda: train_classifier_epoch(mlp, mlp_opt, x, y, 1000, g)),
        f"{units.nets} nets {net}, {units.phase1_steps} phase-1 Adam steps (closed form)": (
            "grad_norm", phase1),
        f"{units.nets} nets {net}, {units.phase2_steps} phase-2 steps (closed-form Hv)": (
            "grad_norm", phase2),
        f"{units.hessians} float64 Hessians {p:,} x {p:,} + eigvalsh": (
            "grad_norm", lambda: torch.linalg.eigvalsh(nets64.hessian(xs.double(), ys.double()))),
        f"LeNet-5 training, {images}, batch 100": (
            "interpolation",
            lambda: train_classifier_epoch(lenet, lenet_opt, xc, y, 100, g)),
        f"LeNet-5 training, {images}, batch 1024": (
            "sensitivity", lambda: train_classifier_epoch(lenet_s, lenet_s_opt, xc, y, 1024, g)),
        f"LeNet-5 input Jacobians, {units.jacobian_images:,} images": (
            "sensitivity", lambda: input_jacobian_norms(lenet_s, xc[:units.jacobian_images])),
    }


POLICIES = ("default", "PASSIVE")


def measure(args):
    """{workload: (scripts, {"busy,threads": seconds})} in this process (its wait policy)."""
    data = load_image_data(args.dataset, args.data_dir, "cpu", channels_last=True)
    work = workloads(data, QUICK_UNITS if args.quick else Units())
    rows = {name: (scripts, {}) for name, (scripts, _) in work.items()}
    for busy in (False, True):     # one busy process for all the busy cells
        with busy_core() if busy else contextlib.nullcontext():
            for name, (_, fn) in work.items():
                for n in args.thread_counts:
                    torch.set_num_threads(n)
                    rows[name][1][f"{int(busy)},{n}"] = timed(fn, args.repeats)
                print(name, policy_of_this_process(), rows[name][1], file=sys.stderr, flush=True)
    return rows


def policy_of_this_process():
    return os.environ.get("OMP_WAIT_POLICY", "default")


def measure_in_child(argv, policy):
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if policy != "default":
        env["OMP_WAIT_POLICY"] = policy
    out = subprocess.run([sys.executable, __file__, *argv, "--child"], env=env, check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out)


def render(by_policy, threads):
    cpu = platform.processor() or platform.machine()
    head = [f"Machine: {cpu}, {available_cores()} cores; torch {torch.__version__}. Median of "
            "repeats after a warm-up; busy = beside a process spinning on one core; PASSIVE = "
            "OMP_WAIT_POLICY=PASSIVE (waiting threads sleep instead of spinning).", ""]
    cols = [(b, n, p) for b in (0, 1) for n in threads for p in POLICIES if p in by_policy]
    names = [f"{'busy' if b else 'quiet'}, {n} thr" + (", PASSIVE" if p != "default" else "")
             for b, n, p in cols]
    head += ["| workload | scripts | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(cols)]
    first = next(iter(by_policy.values()))
    for name, (scripts, _) in first.items():
        cells = [f"{by_policy[p][name][1][f'{b},{n}']:.2f} s" for b, n, p in cols]
        head.append(f"| {name} | {scripts} | " + " | ".join(cells) + " |")
    return "\n".join(head) + "\n"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    parser = cli.make_parser("threads", __doc__)
    parser.add_argument("--repeats", type=cli.positive_int, default=3, help="timed repeats")
    parser.add_argument("--thread-counts", type=cli.positive_int_list,
                        default="1,2", help="thread counts to compare")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = cli.parse_args(parser, argv, {"repeats": 1})
    with cli.clean_errors("threads.py"):
        torch.set_flush_denormal(True)
        if args.child:
            print(json.dumps(measure(args)))
            return None
        if args.quick:
            by_policy = {policy_of_this_process(): measure(args)}
        else:
            by_policy = {p: measure_in_child(argv, p) for p in POLICIES}
        text = render(by_policy, args.thread_counts)
        print(text)
        out = table_path("threads_cpu.md", args.quick, args.out_dir)
        atomic_write(out, lambda tmp: Path(tmp).write_text(text))
    return text


if __name__ == "__main__":
    main()

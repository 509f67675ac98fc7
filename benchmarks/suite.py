"""Price the whole default suite two ways, in one process on one machine, and print the tables.

    python benchmarks/suite.py --dataset fashion-mnist [--device auto] [--repeats 3]

The usual way of writing these experiments: a torchvision dataset + DataLoader with per-image
ToTensor/Normalize for every training and every evaluation, one model at a time, autograd
(torch.func for Hessians) and no vectorised training. This project: the data set on the device as
tensors, randperm slices, stacked/batched trainings, closed-form and batched second-order work.

For every kind of training and evaluation the suite does, the cost of a small unit (a few
optimiser steps, one evaluation pass, a few grid points) is measured both ways (median of
--repeats after a warm-up) and multiplied by how often the default suite does it (counts from
the default settings and, where a run decides its own length, from the committed JSON). Work that
is the same code both ways (sharpness, Hessian power iteration) is measured once and counted on
both sides. Prints one table per script and a total; writes benchmarks/suite_<device>.md.
--quick is a smoke run (seconds, on any data set, its numbers meaningless): one repeat of tiny
units, the table to --out-dir.
"""
import dataclasses
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench import (QUICK_RELU, ReluUnits, bench_minimal_ratio, table_path,  # noqa: E402
                              timed, torchvision_datasets)
from common import cli, critical  # noqa: E402
from common.data import function_samples, load_image_data, minibatches  # noqa: E402
from common.metrics import (epsilon_sharpness, hessian_top_eigenvalue,  # noqa: E402
                            input_jacobian_norms, mlp_plane_losses)
from common.models import (CNN_DEPTH_SERIES, CNN_MODELS, MLP, MNIST_MLP_SIZES,  # noqa: E402
                           build_cnn, function_mlp, mlp_params)
from common.outputs import atomic_write  # noqa: E402
from common.report import load  # noqa: E402
from common.threads import available_cores  # noqa: E402
from common.train import evaluate_classifier  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@dataclasses.dataclass(frozen=True)
class Units:
    """Size of each timed unit (the counts it is multiplied by are the default suite's)."""
    steps: int = 12            # optimiser steps timed per (model, batch) and way
    eval_images: int = 5000    # images per timed evaluation pass
    fit_epochs: int = 30       # full-batch epochs of the function fits
    fit_seeds: int = 0         # seeds of the stacked fits timed (0: the script's; fewer are
                               # priced as that many times the script's seeds over them)
    relu: ReluUnits = ReluUnits()  # the minimal-ratio nets (benchmarks/bench.py)
    tanh_nets: int = 0         # grad-norm tanh nets priced together (0: the script's 100)
    surface_images: int = 0    # training images per loss-surface grid point (0: the script's)
    sharpness_images: int = 0  # training images of the sharpness measures (0: the script's)
    sharpness_iterations: int = 0  # L-BFGS-B iterations of the eps-sharpness (0: the script's)
    max_batch: int = 0         # image classifiers' batch sizes capped at this (0: the scripts')


QUICK_UNITS = Units(steps=1, eval_images=100, fit_epochs=2, fit_seeds=2, relu=QUICK_RELU,
                    tanh_nets=4, surface_images=100, sharpness_images=50, sharpness_iterations=1,
                    max_batch=16)


class Clock:
    """Times one unit of work (median of the repeats); `units` says how large a unit is."""

    def __init__(self, repeats, device, units):
        self.repeats, self.units = repeats, units
        self.sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def __call__(self, fn):
        """Median seconds of fn() over the repeats, after one warm-up call."""
        return timed(fn, self.repeats, self.sync)


# --- the two ways of training and evaluating an image classifier ------------------------------

class Usual:
    """torchvision dataset objects with per-image ToTensor + Normalize, read through DataLoaders."""

    def __init__(self, args, data, tmp, device):
        self.train, self.test = torchvision_datasets(args.dataset, args.data_dir, tmp, data.mean,
                                                     data.std)
        self.device = device

    def train_steps(self, model, optimizer, batch, steps, flatten=False):
        loader = torch.utils.data.DataLoader(self.train, batch_size=batch, shuffle=True)
        model.train()
        for k, (x, y) in enumerate(loader):
            if k == steps:
                break
            x, y = x.to(self.device), y.to(self.device)
            loss = F.cross_entropy(model(x.flatten(1) if flatten else x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    @torch.no_grad()
    def evaluate(self, model, images, flatten=False, split="test"):
        subset = torch.utils.data.Subset(self.test if split == "test" else self.train,
                                         range(images))
        model.eval()
        for x, y in torch.utils.data.DataLoader(subset, batch_size=1000):
            x, y = x.to(self.device), y.to(self.device)
            F.cross_entropy(model(x.flatten(1) if flatten else x), y)


class Ours:
    """The whole data set as tensors on the device, randperm slices (channels_last for convs)."""

    def __init__(self, data):
        self.x, self.y = data.train_x, data.train_y
        self.x_cl = data.train_x.contiguous(memory_format=torch.channels_last)
        self.test_x, self.test_y = data.test_x, data.test_y
        self.g = torch.Generator().manual_seed(0)

    def train_steps(self, model, optimizer, batch, steps, flatten=False):
        x = self.x if flatten else self.x_cl
        model.train()
        for k, idx in enumerate(minibatches(len(x), batch, self.g, x.device)):
            if k == steps:
                break
            xb = x[idx].flatten(1) if flatten else x[idx]
            loss = F.cross_entropy(model(xb), self.y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

    def evaluate(self, model, images, flatten=False):
        x = self.test_x[:images]
        evaluate_classifier(model, x.flatten(1) if flatten else x, self.test_y[:images])


def classifier_rows(clock, usual, ours, label, make, opt, batch, steps, evals, flatten=False,
                    channels_last=True):
    """Two rows (training steps, evaluated images) for one kind of image classifier (the usual
    way in the default memory format, this project's channels_last)."""
    def build(conv):
        torch.manual_seed(0)
        layout = torch.channels_last if conv and channels_last else torch.contiguous_format
        model = make().to(usual.device).to(memory_format=layout)
        return model, opt(model.parameters())
    batch = min(batch, clock.units.max_batch or batch)
    (mu, ou), (mo, oo) = build(False), build(True)
    rows = []
    if steps:
        n = min(clock.units.steps, steps)
        t_u = clock(lambda: usual.train_steps(mu, ou, batch, n, flatten)) / n
        t_o = clock(lambda: ours.train_steps(mo, oo, batch, n, flatten)) / n
        rows.append((f"{label}: training steps at batch {batch}", steps, t_u, t_o))
    if evals:
        images = clock.units.eval_images
        e_u = clock(lambda: usual.evaluate(mu, images, flatten)) / images
        e_o = clock(lambda: ours.evaluate(mo, images, flatten)) / images
        rows.append((f"{label}: evaluated images", evals, e_u, e_o))
    return rows


def adam(lr, wd=0.0):
    return lambda params: torch.optim.Adam(params, lr=lr, weight_decay=wd)


def sgd(lr):
    return lambda params: torch.optim.SGD(params, lr=lr, momentum=0.9)


def epochs_steps(images, batch):
    return -(-images // batch)


# --- per script ------------------------------------------------------------------------------

def price_function_fits(clock, device):
    """240 fits x 3000 full-batch epochs: one model at a time vs the script's stacked groups."""
    import hw1_1_simulate_function as script
    d = script.DEFAULTS   # the script's default settings
    x, _ = function_samples("sin(5πx)", d.points, device)
    targets = {f: function_samples(f, d.points, device)[1] for f in script.TARGET_FUNCTIONS}
    fits_per_model = len(targets) * d.seeds
    epochs = clock.units.fit_epochs
    timed_seeds = clock.units.fit_seeds or d.seeds
    inits = script.initial_models(range(timed_seeds), device)
    groups = {}
    for name, hidden in script.MODELS.items():
        groups.setdefault(len(hidden), []).append(name)
    t_ours = clock(lambda: [script.fit_depth_group(names, inits, x, targets, epochs, d.lr,
                                                   d.weight_decay)
                            for names in groups.values()]) / epochs * d.seeds / timed_seeds
    t_usual = 0.0
    for name, hidden in script.MODELS.items():
        model = function_mlp(hidden).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=d.lr, weight_decay=d.weight_decay)
        y = targets["sin(5πx)"]

        def steps():
            for _ in range(epochs):
                loss = F.mse_loss(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
        t_usual += clock(steps) / epochs * fits_per_model
    n_fits = fits_per_model * len(script.MODELS)
    return [(f"{n_fits} fits: full-batch epochs (all fits)", d.epochs, t_usual, t_ours)]


def price_cnn(clock, usual, ours):
    import hw1_1_mnist_cnn as script
    d = script.DEFAULTS   # the script's default settings
    rows = []
    steps = epochs_steps(60000, d.batch_size) * d.epochs * d.seeds
    evals = (d.train_eval_samples + 10000) * d.epochs * d.seeds
    for name in [*CNN_DEPTH_SERIES, *CNN_MODELS]:
        rows += classifier_rows(clock, usual, ours, name, lambda n=name: build_cnn(n),
                                adam(1e-3, 1e-4), d.batch_size, steps, evals)
    return rows


def price_optimization(clock, usual, ours, data, device):
    """8 MLPs one after the other, through DataLoaders vs on device tensors; the surfaces' grid
    points."""
    import hw1_2_optimization as script
    d = script.DEFAULTS   # the script's default settings
    runs, epochs, batch = d.runs, d.epochs, d.batch_size
    rows = classifier_rows(clock, usual, ours, f"{runs} MLPs 784-500-50-10",
                           lambda: script.build_model(device), adam(d.lr, d.weight_decay), batch,
                           runs * epochs_steps(60000, batch) * epochs,
                           runs * 10000 * (epochs + 1), flatten=True)
    torch.manual_seed(0)
    model = script.build_model(device)
    # grid points: 32 x 32 path plane + 31 x 31 random plane + 2 trainings x 2 slices x 41 points
    points = 32 * 32 + d.surface_grid ** 2 + 2 * 2 * script.SLICE_POINTS
    sizes = MNIST_MLP_SIZES
    theta = torch.cat([p.detach().flatten() for p in model.parameters()])
    d1, d2 = torch.randn_like(theta), torch.randn_like(theta)
    images = clock.units.surface_images or d.surface_samples
    sx, sy = data.train_x[:images], data.train_y[:images]
    grid = [0.1 * k for k in range(4)]
    g_o = clock(lambda: mlp_plane_losses(sizes, theta, d1, d2, sx, sy, grid, grid)) / 16
    probe = MLP(sizes).to(device)

    def usual_points():
        for k in range(2):
            with torch.no_grad():
                torch.nn.utils.vector_to_parameters(theta + 0.1 * k * d1, probe.parameters())
            usual.evaluate(probe, images, True, "train")
    g_u = clock(usual_points) / 2
    rows.append((f"loss-surface grid points ({images:,} images each)", points, g_u, g_o))
    return rows


def price_grad_norm(clock, device):
    """Part 2: 100 tanh trainings (Adam, then Levenberg-Marquardt) and the ReLU contrast."""
    import hw1_2_grad_norm as script
    d = script.DEFAULTS   # the script's default settings
    from torch.func import hessian
    x, y = (t[:, 0].double() for t in function_samples(script.TARGET, script.POINTS, device))
    sizes, k = script.TANH_SIZES, clock.units.tanh_nets or d.trainings
    theta = critical.init_mlps(sizes, range(k), torch.float64, device)
    net_epochs = sum(round(d.phase1_min + i * (d.phase1_max -
                     d.phase1_min) / (k - 1)) for i in range(k))
    one = theta[:1].clone().requires_grad_(True)
    opt1 = torch.optim.Adam([one], lr=d.tanh_lr)

    def usual_phase1():
        for _ in range(20):
            loss = critical.mse_losses(one, sizes, x, y).sum()
            opt1.zero_grad()
            loss.backward()
            opt1.step()
    t_u = clock(usual_phase1) / 20
    t_o = clock(lambda: [critical.mse_grad(theta, sizes, x, y) for _ in range(20)]) / 20 / k
    rows = [(f"{k} tanh nets: phase-1 Adam epochs (net-epochs)", net_epochs, t_u, t_o)]

    def usual_hessian():
        return torch.linalg.eigh(hessian(lambda t: critical.mse_losses(t[None], sizes, x, y)[0])(
            theta[0]))
    # one LM step: a Hessian every LM_REFRESH steps, 1 gradient + 5 trial gradients every step
    t_u = (clock(usual_hessian) / script.LM_REFRESH
           + clock(lambda: [critical.mse_grad(theta[:1], sizes, x, y) for _ in range(6)]))
    t_o = (clock(lambda: torch.linalg.eigh(critical.mse_hessian(theta, sizes, x, y)))
           / script.LM_REFRESH
           + clock(lambda: [critical.mse_grad(theta, sizes, x, y) for _ in range(6)])) / k
    rows.append((f"{k} tanh nets: Levenberg-Marquardt steps (net-steps)", k * d.lm_steps,
                 t_u, t_o))
    units = clock.units.relu
    relu = bench_minimal_ratio(device, clock.sync, units)
    (_, _, p1_u, _, p1_o), (_, _, p2_u, _, p2_o), (_, _, h_u, _, h_o) = relu
    net_steps, p = units.nets * units.steps, mlp_params((1, units.hidden, 1))
    rows += [(f"{k} ReLU nets (contrast): phase-1 Adam epochs (net-epochs)", net_epochs,
              p1_u / net_steps, p1_o / net_steps),
             (f"{k} ReLU nets: phase-2 steps on ‖∇L‖² (net-steps)", k * d.phase2_steps,
              p2_u / net_steps, p2_o / net_steps),
             (f"{k} ReLU nets: float64 Hessians {p:,} × {p:,}", k, h_u / units.hessians,
              h_o / units.hessians)]
    return rows


def price_random_labels(clock, usual, ours):
    import hw1_3_random_labels as script
    d = script.DEFAULTS   # the script's default settings
    r = load(ROOT / "figures", "hw1_3_random_labels")
    # epochs of every seed (both runs train in lock-step) from the committed run, else the cap
    epochs = (sum(len(s["runs"]["random labels"]["train_acc"]) for s in r["per_seed"])
              if r and "per_seed" in r else d.max_epochs * d.seeds)
    steps = 2 * epochs * epochs_steps(d.train_samples, d.batch_size)
    evals = 2 * epochs * (d.train_samples + 10000)
    return classifier_rows(clock, usual, ours, "MLP 784-512-512-10",
                           lambda: script.build_model(usual.device), adam(d.lr), d.batch_size,
                           steps, evals, flatten=True)


def price_params(clock, usual, ours):
    import hw1_3_params_generalization as script
    d = script.DEFAULTS   # the script's default settings
    rows = []
    widths = [int(w) for w in d.widths.split(",")]
    steps = d.seeds * d.epochs * epochs_steps(60000, d.batch_size)
    evals = d.seeds * 70000
    for w in widths:
        rows += classifier_rows(clock, usual, ours, f"MLP 784-{w}-{w}-10",
                                lambda w=w: script.build_model(w, usual.device), adam(d.lr),
                                d.batch_size, steps, evals, flatten=True)
    return rows


def price_interpolation(clock, usual, ours):
    import hw1_3_interpolation as script
    d = script.DEFAULTS   # the script's default settings
    model = lambda: script.build_model(usual.device)  # noqa: E731  (the script's LeNet-5)
    rows = []
    for name, (batch, lr) in script.MODELS.items():
        rows += classifier_rows(clock, usual, ours, f"LeNet-5 ({name})", model, sgd(lr), batch,
                                d.seeds * d.epochs * epochs_steps(60000, batch), 0)
    n_alpha = len(script.alphas(d.alpha_steps))
    evals = (d.seeds * (len(script.PAIRS) * n_alpha + len(script.MODELS))
             * (d.train_eval_samples + 10000))
    rows += classifier_rows(clock, usual, ours, "LeNet-5 along α", model, sgd(1e-2), 100, 0,
                            evals)
    return rows


def price_sensitivity(clock, usual, ours, data, device):
    import hw1_3_sensitivity as script
    d = script.DEFAULTS   # the script's default settings
    build = lambda: script.build_model(device)  # noqa: E731  (the script's LeNet-5)
    rows = []
    sizes = [int(b) for b in d.batch_sizes.split(",")]
    r = load(ROOT / "figures", "hw1_3_sensitivity")
    matched = (r or {}).get("matched")
    for b in sizes:
        steps = d.seeds * d.epochs * epochs_steps(d.train_subset, b)
        if matched and str(b) in matched["runs"]:
            steps += sum(matched["runs"][str(b)]["steps"]["values"])
        rows += classifier_rows(clock, usual, ours, "LeNet-5", build, sgd(d.lr), b, steps, 0)
    trainings = d.seeds * len(sizes) + (sum(len(s["steps"]["values"])
                                                 for s in matched["runs"].values())
                                             if matched else 0)
    rows += classifier_rows(clock, usual, ours, "LeNet-5 final models", build, sgd(1e-2), 32, 0,
                            trainings * (d.train_subset + 10000))
    torch.manual_seed(0)
    model = build().eval()
    x = data.test_x[:200]
    j_o = clock(lambda: input_jacobian_norms(model, x)) / 200

    def usual_jacobians():
        for img in x[:10]:
            for soft in (True, False):
                f = (lambda z: torch.softmax(model(z), 1)) if soft else model
                torch.autograd.functional.jacobian(f, img[None]).norm()
    j_u = clock(usual_jacobians) / 10
    rows.append(("input Jacobians (softmax and logits), per test image",
                 trainings * d.sensitivity_samples, j_u, j_o))
    images = clock.units.sharpness_images or d.sharpness_samples
    iterations = clock.units.sharpness_iterations or d.sharpness_iterations
    sx, sy = data.train_x[:images], data.train_y[:images]
    params = list(model.parameters())

    def loss_fn():
        return F.cross_entropy(model(sx), sy)
    t_s = clock(lambda: ([epsilon_sharpness(loss_fn, params, e, iterations)
                          for e in script.EPSILONS.values()],
                         hessian_top_eigenvalue(loss_fn, params)))
    rows.append(("sharpness of a final model (same code both ways)", trainings, t_s, t_s))
    return rows


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}; {available_cores()} cores; torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads; Python {platform.python_version()}")


def render(device_name, sections, measured):
    lines = [f"Machine: {device_name}.", "",
             "Per unit = measured time of one unit (median of the repeats); total = per unit × "
             "count; ratio = usual / this project.", ""]
    grand_u = grand_o = 0.0
    summary = []
    for script, rows in sections:
        lines += [f"**`{script}.py`**", "",
                  "| work | count | usual, per unit | this project, per unit | usual, total | "
                  "this project, total | ratio |", "|---|---|---|---|---|---|---|"]
        tot_u = tot_o = 0.0
        for what, count, u, o in rows:
            tot_u, tot_o = tot_u + count * u, tot_o + count * o
            lines.append(f"| {what} | {int(count):,} | {fmt_s(u)} | {fmt_s(o)} | {count * u:,.1f} s | "
                         f"{count * o:,.1f} s | {u / o:.1f}x |")
        lines += [f"| **total** | | | | **{tot_u:,.0f} s** | **{tot_o:,.0f} s** | "
                  f"**{tot_u / tot_o:.1f}x** |", ""]
        summary.append((script, tot_u, tot_o))
        grand_u, grand_o = grand_u + tot_u, grand_o + tot_o
    lines += ["**Whole suite**", "", "| script | usual (priced) | this project (priced) | ratio | "
              "this project, full run measured (its JSON) |", "|---|---|---|---|---|"]
    for script, u, o in summary:
        lines.append(f"| `{script}.py` | {u / 60:,.1f} min | {o / 60:,.1f} min | {u / o:.1f}x | "
                     f"{measured.get(script, float('nan')) / 60:,.1f} min |")
    lines.append(f"| **total** | **{grand_u / 60:,.1f} min** | **{grand_o / 60:,.1f} min** | "
                 f"**{grand_u / grand_o:.1f}x** | **{sum(measured.values()) / 60:,.1f} min** |")
    return "\n".join(lines) + "\n"


def fmt_s(seconds):
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def main(argv=None):
    parser = cli.make_parser("suite", __doc__)
    parser.add_argument("--repeats", type=cli.positive_int, default=3, help="timed repeats")
    args = cli.parse_args(parser, argv, {"repeats": 1})
    with cli.clean_errors("suite.py"):
        device = cli.resolve_device(args.device)
        torch.set_flush_denormal(True)
        if args.threads:
            torch.set_num_threads(args.threads)
        units = QUICK_UNITS if args.quick else Units()
        clock = Clock(args.repeats, device, units)
        name = (torch.cuda.get_device_name(device) + "; " if device.type == "cuda" else "") + machine()
        data = load_image_data(args.dataset, args.data_dir, device)
        sections = []
        with tempfile.TemporaryDirectory() as tmp:
            usual, ours = Usual(args, data, tmp, device), Ours(data)
            steps = [("hw1_1_simulate_function", lambda: price_function_fits(clock, device)),
                     ("hw1_1_mnist_cnn", lambda: price_cnn(clock, usual, ours)),
                     ("hw1_2_optimization", lambda: price_optimization(clock, usual, ours, data,
                                                                        device)),
                     ("hw1_2_grad_norm", lambda: price_grad_norm(clock, device)),
                     ("hw1_3_random_labels", lambda: price_random_labels(clock, usual, ours)),
                     ("hw1_3_params_generalization", lambda: price_params(clock, usual, ours)),
                     ("hw1_3_interpolation", lambda: price_interpolation(clock, usual, ours)),
                     ("hw1_3_sensitivity", lambda: price_sensitivity(clock, usual, ours, data,
                                                                      device))]
            for script, fn in steps:
                start = time.perf_counter()
                sections.append((script, fn()))
                print(f"{script}: priced in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        measured = {}
        for script, _ in sections:
            r = load(ROOT / "figures", script)
            if r:
                measured[script] = r["meta"]["wall_time_s"]
        text = render(name, sections, measured)
        print(text)
        out = table_path(f"suite_{device.type}.md", args.quick, args.out_dir)
        atomic_write(out, lambda tmp: Path(tmp).write_text(text))
    return text


if __name__ == "__main__":
    main()

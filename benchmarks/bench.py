"""Benchmark this project's pipeline against the usual way, in one process, and print a table.

    python benchmarks/bench.py --dataset fashion-mnist [--device auto] [--repeats 3]

Rows (median of --repeats, ratios against the baseline measured in the same process):
  1. one CNN1 epoch (batch 600): torchvision dataset + DataLoader with ToTensor/Normalize
     (as in pytorch/examples) vs the whole data set on the device, randperm slices, channels_last;
  2. 100 minimal-ratio trainings (1-500-1, hw1_2_grad_norm's ReLU contrast): phase-1 Adam
     steps, phase-2 steps on ||grad||^2
     and float64 Hessians, looped autograd / torch.func vs the closed-form vectorised path;
  3. every script at --quick (in-process wall time) and at full settings (from its JSON).
Writes the table to benchmarks/results_<device>.md. --quick is a smoke run (seconds, on any data
set, its numbers meaningless): one repeat of tiny units, one script, the table to --out-dir.
"""
import dataclasses
import gzip
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hw1_2_grad_norm as grad_norm  # noqa: E402
from common import cli  # noqa: E402
from common.data import IDX_FILES, TORCHVISION_FOLDERS, load_image_data, locate_dataset  # noqa: E402
from common.metrics import flat_loss, flatten_params, hessian  # noqa: E402
from common.models import CNN, MLP, mlp_params  # noqa: E402
from common.outputs import atomic_write  # noqa: E402
from common.report import SCRIPTS, load  # noqa: E402
from common.shallow import GROUP_SIZE as CHUNK, ShallowNets  # noqa: E402
from common.threads import available_cores  # noqa: E402
from common.train import RowAdam, train_classifier_epoch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@dataclasses.dataclass(frozen=True)
class ReluUnits:
    """The minimal-ratio rows' work: nets 1-hidden-1 trained one after the other vs stacked, steps
    of each phase per net, float64 Hessians."""
    hidden: int = grad_norm.HIDDEN   # the ReLU contrast's width (500)
    nets: int = 100
    steps: int = 20
    hessians: int = 3


QUICK_RELU = ReluUnits(hidden=20, nets=4, steps=2, hessians=1)
# --quick times one script, the fastest, at these flags (besides its own --quick)
QUICK_SCRIPT = ("hw1_1_simulate_function", ["--epochs", "3", "--seeds", "1", "--points", "30"])


def timed(fn, repeats, sync):
    """Median seconds of fn() over `repeats` runs after one warm-up."""
    fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def torchvision_datasets(name, data_dir, tmp, mean, std):
    """The usual way's (train, test) torchvision datasets of `name` (its class is named like its
    folder, e.g. FashionMNIST) with per-image ToTensor + Normalize(mean, std), read from a
    decompressed copy of the IDX files in `tmp`."""
    import torchvision
    from torchvision import transforms
    root = torchvision_copy(name, data_dir, tmp)
    cls = getattr(torchvision.datasets, TORCHVISION_FOLDERS[name])
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((mean,), (std,))])
    return (cls(root, train=True, download=False, transform=tf),
            cls(root, train=False, download=False, transform=tf))


def torchvision_copy(name, data_dir, tmp):
    """Decompressed IDX files in torchvision's layout, so its dataset class can read them."""
    _, files = locate_dataset(name, data_dir, allow_download=False)
    raw = Path(tmp) / TORCHVISION_FOLDERS[name] / "raw"
    raw.mkdir(parents=True)
    for key, path in files.items():
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as src, open(raw / IDX_FILES[key], "wb") as dst:
            shutil.copyfileobj(src, dst)
    return tmp


def bench_cnn_epoch(args, device, sync):
    data = load_image_data(args.dataset, args.data_dir, device)
    with tempfile.TemporaryDirectory() as tmp:
        ds, _ = torchvision_datasets(args.dataset, args.data_dir, tmp, data.mean, data.std)
        loader = torch.utils.data.DataLoader(ds, batch_size=600, shuffle=True)
        usual_model = CNN(10, 50).to(device)
        usual_opt = torch.optim.Adam(usual_model.parameters(), lr=1e-3, weight_decay=1e-4)

        def usual():
            usual_model.train()
            for xb, yb in loader:
                xb, yb = xb.to(device), yb.to(device)
                loss = F.cross_entropy(usual_model(xb), yb)
                usual_opt.zero_grad()
                loss.backward()
                usual_opt.step()
        t_usual = timed(usual, args.repeats, sync)
    x = data.train_x.contiguous(memory_format=torch.channels_last)
    model = CNN(10, 50).to(device).to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    g = torch.Generator().manual_seed(0)
    t_ours = timed(lambda: train_classifier_epoch(model, opt, x, data.train_y, 600, g),
                   args.repeats, sync)
    return [("CNN1 epoch, batch 600", "DataLoader + ToTensor/Normalize", t_usual,
             "device tensors + randperm, channels_last", t_ours)]


def bench_minimal_ratio(device, sync, units=ReluUnits()):
    from common.data import function_samples
    x, y = function_samples("sin(5πx)/(5πx)", 300, device)
    m, steps = units.nets, units.steps
    models = [MLP((1, units.hidden, 1)).to(device) for _ in range(m)]
    opts = [torch.optim.Adam(md.parameters(), lr=1e-3, weight_decay=1e-4) for md in models]

    def looped_phase1():
        for md, o in zip(models, opts):
            for _ in range(steps):
                o.zero_grad()
                F.mse_loss(md(x), y).backward()
                o.step()

    def looped_phase2():
        for md, o in zip(models, opts):
            for _ in range(steps):
                grads = torch.autograd.grad(F.mse_loss(md(x), y), list(md.parameters()),
                                            create_graph=True)
                o.zero_grad()
                sum(g.pow(2).sum() for g in grads).backward()
                o.step()
    nets = ShallowNets.from_mlps(models).to(device)
    x1, y1 = x[:, 0], y[:, 0]
    adam = RowAdam(nets.parts(), lr=1e-3, weight_decay=1e-4)
    rows = torch.arange(m, device=device)

    chunks = [(rows[s:s + CHUNK], nets[s:s + CHUNK]) for s in range(0, m, CHUNK)]

    def vec_phase1():
        for idx, part in chunks:
            for _ in range(steps):
                adam.step(part.grad(x1, y1)[1], idx)

    def vec_phase2():
        for idx, part in chunks:
            for _ in range(steps):
                adam.step([2 * h for h in part.grad_and_hvp(x1, y1)[2]], idx)
    out = [(f"{m} trainings x {steps} phase-1 Adam steps", "looped autograd",
            timed(looped_phase1, 1, sync), f"closed-form gradient, stacked {CHUNK} at a time",
            timed(vec_phase1, 1, sync)),
           (f"{m} trainings x {steps} phase-2 steps on ‖∇L‖²", "looped double backward",
            timed(looped_phase2, 1, sync), f"closed-form Hessian-vector product, stacked {CHUNK} at a time",
            timed(vec_phase2, 1, sync))]
    n_h = units.hessians
    md = models[0].double()

    def func_hessians():
        for _ in range(n_h):
            lf = flat_loss(md, F.mse_loss, x.double(), y.double())
            hessian(lf, flatten_params(md))
    part = ShallowNets.from_mlps([md] * n_h)
    part = ShallowNets(*(p.double() for p in part.parts()))
    p = mlp_params((1, units.hidden, 1))
    out.append((f"{n_h} float64 Hessians ({p:,} x {p:,})", "torch.func (jacrev of grad)",
                timed(func_hessians, 1, sync), "closed form, batched",
                timed(lambda: part.hessian(x1.double(), y1.double()), 1, sync)))
    return out


def bench_scripts(args, device, scripts):
    """[(stem, --quick wall time, full run's wall time, its device)] for each (stem, extra flags)
    of `scripts`, each run at --quick in this process."""
    import importlib
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for stem, extra in scripts:
            module = importlib.import_module(stem)
            flags = ["--quick", "--device", device.type, "--out-dir", tmp, *extra]
            if stem != "hw1_1_simulate_function":
                flags += ["--dataset", args.dataset, "--data-dir", args.data_dir]
            start = time.perf_counter()
            module.main(flags)
            quick = time.perf_counter() - start
            full = load(Path(args.figures), stem)
            rows.append((stem, quick, full["meta"]["wall_time_s"] if full else float("nan"),
                         full["meta"]["device"] if full else "-"))
    return rows


def render(device_name, pairs, scripts):
    lines = [f"Device: {device_name}; torch {torch.__version__}, {torch.get_num_threads()} threads.",
             "", "| workload | baseline | time | this project | time | speed-up |",
             "|---|---|---|---|---|---|"]
    for what, base, t_base, ours, t_ours in pairs:
        lines.append(f"| {what} | {base} | {t_base:.2f} s | {ours} | {t_ours:.2f} s | "
                     f"{t_base / t_ours:.1f}x |")
    lines += ["", "| script | --quick (this run) | full default run (its JSON) | full-run device |",
              "|---|---|---|---|"]
    for stem, quick, full, dev in scripts:
        lines.append(f"| `{stem}.py` | {quick:.1f} s | {full:.1f} s | {dev} |")
    lines.append(f"| **total** | **{sum(s[1] for s in scripts):.1f} s** | "
                 f"**{sum(s[2] for s in scripts):.1f} s** | |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = cli.make_parser("bench", __doc__)
    parser.add_argument("--repeats", type=cli.positive_int, default=3, help="timed repeats")
    parser.add_argument("--figures", default=str(ROOT / "figures"),
                        help="folder whose JSON files give the full-run wall times")
    args = cli.parse_args(parser, argv, {"repeats": 1})
    with cli.clean_errors("bench.py"):
        device = cli.resolve_device(args.device)
        torch.set_flush_denormal(True)
        sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
        name = torch.cuda.get_device_name(device) if device.type == "cuda" else \
            f"CPU ({available_cores()} cores)"
        pairs = bench_cnn_epoch(args, device, sync)
        pairs += bench_minimal_ratio(device, sync, QUICK_RELU if args.quick else ReluUnits())
        scripts = bench_scripts(args, device, [QUICK_SCRIPT] if args.quick
                                else [(stem, []) for stem in SCRIPTS])
        text = render(name, pairs, scripts)
        print(text)
        out = table_path(f"results_{device.type}.md", args.quick, args.out_dir)
        atomic_write(out, lambda tmp: Path(tmp).write_text(text))
    return text


def table_path(name, quick, out_dir):
    """Where a benchmark writes its table: benchmarks/<name>; with --quick (a smoke run whose
    numbers mean nothing) <out_dir>/<name> instead, so that a smoke run never replaces a table."""
    if quick:
        folder = Path(out_dir)
        folder.mkdir(parents=True, exist_ok=True)
        return folder / name
    return Path(__file__).resolve().parent / name


if __name__ == "__main__":
    main()

"""Shared command-line flags, device and seed handling, atomic JSON/figure writing, clean errors."""
import argparse
import contextlib
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

DATASETS = ("mnist", "fashion-mnist")
DATASET_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}


class ScriptError(Exception):
    """A failure caused by the input or the environment: one line on stderr, exit code 2."""


class DivergedError(ScriptError):
    """Training produced a non-finite loss."""


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are a single line (no usage block) and exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Keep the docstring's layout and append every flag's default."""


def positive_int(text):
    """argparse type: an integer > 0."""
    value = _parse(text, int, "an integer")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def positive_float(text):
    """argparse type: a finite float > 0."""
    value = _parse(text, float, "a number")
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def nonnegative_float(text):
    """argparse type: a finite float >= 0."""
    value = _parse(text, float, "a number")
    if not (np.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a non-negative number, got {text}")
    return value


def _parse(text, kind, what):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None


def make_parser(doc, uses_dataset=True):
    """Parser with the flags every script shares; `doc` is the script's module docstring."""
    parser = Parser(description=doc, formatter_class=HelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="tiny settings that finish in seconds on a CPU (smoke test)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="where to train; auto = cuda when available, else cpu")
    parser.add_argument("--seed", type=int, default=0, help="seed for python, numpy and torch")
    parser.add_argument("--out-dir", default="figures", help="folder for the JSON and PNG outputs")
    parser.add_argument("--replot", action="store_true",
                        help="redraw the figures from the existing JSON without training")
    if uses_dataset:
        parser.add_argument("--dataset", choices=DATASETS,
                            default=os.environ.get("HW1_DATASET", "mnist"),
                            help="MNIST-format data set (environment variable HW1_DATASET)")
        parser.add_argument("--data-dir", default=os.environ.get("HW1_DATA_DIR", "data"),
                            help="folder holding or receiving the IDX files (HW1_DATA_DIR)")
    return parser


def add_training_flags(parser, epochs, lr, optimiser, weight_decay=None, batch_size=None,
                       train_samples=True):
    """The experiment flags most scripts share; the defaults are the script's settings."""
    parser.add_argument("--epochs", type=positive_int, default=epochs, help="training epochs")
    parser.add_argument("--lr", type=positive_float, default=lr, help=f"{optimiser} learning rate")
    if weight_decay is not None:
        parser.add_argument("--weight-decay", type=nonnegative_float, default=weight_decay,
                            help=f"{optimiser} weight decay (L2)")
    if batch_size is not None:
        parser.add_argument("--batch-size", type=positive_int, default=batch_size,
                            help="training minibatch size")
    if train_samples:
        parser.add_argument("--train-samples", type=int, default=0,
                            help="train on the first N training images only (0 = all)")


def resolve_device(name):
    """'auto' | 'cpu' | 'cuda' -> torch.device; asking for cuda without one is a ScriptError."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ScriptError("--device cuda was requested but no CUDA device is available")
    return torch.device(name)


def seed_everything(seed):
    """Seed python, numpy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def prepare_out_dir(path):
    """Create the output folder if needed and check that it is writable."""
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise ScriptError(f"cannot write to output folder {out}: {exc.strerror or exc}") from None
    return out


def _atomic_write(path, write):
    """Call write(tmp_path) on a temporary file beside `path`, then rename it over `path`."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path, obj):
    """Write `obj` as indented JSON atomically."""
    def write(tmp):
        with open(tmp, "w") as fh:
            json.dump(obj, fh, indent=1)
            fh.write("\n")
    _atomic_write(path, write)


def save_figure(fig, path):
    """Save a matplotlib figure as PNG atomically and close it."""
    import matplotlib.pyplot as plt
    try:
        _atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
    finally:
        plt.close(fig)


def load_results(out_dir, stem):
    """Read <out_dir>/<stem>.json for --replot; a missing or broken file is a ScriptError."""
    path = Path(out_dir) / f"{stem}.json"
    try:
        with open(path) as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise ScriptError(f"{path} not found: run without --replot first") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ScriptError(f"cannot read {path}: {exc}") from None


def run_metadata(args, device):
    """Config and environment facts stored beside every result."""
    meta = {
        "config": {k: v for k, v in vars(args).items() if k not in ("replot",)},
        "seed": args.seed,
        "device": str(device),
        "device_name": (torch.cuda.get_device_name(device) if device.type == "cuda"
                        else platform.processor() or platform.machine()),
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "torch_threads": torch.get_num_threads(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    if "dataset" in vars(args):
        meta["dataset"] = args.dataset
    return meta


@contextlib.contextmanager
def clean_errors(prog):
    """Turn ScriptErrors into one stderr line + exit 2; Ctrl-C into one line + exit 130."""
    try:
        yield
    except ScriptError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; earlier output files were left as they were", file=sys.stderr)
        raise SystemExit(130) from None


def run_main(argv, parser, stem, experiment, plot, quick):
    """Parse argv, apply the script's --quick settings (dict flag -> value), then run_script."""
    args = parser.parse_args(argv)
    if args.quick:
        for key, value in quick.items():
            setattr(args, key, value)
    return run_script(args, stem, experiment, plot)


def run_script(args, stem, experiment, plot):
    """Shared body of every script: train (or reload with --replot), write JSON, draw figures.

    experiment(args, device) -> dict of results; plot(results, out_dir, stem) -> list of paths.
    Figures are always drawn from the JSON as written, never from in-memory tensors.
    """
    with clean_errors(f"{stem}.py"):
        out = prepare_out_dir(args.out_dir)
        json_path = out / f"{stem}.json"
        if not args.replot:
            device = resolve_device(args.device)
            seed_everything(args.seed)
            # Denormal floats (tiny Adam moments late in training) slow CPU arithmetic many-fold.
            torch.set_flush_denormal(True)
            start = time.perf_counter()
            meta = run_metadata(args, device)
            results = experiment(args, device)
            meta["wall_time_s"] = round(time.perf_counter() - start, 2)
            write_json(json_path, {"meta": meta, **results})
        results = load_results(out, stem)
        results["figures"] = [str(p) for p in plot(results, out, stem)]
        return results

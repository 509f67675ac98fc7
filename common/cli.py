"""Command-line flags shared by every script, device/seed/thread set-up, and the script runner."""
import argparse
import contextlib
import dataclasses
import json
import os
import platform
import random
import signal
import sys
import time

import numpy as np
import torch

from common.data import DATASETS
from common.errors import Interrupted, ScriptError
from common.threads import available_cores, default_threads
from common.outputs import StagedOutputs, check_out_dir, read_json, signals_as_exceptions, write_json

SEED_MAX = 2**32 - 1          # numpy's seed range (torch's is wider): seeds above would collide
QUICK_OUT_DIR = "figures/quick"  # git-ignored: a --quick run never replaces a full run's results
PLOT_ERRORS = (KeyError, TypeError, ValueError, IndexError, AttributeError)


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are a single line (no usage block) and exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Keep the docstring's layout and append every flag's default (flags whose default comes
    from the environment say so in their own help instead)."""

    def _get_help_string(self, action):
        if action.default is None:
            return action.help
        return super()._get_help_string(action)


def _parse(text, kind, what):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None


def positive_int(text):
    """argparse type: an integer > 0."""
    value = _parse(text, int, "an integer")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def nonnegative_int(text):
    """argparse type: an integer >= 0."""
    value = _parse(text, int, "an integer")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or a positive integer, got {text}")
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


def seed_value(text):
    """argparse type: an integer seed in 0 .. 2**32 - 1."""
    value = _parse(text, int, "an integer")
    if not 0 <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"must be in 0 .. {SEED_MAX} (2**32 - 1), got {text}")
    return value


def positive_int_list(text):
    """argparse type: comma-separated positive integers, sorted and without repeats."""
    items = [v.strip() for v in str(text).split(",")]
    if not any(items):
        raise argparse.ArgumentTypeError(f"no numbers given in {text!r}: write e.g. 32,64,128")
    if not all(items):
        raise argparse.ArgumentTypeError(f"empty item in {text!r}: write e.g. 32,64,128")
    values = [positive_int(v) for v in items]
    return sorted(set(values))


_NO_QUICK = object()


def setting(default, kind, help, quick=_NO_QUICK):
    """A field of a script's Settings dataclass, the one place a setting is declared: its default,
    the flag --NAME it becomes (argparse type `kind`; bool: --NAME / --no-NAME), the flag's help
    and, where given, the value --quick uses instead of the default."""
    return dataclasses.field(default=default, metadata={"kind": kind, "help": help, "quick": quick})


def add_settings(parser, settings):
    """One flag per field of the Settings dataclass `settings`, in field order."""
    for field in dataclasses.fields(settings):
        flag, kind = "--" + field.name.replace("_", "-"), field.metadata["kind"]
        if kind is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=field.default,
                                help=field.metadata["help"])
        else:
            parser.add_argument(flag, type=kind, default=field.default, help=field.metadata["help"])


def quick_settings(settings):
    """{name: --quick value} of the fields of `settings` that have one."""
    return {f.name: f.metadata["quick"] for f in dataclasses.fields(settings)
            if f.metadata["quick"] is not _NO_QUICK}


def make_parser(stem, doc, settings=None, uses_dataset=True):
    """Parser of script `stem` with the shared flags, then one per field of its Settings
    dataclass `settings`; `doc` is its module docstring."""
    parser = Parser(prog=f"{stem}.py", description=doc, formatter_class=HelpFormatter,
                    allow_abbrev=False)
    parser.add_argument("--quick", action="store_true",
                        help="tiny settings that finish in seconds (smoke test); flags given "
                             f"explicitly still win; outputs go to {QUICK_OUT_DIR}/ unless "
                             "--out-dir is given")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="where to train; auto = cuda when available, else cpu")
    parser.add_argument("--seed", type=seed_value, default=0,
                        help=f"seed for python, numpy and torch (0 .. {SEED_MAX})")
    parser.add_argument("--threads", type=nonnegative_int, default=0,
                        help="torch CPU threads for the whole run, recorded in the JSON; 0 = one "
                             "per core this process may use. Results depend on the count, never "
                             "on the machine's load; beside a busy process --threads 1 is faster "
                             "(benchmarks/threads_cpu.md)")
    parser.add_argument("--out-dir", default="figures", help="folder for the JSON and PNG outputs")
    parser.add_argument("--replot", action="store_true",
                        help="redraw the figures from the existing JSON without training")
    if uses_dataset:
        parser.add_argument("--dataset", choices=DATASETS, default=None,
                            help="MNIST-format data set (default: $HW1_DATASET if set, else mnist)")
        parser.add_argument("--data-dir", default=None,
                            help="folder holding or receiving the IDX files "
                                 "(default: $HW1_DATA_DIR if set, else data)")
    if settings is not None:
        add_settings(parser, settings)
    return parser


def check_quick(parser, quick):
    """A --quick override must name a flag of the script: a misspelt key would otherwise be
    ignored silently and the quick run would use the full default."""
    known = {action.dest for action in parser._actions}
    unknown = sorted(set(quick) - known)
    if unknown:
        raise ValueError(f"QUICK names no flag of {parser.prog}: {', '.join(unknown)}")


def parse_args(parser, argv, quick):
    """Parse argv; with --quick, the script's quick settings replace the defaults (never a flag
    the user gave) and the output folder defaults to QUICK_OUT_DIR."""
    check_quick(parser, quick)
    first, _ = parser.parse_known_args(argv)
    if first.quick:
        parser.set_defaults(**quick, out_dir=QUICK_OUT_DIR)
    args = parser.parse_args(argv)
    if "dataset" in vars(args):
        args.dataset = args.dataset or _dataset_from_environment(parser)
        args.data_dir = args.data_dir or os.environ.get("HW1_DATA_DIR") or "data"
    return args


def _dataset_from_environment(parser):
    value = os.environ.get("HW1_DATASET")
    if not value:
        return "mnist"
    if value not in DATASETS:
        parser.error(f"environment variable HW1_DATASET={value!r} is not a data set: set it to "
                     f"one of {', '.join(DATASETS)}, or pass --dataset")
    return value


def check_seed_count(args, count, what):
    """ScriptError unless the seeds seed .. seed + count - 1 all lie in the seed range."""
    if args.seed + count - 1 > SEED_MAX:
        raise ScriptError(f"--seed {args.seed} with {count} {what} needs seeds up to "
                          f"{args.seed + count - 1}, above {SEED_MAX}: use a smaller --seed")


def resolve_device(name):
    """'auto' | 'cpu' | 'cuda' -> torch.device; asking for cuda without one is a ScriptError."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ScriptError("--device cuda was requested but no CUDA device is available")
    return torch.device(name)


def seed_everything(seed):
    """Seed python, numpy and torch (all devices); seed in 0 .. SEED_MAX."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def run_metadata(args, device, stem):
    """Config and environment facts stored beside every result."""
    meta = {
        "script": f"{stem}.py",
        "config": {k: v for k, v in vars(args).items() if k not in ("replot",)},
        "seed": args.seed,
        "device": str(device),
        "device_name": (torch.cuda.get_device_name(device) if device.type == "cuda"
                        else platform.processor() or platform.machine()),
        "cpu_cores": os.cpu_count(),
        "cpu_cores_available": available_cores(),
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    if "dataset" in vars(args):
        meta["dataset"] = args.dataset
    return meta


@contextlib.contextmanager
def clean_errors(prog):
    """ScriptErrors -> one stderr line + exit 2; SIGINT/SIGTERM -> one line + exit 128 + signal."""
    try:
        with signals_as_exceptions():
            yield
    except ScriptError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except (KeyboardInterrupt, Interrupted) as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        if getattr(exc, "after_commit", False):
            what = "after this run's output files were all written"
        else:
            what = "no output file was changed"
        print(f"{prog}: interrupted ({signal.Signals(signum).name}); {what}", file=sys.stderr)
        raise SystemExit(128 + signum) from None


def run_main(argv, parser, stem, experiment, plot, quick, validate=None, summarise=None):
    """Parse argv (see parse_args), check it with validate(args), then run_script."""
    args = parse_args(parser, argv, quick)
    return run_script(args, stem, experiment, plot, validate, summarise)


def run_script(args, stem, experiment, plot, validate=None, summarise=None):
    """Shared body of every script: train (or reload with --replot), summarise, then write the
    JSON and the figures together (see StagedOutputs). Figures are always drawn from the JSON as
    written.

    experiment(args, device) -> dict of results; summarise(results) -> the "summary" entry (the
    verdicts with their statistics), computed from the recorded results, so that --replot
    refreshes it (and rewrites the JSON) without training; plot(results, folder, stem) -> paths.
    """
    with clean_errors(f"{stem}.py"):
        out = check_out_dir(args.out_dir)
        json_path = out / f"{stem}.json"
        if args.replot:
            results = load_results(json_path, stem)
        else:
            if validate is not None:
                validate(args)
            if args.quick:
                refuse_to_replace_full_run(json_path)
            results = train(args, stem, experiment)
        if summarise is not None:
            results["summary"] = summarise_recorded(summarise, results, json_path, args.replot)
        with StagedOutputs(out, stem) as staged:
            try:
                if not args.replot or summarise is not None:
                    write_json(staged.path(json_path.name), results)
                draw(plot, results, staged.staging, stem, json_path if args.replot else None)
            except OSError as exc:      # a full disk, a quota: the staged files are discarded
                raise ScriptError(f"cannot write the outputs into {out}: {exc.strerror or exc}; "
                                  "the output folder is left as it was") from None
            committed = staged.commit()
        results["figures"] = [str(p) for p in committed if p.suffix == ".png"]
        return results


def summarise_recorded(summarise, results, json_path, replot):
    """summarise(results), through JSON and back; with --replot a JSON that lacks what the
    summary needs is a ScriptError."""
    try:
        return json.loads(json.dumps(summarise(results)))
    except PLOT_ERRORS as exc:
        if not replot:
            raise
        raise ScriptError(f"{json_path} does not hold the results the summary needs ({exc!r}): "
                          "rerun without --replot") from None


def train(args, stem, experiment):
    """Run the experiment with the chosen device, seed and threads; results as JSON would hold."""
    device = resolve_device(args.device)
    threads = args.threads or default_threads()
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        seed_everything(args.seed)
        # Denormal floats (tiny Adam moments late in training) slow CPU arithmetic many-fold.
        torch.set_flush_denormal(True)
        start = time.perf_counter()
        meta = run_metadata(args, device, stem)
        results = experiment(args, device)
        meta["wall_time_s"] = round(time.perf_counter() - start, 2)
        meta["peak_memory_mb"] = peak_memory_mb(device)
        meta["threads"] = threads
    finally:
        torch.set_num_threads(previous)
    # Through JSON and back, so that figures are drawn from exactly what is written.
    return json.loads(json.dumps({"meta": meta, **results}))


def peak_memory_mb(device):
    """Peak resident memory of this process so far (MiB; Linux reports KiB), and on a GPU the
    peak of torch's allocations there."""
    import resource
    peak = {"process_rss": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    if device.type == "cuda":
        peak["cuda_allocated"] = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    return peak


def load_results(json_path, stem):
    """The JSON that --replot draws from; a missing file or another script's JSON is a ScriptError."""
    if not json_path.exists():
        raise ScriptError(f"{json_path} not found: run without --replot first")
    results = read_json(json_path, f"{stem}.py results")
    script = results.get("meta", {}).get("script") if isinstance(results.get("meta"), dict) else None
    if script is not None and script != f"{stem}.py":
        raise ScriptError(f"{json_path} holds results of {script}, not of {stem}.py")
    return results


def refuse_to_replace_full_run(json_path):
    """A --quick run must not overwrite the JSON of a full run."""
    if not json_path.is_file():
        return
    try:
        previous = read_json(json_path)
        full = previous["meta"]["config"]["quick"] is False
    except (ScriptError, KeyError, TypeError):
        return
    if full:
        raise ScriptError(f"{json_path} holds a full run's results and --quick would replace "
                          f"them: leave out --out-dir (quick runs default to {QUICK_OUT_DIR}) "
                          "or choose another folder")


def draw(plot, results, folder, stem, replotted_json=None):
    """plot(results, folder, stem); with --replot (replotted_json = its path), a JSON that lacks
    what the figures need (a damaged or foreign file) is a ScriptError."""
    if replotted_json is None:
        return plot(results, folder, stem)
    try:
        return plot(results, folder, stem)
    except PLOT_ERRORS as exc:
        detail = f"missing key {exc}" if isinstance(exc, KeyError) else f"{type(exc).__name__}: {exc}"
        raise ScriptError(f"{replotted_json} does not hold the results {stem}.py draws ({detail}): "
                          "rerun without --replot") from None

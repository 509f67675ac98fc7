"""Regenerate the README's result tables from the committed JSON files.

    python -m common.report [--figures figures] [--readme README.md] [--check]

Each table sits between the markers <!-- table:NAME --> and <!-- /table:NAME --> in README.md;
everything between them is replaced, so the numbers cannot drift from the figures' JSON.
--check exits 1 (and changes nothing) when README.md is out of date.
"""
import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np


def _load(figures, stem):
    path = Path(figures) / f"{stem}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _pct(x):
    return f"{100 * x:.2f}%"


def table_fits(r):
    rows = []
    for fname, fits in r["functions"].items():
        for mname, fit in fits.items():
            rows.append([fname, mname, f"{fit['n_params']:,}", f"{fit['final_loss']:.3g}",
                         fit["convergence_epoch"] or "not converged",
                         f"{min(fit['loss']):.3g}"])
    return _table(["target", "model", "params", "final MSE", "convergence epoch",
                   "lowest MSE"], rows)


def table_cnn(r):
    rows = [[name, f"{run['n_params']:,}", f"{run['final']['train_loss']:.4f}",
             _pct(run["final"]["train_acc"]), f"{run['final']['test_loss']:.4f}",
             _pct(run["final"]["test_acc"]),
             f"{_pct(max(run['history']['test_acc']))} "
             f"({int(np.argmax(run['history']['test_acc'])) + 1})"]
            for name, run in r["models"].items()]
    return _table(["model", "params", "train loss", "train acc", "test loss", "test acc",
                   "best test acc (epoch)"], rows)


def table_optimization(r):
    acc = np.asarray(r["test_acc"])
    ev = {k: r["pca"][k]["explained_variance_ratio"] for k in ("fc1", "whole")}
    rows = [[f"training {k + 1} (seed {seed})", f"{r['train_loss'][k][-1]:.4f}", _pct(acc[k, -1])]
            for k, seed in enumerate(r["seeds"])]
    text = _table(["training", "last-epoch train loss", "final test acc"], rows)
    text += (f"\n\nExplained variance of PC1 / PC2: fc1 {_pct(ev['fc1'][0])} / {_pct(ev['fc1'][1])}, "
             f"whole model {_pct(ev['whole'][0])} / {_pct(ev['whole'][1])}. Final test accuracy "
             f"{_pct(acc[:, -1].mean())} ± {_pct(acc[:, -1].std(ddof=1))} (mean ± std over "
             f"{len(acc)} trainings).")
    return text


def table_grad_norm(r):
    rows = r["minimal_ratio"]["trainings"]
    mr = np.asarray([t["minimal_ratio"] for t in rows])
    nz = np.asarray([t["ratio_nonzero"] for t in rows])
    loss = np.asarray([t["loss"] for t in rows])
    gn = np.asarray([t["grad_norm"] for t in rows])
    reached = sum(t["reached"] for t in rows)
    neg = np.asarray([t["n_negative"] for t in rows])
    zero = np.asarray([t["n_zero"] for t in rows])
    rho = np.corrcoef(np.argsort(np.argsort(mr)), np.argsort(np.argsort(loss)))[0, 1]
    f, m = r["function"], r["mnist"]
    body = [
        ["trainings / reached ‖∇L‖ < %g" % r["minimal_ratio"]["threshold"], f"{len(rows)} / {reached}"],
        ["final ‖∇L‖ (min / median / max)", f"{gn.min():.2e} / {np.median(gn):.2e} / {gn.max():.2e}"],
        ["final MSE (min / median / max)", f"{loss.min():.2e} / {np.median(loss):.2e} / {loss.max():.2e}"],
        ["minimal ratio (min / median / max)", f"{mr.min():.3f} / {np.median(mr):.3f} / {mr.max():.3f}"],
        ["ratio among non-zero eigenvalues (min / median / max)",
         f"{nz.min():.3f} / {np.median(nz):.3f} / {nz.max():.3f}"],
        ["negative eigenvalues (min / median / max)", f"{neg.min()} / {int(np.median(neg))} / {neg.max()}"],
        ["near-zero eigenvalues (min / median / max)", f"{zero.min()} / {int(np.median(zero))} / {zero.max()}"],
        ["Spearman rank correlation (minimal ratio, loss)", f"{rho:.2f}"],
        ["part 1, function fit: first / last ‖∇L‖", f"{f['grad_norm'][0]:.3g} / {f['grad_norm'][-1]:.3g}"],
        ["part 1, function fit: first / last MSE", f"{f['loss'][0]:.3g} / {f['loss'][-1]:.3g}"],
        ["part 1, MLP: first / last ‖∇L‖", f"{m['grad_norm'][0]:.3g} / {m['grad_norm'][-1]:.3g}"],
        ["part 1, MLP: first / last minibatch loss", f"{m['loss'][0]:.3g} / {m['loss'][-1]:.3g}"],
    ]
    return _table(["quantity", "value"], body)


def table_interpolation(r):
    rows = []
    for pair, d in r["pairs"].items():
        a = r["alphas"]
        for key in (d["theta_1"], d["theta_2"]):
            ep = r["endpoints"][key]
            rows.append([pair, key, f"{ep['train_loss']:.4f}", _pct(ep["train_acc"]),
                         f"{ep['test_loss']:.4f}", _pct(ep["test_acc"])])
        mid = [i for i in range(len(a)) if 0 < a[i] < 1]
        worst = max(mid, key=lambda i: d["test_loss"][i])
        rows.append([pair, f"worst α in (0, 1): α = {a[worst]:g}", f"{d['train_loss'][worst]:.4f}",
                     _pct(d["train_acc"][worst]), f"{d['test_loss'][worst]:.4f}",
                     _pct(d["test_acc"][worst])])
    return _table(["pair", "point", "train loss", "train acc", "test loss", "test acc"], rows)


def table_sensitivity(r):
    def cell(s, key, fmt):
        v = s[key]
        return fmt(v["mean"]) + (f" ± {fmt(v['std'])}" if len(r["seeds"]) > 1 else "")
    rows = []
    for b in r["batch_sizes"]:
        s = r["runs"][str(b)]
        rows.append([b, int(s["steps"]["mean"]), cell(s, "train_loss", "{:.4f}".format),
                     cell(s, "train_acc", _pct), cell(s, "test_loss", "{:.4f}".format),
                     cell(s, "test_acc", _pct), cell(s, "sensitivity", "{:.3f}".format),
                     cell(s, "sensitivity_logits", "{:.2f}".format)])
    return _table(["batch", "SGD steps", "train loss", "train acc", "test loss", "test acc",
                   "sensitivity (softmax)", "sensitivity (logits)"], rows)


def table_wall_times(figures):
    rows = []
    for stem in SCRIPTS:
        r = _load(figures, stem)
        if r:
            m = r["meta"]
            rows.append([f"`{stem}.py`", f"{m['wall_time_s']:.1f} s", m["device"],
                         m.get("dataset", "-"), m["torch_version"]])
    return _table(["script", "wall time (full default run)", "device", "data set", "torch"], rows)


SCRIPTS = ["hw1_1_simulate_function", "hw1_1_mnist_cnn", "hw1_2_optimization",
           "hw1_2_grad_norm", "hw1_3_interpolation", "hw1_3_sensitivity"]
TABLES = {"fits": ("hw1_1_simulate_function", table_fits), "cnn": ("hw1_1_mnist_cnn", table_cnn),
          "optimization": ("hw1_2_optimization", table_optimization),
          "grad_norm": ("hw1_2_grad_norm", table_grad_norm),
          "interpolation": ("hw1_3_interpolation", table_interpolation),
          "sensitivity": ("hw1_3_sensitivity", table_sensitivity)}


def render(figures, name):
    if name == "wall_times":
        return table_wall_times(figures)
    if name == "bench":
        path = Path(__file__).resolve().parents[1] / "benchmarks" / "results_cpu.md"
        return path.read_text().strip() if path.exists() else "_(run benchmarks/bench.py)_"
    stem, fn = TABLES[name]
    r = _load(figures, stem)
    return fn(r) if r else f"_(no {stem}.json yet: run `python {stem}.py`)_"


def update(text, figures):
    def replace(match):
        name = match.group(1)
        return f"<!-- table:{name} -->\n{render(figures, name)}\n<!-- /table:{name} -->"
    return re.sub(r"<!-- table:(\w+) -->.*?<!-- /table:\1 -->", replace, text, flags=re.S)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--figures", default="figures", help="folder of the JSON results")
    parser.add_argument("--readme", default="README.md", help="file whose tables are rewritten")
    parser.add_argument("--check", action="store_true", help="only report whether it is current")
    args = parser.parse_args(argv)
    readme = Path(args.readme)
    old = readme.read_text()
    new = update(old, args.figures)
    if args.check:
        if new != old:
            print(f"{readme} tables are out of date: run python -m common.report", file=sys.stderr)
            return 1
        return 0
    if new != old:
        readme.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Regenerate the README's result tables and every number quoted in its prose from the JSON files.

    python -m common.report [--figures figures] [--readme README.md] [--check]

Two kinds of markers in README.md are filled in:
  <!-- table:NAME --> ... <!-- /table:NAME -->   a whole table (everything between is replaced);
  <!--v:KEY-->text<!--/v-->                      one value inside a sentence (hidden when rendered),
where KEY names an entry of values(): e.g. `fits.sinc.converged` or `sens.peak_batch`.
--check exits 1 (and changes nothing) when README.md is out of date; a broken JSON file or an
unknown marker is an error (one line, exit 2).
"""
import argparse
import re
import sys
from pathlib import Path

import numpy as np

from common.errors import ScriptError
from common.outputs import atomic_write, read_json

SCRIPTS = ["hw1_1_simulate_function", "hw1_1_mnist_cnn", "hw1_2_optimization",
           "hw1_2_grad_norm", "hw1_3_random_labels", "hw1_3_params_generalization",
           "hw1_3_interpolation", "hw1_3_sensitivity"]
# Short marker names of the function-fit targets; another target is quoted as fits.<its name with
# every run of non-word characters replaced by _>, e.g. fits.cos_3πx_ for cos(3πx).
TARGET_KEYS = {"sin(5πx)": "sin", "sin(5πx)/(5πx)": "sinc", "5πx·sin(5πx)": "xsin",
               "sign(sin(5πx))": "square"}
DOCUMENTS = ("README.md", "benchmarks/README.md")   # the files a plain run keeps current
TABLE_RE = re.compile(r"<!-- table:(\w+) -->.*?<!-- /table:\1 -->", re.S)
VALUE_RE = re.compile(r"<!--v:([\w.\-]+)-->(.*?)<!--/v-->")


def load(figures, stem):
    """The JSON of script `stem` in `figures`, or None when it has not been run."""
    path = Path(figures) / f"{stem}.json"
    return read_json(path, f"{stem}.py results") if path.exists() else None


# --- formatting ------------------------------------------------------------------------------

def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def pct(x):
    return f"{100 * x:.2f}%"


def sci(x):
    """Three significant digits, scientific below 1e-2: 0.358, 3.52e-04."""
    return f"{x:.2e}" if abs(x) < 1e-2 and x != 0 else f"{x:.3g}"


def p_floor(p):
    """p to two significant digits, rounded down: a true lower bound ('p ≥ 0.37' for 0.3755)."""
    if p <= 0:
        return "0"
    k = 1 - int(np.floor(np.log10(p)))
    return f"{np.floor(p * 10 ** k) / 10 ** k:.{max(k, 0)}f}".rstrip("0").rstrip(".")


def p_text(p):
    return "p < 1e-4" if p < 1e-4 else f"p = {p:.2g}"


def trend_text(t):
    """'falls (Spearman ρ = -0.97, 95 % CI -0.99 to -0.93, p < 1e-4, n = 24)'."""
    if t["verdict"] == "not tested":
        return f"not tested (n = {t['n']})"
    ci = f", 95 % CI {t['ci95'][0]:.2f} to {t['ci95'][1]:.2f}" if t["ci95"] else ""
    return f"{t['verdict']} (Spearman ρ = {t['effect']:.2f}{ci}, {p_text(t['p'])}, n = {t['n']})"


def correlation_text(t):
    """'0.98 (95 % CI 0.95 to 0.99, p < 1e-4, n = 24)'."""
    if t["verdict"] == "not tested":
        return f"not tested (n = {t['n']})"
    ci = f"95 % CI {t['ci95'][0]:.2f} to {t['ci95'][1]:.2f}, " if t["ci95"] else ""
    return f"{t['effect']:.2f} ({ci}{p_text(t['p'])}, n = {t['n']})"


def n_text(c):
    """'5 + 5' for two groups, '5 pairs' for a paired test, '24' for one sample."""
    if not isinstance(c["n"], list):
        return str(c["n"])
    return f"{c['n'][0]} pairs" if c.get("test") == "paired t" else " + ".join(map(str, c["n"]))


def compare_text(c, scale=1.0, fmt="{:.3g}"):
    """'lower (Welch's t: difference -2.6, 95 % CI -4.1 to -1.1, p = 0.004, n = 5 + 5)'."""
    n = n_text(c)
    if c["verdict"] == "not tested":
        return f"not tested (n = {n}: a group with one seed)"
    lo, hi = (fmt.format(scale * v) if v is not None else "?" for v in c["ci95"])
    return (f"{c['verdict']} ({c['test']}: difference {fmt.format(scale * c['effect'])}, "
            f"95 % CI {lo} to {hi}, {p_text(c['p'])}, n = {n})")


def short_text(v):
    """'lower (p = 0.004, n = 5 + 5)' / 'falls (ρ = -0.97, p < 1e-4, n = 24)': the verdict first."""
    if v["verdict"] == "not tested":
        return "not tested"
    n = n_text(v)
    rho = f"ρ = {v['effect']:.2f}, " if v["test"] == "Spearman" else ""
    return f"{v['verdict']} ({rho}{p_text(v['p'])}, n = {n})"


def endpoint_label(ep):
    return f"batch {ep['batch_size']}, lr {ep['lr']:g}"


# --- tables ----------------------------------------------------------------------------------

def table_fits(r):
    """One row per model, one column per target: median final MSE [interquartile range] and
    the seeds converged."""
    targets = list(r["fits"])
    rows = []
    for name, model in r["models"].items():
        cells = []
        for fname in targets:
            fit = r["fits"][fname][name]
            q1, med, q3 = fit["final_quartiles"]
            conv = sum(e is not None for e in fit["convergence_epoch"])
            cells.append(f"{sci(med)} [{sci(q1)}, {sci(q3)}]; {conv}/{len(fit['final_loss'])}")
        rows.append([name, f"{model['n_params']:,}", *cells])
    return _table(["model", "params", *targets], rows)


def pm(stat, fmt):
    """'88.12% ± 0.21%' style cell from a {'mean', 'std'} record."""
    return f"{fmt(stat['mean'])} ± {fmt(stat['std'])}"


def table_cnn(r):
    rows = []
    for name, m in r["models"].items():
        f = m["final"]
        rows.append([name, m["conv_layers"], f"{m['n_params']:,}",
                     pm(f["test_acc"], pct), pm(f["test_loss"], "{:.3f}".format),
                     pm(f["train_acc"], pct)])
    return _table(["model", "conv layers", "params", "test acc", "test loss",
                   "train-subset acc"], rows)


def table_grad_norm(r):
    parts = [r["minimal_ratio"], r["minimal_ratio_relu"]]

    def spread(mr, key, fmt):
        v = np.asarray([t[key] for t in mr["trainings"]])
        return f"{fmt(v.min())} / {fmt(np.median(v))} / {fmt(v.max())}"

    def reached(mr, threshold):
        return f"{sum(t['grad_norm'] < threshold for t in mr['trainings'])} of {len(mr['trainings'])}"
    body = [[f"reached ‖∇L‖ < {t:g}"] + [reached(mr, t) for mr in parts] for t in (1e-3, 1e-4, 1e-6)]
    for label, key, fmt in (("final ‖∇L‖", "grad_norm", "{:.1e}".format),
                            ("final MSE", "loss", "{:.1e}".format),
                            ("minimal ratio", "minimal_ratio", "{:.3f}".format),
                            ("ratio among non-zero eigenvalues", "ratio_nonzero", "{:.3f}".format),
                            ("negative eigenvalues", "n_negative", "{:.0f}".format),
                            ("near-zero eigenvalues", "n_zero", "{:.0f}".format)):
        body.append([label] + [spread(mr, key, fmt) for mr in parts])
    summaries = [r["summary"]["minimal_ratio"], r["summary"]["minimal_ratio_relu"]]
    for tol in summaries[0]["classification"]["minima"]:
        body.append([f"minima (no eigenvalue below -{tol}·max ∣λ∣)"] +
                    [f"{s['classification']['minima'][tol]} of {s['classification']['points']}"
                     for s in summaries])
    for i, step in enumerate(summaries[0]["escape"]["steps"]):
        def cell(s):
            e = s["escape"]["steps"][i]
            q = e["ratio_quartiles"]
            return (f"{e['even_negative']} of {s['escape']['curved']}; "
                    f"{q[0]:.3f} / {q[1]:.3f} / {q[2]:.3f}" if q else "-")
        body.append([f"escape, t = {step['step']:g}: even part < 0; even / (½λt²) quartiles"] +
                    [cell(s) for s in summaries])
    header = ["quantity (min / median / max)"] + [f"{mr['activation']} {'-'.join(map(str, mr['sizes']))} "
                             f"({mr['n_params']:,} params)" for mr in parts]
    return _table(header, body)


def seed_cell(r, s, key, fmt):
    """'mean ± std' of s[key] when the run has several seeds, else the single value."""
    v = s[key]
    return fmt(v["mean"]) + (f" ± {fmt(v['std'])}" if len(r["seeds"]) > 1 else "")


def table_random_labels_slowdown(r):
    rows = []
    for row in r["summary"]["slowdown"]["thresholds"]:
        def epochs(run):
            return per_seed(str(e) if e else "-" for e in row[run])
        mean = "not tested" if row["geo_mean"] is None or row["ci95"] is None else \
            f"{row['geo_mean']:.2f} ({row['ci95'][0]:.2f} to {row['ci95'][1]:.2f})"
        if row["ci95"] and row["ci95"][0] == row["ci95"][1]:
            mean = f"{row['geo_mean']:.2f} (all seeds equal)"
        p_holm = p_text(row["p_holm"]) if row.get("p_holm") is not None else "-"
        test = (f"{row['verdict']} ({p_holm}, n = {row['n']})" if not (
            row["ci95"] and row["ci95"][0] == row["ci95"][1]) else
            f"{row['verdict']} by rule (no spread, no t-test; n = {row['n']})")
        rows.append([f"{100 * row['threshold']:g}%", epochs("true"), epochs("random"),
                     f"at least {min(row['ratio_bound']):g}" if row["lower_bound"] else mean,
                     test])
    return _table(["training accuracy", "first epoch there: true labels", "random labels",
                   "slowdown: geometric mean (95 % CI)", "longer? (Holm)"], rows)


def per_seed(values):
    """'a / b / c': one value per seed, in seed order."""
    return " / ".join(values)


def values_random_labels(r):
    seeds = r["per_seed"]
    true = [s["runs"]["true labels"] for s in seeds]
    rand = [s["runs"]["random labels"] for s in seeds]
    reached = {run: [s["epochs_to_target"][run] for s in seeds] for run in ("true labels", "random labels")}

    def epochs(run, runs):
        return per_seed(str(e) if e else f"more than {len(h['train_acc'])}"
                        for e, h in zip(reached[run], runs))
    best = [int(np.argmin(h["test_loss"])) for h in rand]
    ratios = [f"{b / a:.1f}" if a and b else "n/a"
              for a, b in zip(reached["true labels"], reached["random labels"])]
    return {
        "rl.n_params": f"{r['n_params']:,}", "rl.train_samples": f"{r['train_samples']:,}",
        "rl.target": f"{100 * r['target_acc']:g}%", "rl.seeds": str(len(seeds)),
        "rl.seed_list": ", ".join(str(s["seed"]) for s in seeds),
        "rl.agreement": per_seed(pct(s["label_agreement"]) for s in seeds),
        "rl.epochs_true": epochs("true labels", true),
        "rl.epochs_random": epochs("random labels", rand),
        "rl.ratio": per_seed(ratios),
        "rl.fitted": f"{r['summary']['fitted']} of {r['summary']['seeds']}",
        "rl.longer": compare_text(r["summary"]["longer"], fmt="{:.3g}"),
        "rl.longer_short": short_text(r["summary"]["longer"]),
        "rl.epochs": per_seed(str(len(h["train_acc"])) for h in rand),
        "rl.rand_test_acc": per_seed(pct(h["test_acc"][-1]) for h in rand),
        "rl.rand_test_acc_range": f"{pct(min(min(h['test_acc']) for h in rand))} to "
                                  f"{pct(max(max(h['test_acc']) for h in rand))}",
        "rl.rand_best_epoch": per_seed(str(b + 1) for b in best),
        "rl.rand_best_loss": per_seed(f"{h['test_loss'][b]:.3f}" for h, b in zip(rand, best)),
        "rl.rand_final_loss": per_seed(f"{h['test_loss'][-1]:.3f}" for h in rand),
        "rl.true_test_acc": per_seed(pct(h["test_acc"][-1]) for h in true),
        "rl.true_final_loss": per_seed(f"{h['test_loss'][-1]:.3f}" for h in true),
        "rl.true_best_epoch": per_seed(str(int(np.argmin(h["test_loss"])) + 1) for h in true),
        "rl.true_best_loss": per_seed(f"{min(h['test_loss']):.3f}" for h in true),
        **slowdown_values(r["summary"]["slowdown"]),
    }


def slowdown_values(s):
    """rl.slowdown_*: how many thresholds, at which the slowdown is detected, its range."""
    rows = s["thresholds"]
    first, last = rows[0], rows[-1]
    bounds = [row for row in rows if row["lower_bound"]]
    longer = s["longer_at"]
    by_rule = [f"{100 * row['threshold']:g}%" for row in rows
               if row["ci95"] and row["ci95"][0] == row["ci95"][1]]
    if longer and len(longer) == len(rows):
        answer = f"longer at every one of the {len(rows)} thresholds"
        if by_rule:
            answer += f" ({len(by_rule)} of them, {', '.join(by_rule)}, by rule: no spread)"
    elif longer:
        answer = (f"longer at {len(longer)} of the {len(rows)} thresholds "
                  f"({', '.join(f'{100 * t:g}%' for t in longer)})")
    else:
        answer = f"no slowdown detected at any of the {len(rows)} thresholds"

    def ratio(row):
        if row["geo_mean"] is None:
            return "not measured"
        if row["lower_bound"]:
            return f"at least {min(row['ratio_bound']):g}×"
        return f"{row['geo_mean']:.1f}×"
    exact = next((row for row in rows if not row["lower_bound"] and row["geo_mean"]), None)
    return {
        "rl.slowdown_answer": answer, "rl.slowdown_n": str(len(rows)),
        "rl.slowdown_from": f"{100 * first['threshold']:g}%",
        "rl.slowdown_to": f"{100 * last['threshold']:g}%",
        "rl.slowdown_first": ratio(first), "rl.slowdown_last": ratio(last),
        "rl.slowdown_bound_to": f"{100 * bounds[-1]['threshold']:g}%" if bounds else "none",
        "rl.slowdown_exact_from": f"{100 * exact['threshold']:g}%" if exact else "none",
        "rl.slowdown_exact_ratio": ratio(exact) if exact else "not measured",
    }


def table_params(r):
    rows = []
    for w in r["widths"]:
        run = r["runs"][str(w)]
        rows.append([w, f"{run['n_params']:,}", pm(run["train_loss"], "{:.3f}".format),
                     pm(run["test_loss"], "{:.3f}".format), pm(run["train_acc"], pct),
                     pm(run["test_acc"], pct),
                     f"{run['test_loss']['mean'] - run['train_loss']['mean']:.3f}"])
    return _table(["width h", "params", "train loss", "test loss", "train acc", "test acc",
                   "test − train loss"], rows)


def values_params(r):
    runs = [r["runs"][str(w)] for w in r["widths"]]
    params = [x["n_params"] for x in runs]
    acc = [x["test_acc"]["mean"] for x in runs]
    loss = [x["test_loss"]["mean"] for x in runs]
    gap = [x["test_loss"]["mean"] - x["train_loss"]["mean"] for x in runs]
    s = r["summary"]
    best = r["widths"].index(s["saturation"]["best"])
    sat = r["widths"].index(s["saturation"]["plateau_from"] or r["widths"][-1])
    low = r["widths"].index(s["lowest_test_loss"]["best"])
    tie = [w for w in s["lowest_test_loss"]["not_worse"] if w != r["widths"][low]]
    sat_p = min((s["saturation"]["p_holm"][str(w)] for w in r["widths"][sat:]
                 if str(w) in s["saturation"]["p_holm"]), default=1.0)
    weak = [w for w in s["saturation"]["not_worse"]
            if s["saturation"]["plateau_from"] is not None and w < s["saturation"]["plateau_from"]]
    return {
        "pg.n": str(len(runs)), "pg.seeds": str(len(r["seeds"])),
        "pg.range": f"{params[0]:,} to {params[-1]:,}",
        "pg.best_acc": f"{pct(acc[best])} at {params[best]:,} parameters",
        "pg.saturation": (f"{params[sat]:,} parameters (width {r['widths'][sat]}, "
                          f"{pct(acc[sat])})" if s["saturation"]["plateau_from"] is not None else
                          "no width (the widest is detectably below the best)"),
        "pg.saturation_rule": (f"from that width on, no width's test accuracy is detectably below "
                               f"the best's ({s['saturation']['test']}, n = "
                               f"{s['saturation']['n']} seeds each; p ≥ {p_floor(sat_p)})"),
        "pg.not_worse_below": (
            "with " + str(s["saturation"]["n"]) + " seeds the test is weak: even width" +
            ("s " if len(weak) > 1 else " ") + ", ".join(map(str, weak)) +
            " (" + ", ".join(pct(acc[r["widths"].index(w)]) for w in weak) + ") "
            + ("are" if len(weak) > 1 else "is") + " not detectably below the best"
            if weak else "every narrower width is detectably below the best"),
        "pg.loss_ties": (f"not detectably above it ({s['lowest_test_loss']['test']}, n = "
                         f"{s['lowest_test_loss']['n']} seeds each): "
                         + (f"width{'s' if len(tie) > 1 else ''} {', '.join(map(str, tie))}"
                            if tie else "no other width")),
        "pg.small_acc": f"{pct(acc[0])} at {params[0]:,}",
        "pg.lowest_loss": f"{loss[low]:.4f} at {params[low]:,} parameters",
        "pg.last_loss": f"{loss[-1]:.4f} at {params[-1]:,}",
        "pg.gap": f"{gap[0]:.4f} at {params[0]:,}, {gap[sat]:.4f} at {params[sat]:,} and "
                  f"{gap[-1]:.4f} at {params[-1]:,} parameters",
        "pg.last_train_acc": pct(runs[-1]["train_acc"]["mean"]),
        "pg.gap_trend": trend_text(r["summary"]["trend"]["gap"]),
        "pg.gap_short": short_text(r["summary"]["trend"]["gap"]),
    }


def table_matched(r):
    if "matched" not in r:
        return "(no matched-training run in this JSON: it was run with --target-train-loss 0)"
    m = r["matched"]
    g3, f4 = "{:.3g}".format, "{:.4f}".format
    columns = [("epochs", "epochs", "{:.1f}".format), ("SGD steps", "steps", "{:.0f}".format),
               ("train loss", "train_loss", f4), ("test acc", "test_acc", pct),
               *((f"ε-sharpness {e} (%)", f"sharpness_{e}", g3) for e in r["epsilons"]),
               ("top Hessian eigenvalue", "hessian_max_eig", g3),
               ("sensitivity (softmax)", "sensitivity", "{:.3f}".format)]
    rows = [[b, f"{m['lrs'][str(b)]:.3g}",
             *(seed_cell(m, m["runs"][str(b)], key, fmt) for _, key, fmt in columns)]
            for b in m["batch_sizes"]]
    return _table(["batch", "lr", *(header for header, _, _ in columns)], rows)


# Full-default-run budgets on a 2-core CPU (seconds), with the seed counts of the scripts'
# defaults: every script at most 15 minutes, the CNN script 20, the whole suite 60.
BUDGETS = {stem: 15 * 60 for stem in SCRIPTS} | {"hw1_1_mnist_cnn": 20 * 60}
SUITE_BUDGET = 60 * 60
MEMORY_BUDGET_MB = 4096


def table_wall_times(figures):
    rows, total = [], 0.0
    for stem in SCRIPTS:
        r = load(figures, stem)
        if r:
            m = r["meta"]
            used = str(m.get("threads", "-"))
            peak = m.get("peak_memory_mb", {})
            memory = peak.get("process_rss", 0)
            budget = BUDGETS[stem]
            total += m["wall_time_s"]
            rows.append([f"`{stem}.py`", f"{m['wall_time_s']:.1f} s",
                         f"{budget} s ({'within' if m['wall_time_s'] <= budget else 'OVER'})",
                         f"{memory:,.0f} MiB" if memory else "-",
                         used, m["device"], m.get("cpu_cores", "-"),
                         m.get("dataset", "-"), m["torch_version"]])
    rows.append(["**all eight**", f"**{total:.0f} s ({total / 60:.1f} min)**",
                 f"{SUITE_BUDGET} s ({'within' if total <= SUITE_BUDGET else 'OVER'})",
                 f"budget {MEMORY_BUDGET_MB:,} MiB", "", "", "", "", ""])
    return _table(["script", "wall time (full default run)", "budget", "peak memory (RSS)",
                   "torch threads",
                   "device", "cores", "data set", "torch"], rows)


TABLES = {"fits": ("hw1_1_simulate_function", table_fits), "cnn": ("hw1_1_mnist_cnn", table_cnn),
          "grad_norm": ("hw1_2_grad_norm", table_grad_norm),
          "random_labels_slowdown": ("hw1_3_random_labels", table_random_labels_slowdown),
          "params": ("hw1_3_params_generalization", table_params),
          "matched": ("hw1_3_sensitivity", table_matched)}
FILES = {"bench": "results_cpu.md", "threads": "threads_cpu.md", "suite": "suite_cpu.md"}


def table_suite_summary(figures):
    """The 'Whole suite' rows of benchmarks/suite_cpu.md (priced both ways, the ratio), with
    each script's measured wall time taken from its committed JSON."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / FILES["suite"]
    if not path.exists():
        return "_(run benchmarks/suite.py)_"
    text = path.read_text()
    if "**Whole suite**" not in text:
        raise ScriptError(f"{path} has no 'Whole suite' table: rerun benchmarks/suite.py")
    rows = [line for line in text.split("**Whole suite**", 1)[1].strip().split("\n\n")[0]
            .splitlines()[2:]]
    out, total = [], 0.0
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        stem = cells[0].strip("`*").removesuffix(".py")
        if stem in SCRIPTS:
            r = load(figures, stem)
            wall = r["meta"]["wall_time_s"] if r else float("nan")
            total += wall
            out.append(cells[:4] + [f"{wall / 60:.1f} min ({'within' if wall <= BUDGETS[stem] else 'OVER'} "
                                    f"{BUDGETS[stem] // 60})"])
        else:
            out.append(cells[:4] + [f"**{total / 60:.1f} min ({'within' if total <= SUITE_BUDGET else 'OVER'} "
                                    f"{SUITE_BUDGET // 60})**"])
    return _table(["script", "usual way (priced)", "this project (priced)", "ratio",
                   "full run measured (its JSON; budget, min)"], out)


def render_table(figures, name):
    if name == "wall_times":
        return table_wall_times(figures)
    if name == "suite_summary":
        return table_suite_summary(figures)
    if name in FILES:
        path = Path(__file__).resolve().parents[1] / "benchmarks" / FILES[name]
        return path.read_text().strip() if path.exists() else "_(run the benchmark)_"
    if name not in TABLES:
        raise ScriptError(f"README names an unknown table {name!r}")
    stem, fn = TABLES[name]
    r = load(figures, stem)
    return fn(r) if r else f"_(no {stem}.json yet: run `python {stem}.py`)_"


# --- values quoted in the prose --------------------------------------------------------------

def target_key(name):
    """Marker name of a function-fit target (TARGET_KEYS, else its name's word characters)."""
    return TARGET_KEYS.get(name) or re.sub(r"\W+", "_", name)


def values_fits(r):
    models, fits = r["models"], r["fits"]
    v = {"fits.points": str(len(r["x"])), "fits.epochs": str(r["meta"]["config"]["epochs"]),
         "fits.seeds": str(len(r["seeds"])),
         "fits.params_range": f"{min(m['n_params'] for m in models.values()):,} to "
                              f"{max(m['n_params'] for m in models.values()):,}"}
    depth = [n for n in models if models[n]["series"] == "depth"]
    for fname, per_model in fits.items():
        t = f"fits.{target_key(fname)}"
        med = {n: per_model[n]["final_quartiles"][1] for n in per_model}
        ranked = r["summary"][fname]
        best = ranked["depth"]["order"][0]
        v[f"{t}.depth_best"] = f"{best} ({models[best]['depth']} hidden, median {sci(med[best])})"
        v[f"{t}.depth_medians"] = ", ".join(f"{n} {sci(med[n])}" for n in depth)
        v[f"{t}.depth_verdict"] = ranking_text(ranked["depth"])
        conv = {n: sum(e is not None for e in per_model[n]["convergence_epoch"]) for n in depth}
        v[f"{t}.depth_converged"] = ", ".join(f"{n} {conv[n]}" for n in depth)
        orig = [n for n in per_model if n.startswith("M")]
        v[f"{t}.original_medians"] = ", ".join(f"{n} {sci(med[n])}" for n in orig)
        v[f"{t}.original_best"] = ranked["original"]["order"][0]
        v[f"{t}.original_verdict"] = ranking_text(ranked["original"])
        v[f"{t}.amplitude"] = f"{max(abs(y) for y in r['targets'][fname]):.3g}"
        shallowest = ranked["shallowest"]
        falling = ranked["shallowest_still_falling"]
        trend = {"lower": "still falling", "higher": "rising"}.get(falling["verdict"],
                                                                   "no change detected")
        v[f"{t}.shallowest_falling"] = (
            f"{trend} from "
            f"{int(list(per_model[shallowest]['loss_at'])[-2]):,} to "
            f"{int(list(per_model[shallowest]['loss_at'])[-1]):,} epochs "
            f"({short_text(falling)}, paired t on log10 MSE)")
        v[f"{t}.depth_leader"] = leader_text(ranked["leader"]["depth"])
    v["fits.depth_answer"] = depth_answer(r, r["summary"][next(iter(fits))]["shallowest"])
    falling = [r["summary"][f]["shallowest_still_falling"] for f in fits]
    down = [t for t in falling if t["verdict"] == "lower"]
    v["fits.shallowest_falling_all"] = (
        (f"on all {len(fits)} targets" if len(down) == len(fits) else
         f"on {len(down)} of the {len(fits)} targets") +
        f" (paired t on log10 MSE, n = {down[0]['n'][0]} pairs, each p < "
        f"{10 ** np.ceil(np.log10(max(t['p'] for t in down))):.0e})" if down else
        f"on none of the {len(fits)} targets (paired t on log10 MSE)")
    changed = [f for f in fits if r["summary"][f]["leader"]["depth"]["changes"]]
    v["fits.budgets"] = " / ".join(f"{int(e):,}" for e in r["budgets"])
    v["fits.leader_changes"] = (f"on {len(changed)} of {len(fits)} targets ({', '.join(changed)})"
                                if changed else f"on none of the {len(fits)} targets")
    return v


def leader_text(lead):
    """'the same at every budget: D2 (top group D2, M1)' / 'changes: D1 at 1,000 epochs (top
    group D1), D2 at 3,000 (top group D2, M1)'."""
    parts = [f"{lead['best'][e]} at {int(e):,} epochs (not detectably worse: "
             f"{', '.join(n for n in lead['top_group'][e] if n != lead['best'][e]) or 'none'})"
             for e in lead["best"]]
    return ("changes with the budget: " if lead["changes"] else
            "no change detected: ") + "; ".join(parts)


def depth_answer(r, shallowest):
    """'Yes, on all 4 targets: ...' from each target's models that beat the shallowest one."""
    beaten = {f: r["summary"][f]["beat_shallowest"] for f in r["fits"]}
    k, n = sum(bool(b) for b in beaten.values()), len(beaten)
    head = (f"Yes, on all {n} targets" if k == n else f"On {k} of {n} targets" if k else
            f"No difference detected on any of the {n} targets")
    won = "; ".join(f"{f}: {', '.join(b)}" for f, b in beaten.items() if b)
    rest = ", ".join(f for f, b in beaten.items() if not b)
    text = head
    if won:
        text += (f": at least one deeper net ends with a lower MSE than {shallowest} (Welch's t "
                 f"on log10 MSE, Holm: {won})")
    if rest and k:
        text += f"; no difference detected on {rest}"
    return text


def values_cnn(r):
    models = r["models"]
    acc = {n: models[n]["final"]["test_acc"] for n in models}
    n_epochs = len(models[next(iter(models))]["runs"][0]["history"]["test_acc"])
    best_epochs = {n: int(np.argmax(np.mean([run["history"]["test_acc"] for run in m["runs"]],
                                            axis=0))) + 1 for n, m in models.items()}
    gaps = [m["final"]["test_loss"]["mean"] - m["final"]["train_loss"]["mean"]
            for m in models.values()]
    v = {"cnn.epochs": str(n_epochs), "cnn.seeds": str(len(r["seeds"])),
         "cnn.original_params": " / ".join(f"{m['n_params']:,}" for m in models.values()
                                           if m["series"] == "original"),
         "cnn.gap_range": f"{min(gaps):.3f} to {max(gaps):.3f}",
         "cnn.best_epochs": ("the last epoch for every model" if set(best_epochs.values()) ==
                             {n_epochs} else "; ".join(
                                 f"epoch {e} for {', '.join(n for n in best_epochs if best_epochs[n] == e)}"
                                 for e in sorted(set(best_epochs.values()))))}
    trade = Path(__file__).resolve().parents[1] / "benchmarks" / "cnn_15_epochs.json"
    if trade.exists():
        acc15 = read_json(trade)["test_acc"]
        gains = [100 * (a[14] - a[n_epochs - 1]) for a in acc15.values()]
        v["cnn.trade"] = (f"{min(gains):.1f} to {max(gains):.1f} percentage points "
                          f"({', '.join(acc15)}, one seed)")
    for series in ("depth", "original"):
        names = [n for n in models if models[n]["series"] == series]
        ranked = sorted(names, key=lambda n: -acc[n]["mean"])
        v[f"cnn.{series}_accs"] = ", ".join(f"{n} {pm(acc[n], pct)}" for n in ranked)
        v[f"cnn.{series}_verdict"] = ranking_text(r["summary"][series])
    s = r["summary"]
    for series in ("depth", "original"):
        v[f"cnn.{series}_budgets"] = "; ".join(f"after {int(e)} epochs [{b[series]['text']}]"
                                               for e, b in s["budgets"].items())
    rising = s["still_rising"]
    up = [n for n, t in rising.items() if t["verdict"] == "still rising"]
    v["cnn.rising_window"] = str(s["rising_window"])
    v["cnn.budget_list"] = " and ".join(s["budgets"])
    v["cnn.rising"] = "; ".join(f"{n} {100 * t['effect']:+.2f} points (Holm-corrected "
                                f"{p_text(t['p_holm'])})"
                                for n, t in rising.items() if t["p"] is not None) or "not tested"
    tested = [t for t in rising.values() if t["p"] is not None]
    v["cnn.rising_short"] = (
        f"{min(100 * t['effect'] for t in tested):+.2f} to "
        f"{max(100 * t['effect'] for t in tested):+.2f} points, Holm-corrected p "
        f"{min(t['p_holm'] for t in tested):.2g} to {max(t['p_holm'] for t in tested):.2g}, "
        f"n = {tested[0]['n']} each" if tested else "not tested")
    who = (f"all {len(rising)} models are" if len(up) == len(rising) else
           f"{len(up)} of {len(rising)} models ({', '.join(up)}) are" if up else "")
    v["cnn.rising_answer"] = (
        f"{who} still rising when training stops, so these are rankings at a budget, not of "
        "trained-out models" if up else
        f"none of the {len(rising)} models is detectably still rising when training stops")
    ever_above = sorted({n for b in s["budgets"].values() for n in b["above_shallowest"]})
    v["cnn.budget_answer"] = (
        f"at no budget does a deeper CNN come out above {s['shallowest']}" if not ever_above else
        f"{', '.join(ever_above)} come out above {s['shallowest']} at some budget")
    above, below = s["above_shallowest"], s["below_shallowest"]
    v["cnn.depth_answer"] = (
        f"Yes: {', '.join(above)} above {s['shallowest']}" +
        (f" ({', '.join(below)} below it)" if below else "") if above else
        f"No: no deeper CNN beats {s['shallowest']}, and {', '.join(below)} "
        f"{'is' if len(below) == 1 else 'are'} below it" if below else
        f"No difference detected between {s['shallowest']} and the deeper CNNs")
    return v


def ranking_text(rank):
    """'C1 > C4 (p = 0.0013), C2 > C4 (p = 0.0014); no difference detected (p ≥ 0.93): C1–C2
    (Welch's t, Holm-corrected, n = 5 each)': every pair once, with its Holm-corrected p."""
    ns = sorted({n for q in rank["pairs"] for n in q["n"]})
    n = f"n = {ns[0]} each" if len(ns) == 1 else "n = " + "/".join(map(str, ns))
    pos = {name: i for i, name in enumerate(rank["order"])}
    better, same, untested = [], [], []
    for q in sorted(rank["pairs"], key=lambda q: sorted((pos[q["a"]], pos[q["b"]]))):
        first, second = sorted((q["a"], q["b"]), key=pos.get)
        if q.get("p_holm") is None:
            untested.append(f"{first}–{second}")
        elif q["verdict"] != "no difference detected":
            better.append(f"{first} > {second} ({p_text(q['p_holm'])})")
        else:
            same.append((first, second, q["p_holm"]))
    parts = [", ".join(better)] if better else []
    if same:
        parts.append(f"no difference detected (p ≥ {p_floor(min(p for *_, p in same))}): " +
                     ", ".join(f"{a}–{b}" for a, b, _ in same))
    if untested:
        parts.append(f"not tested (one seed): {', '.join(untested)}")
    return f"{'; '.join(parts)} ({rank['test']}, {n})"


def values_optimization(r):
    acc = np.asarray(r["test_acc"])[:, -1]
    ev = {k: r["pca"][k]["explained_variance_ratio"] for k in ("fc1", "whole")}
    coords = np.asarray(r["pca"]["whole"]["coords"])

    def mean_pairwise(points):
        d = points[:, None, :] - points[None, :, :]
        n = len(points)
        return np.sqrt((d ** 2).sum(-1)).sum() / (n * (n - 1))
    return {
        "opt.runs": str(r["runs"]), "opt.n_params": f"{r['n_params']:,}",
        "opt.acc": f"{pct(r['summary']['test_acc']['mean'])} ± {pct(r['summary']['test_acc']['std'])}",
        "opt.acc_range": f"{pct(acc.min())} and {pct(acc.max())}",
        "opt.ev_fc1": f"{pct(ev['fc1'][0])} / {pct(ev['fc1'][1])}",
        "opt.ev_whole": f"{pct(ev['whole'][0])} / {pct(ev['whole'][1])}",
        "opt.inv_runs": f"{100 / (r['runs'] - 1):.0f}%",
        "opt.fc1_share": f"{100 * r['pca']['fc1']['n_params'] / r['n_params']:.0f}%",
        "opt.end_vs_start": f"{mean_pairwise(coords[:, -1]) / mean_pairwise(coords[:, 0]):.2f}",
        "opt.snapshot_mb": f"{r['snapshot_storage_mb']:.0f}",
    }


def values_surfaces(r):
    s = r["surfaces"]
    path, rand = s["path_plane"], s["random_plane"]
    loss = np.asarray(path["loss"])
    centre = loss[path["a"].index(0.0), path["b"].index(0.0)]
    rl = np.asarray(rand["loss"])
    mid = len(rand["alpha"]) // 2
    edges = [rl[0, mid], rl[-1, mid], rl[mid, 0], rl[mid, -1]]
    low = np.unravel_index(np.argmin(rl), rl.shape)
    summary = r["summary"]
    t = s["slices"]["t"]
    centre_of = {n.split(",")[0]: c[t.index(0.0)] for n, c in s["slices"]["loss"].items()}
    rise = summary["slice_rise"]
    ends = {run: [(c[0] + c[-1]) / 2 for n, c in s["slices"]["loss"].items()
                  if n.split(",")[0] == run] for run in rise}
    test = summary["rise_comparison"]
    if test["verdict"] in ("higher", "lower"):
        steeper = test["b"] if test["verdict"] == "higher" else test["a"]
        verdict = f"{steeper} rises more steeply ({short_text(test)}, Welch's t over directions)"
    elif test["verdict"] == "not tested":
        verdict = (f"the two trainings' rises were not compared (n = {n_text(test)} directions: "
                   "a test needs two per training)")
    else:
        ci = test["ci95"]
        verdict = (f"with {n_text(test)} random directions no difference in the rise was "
                   f"detected (Welch's t on loss(±1) / loss(0) over directions, "
                   f"{p_text(test['p'])}, 95 % CI {ci[0]:.3g} to {ci[1]:.3g}): so few "
                   "directions cannot rank the two trainings' flatness")
    return {
        "surf.grid": f"{len(path['a'])} × {len(path['b'])}",
        "surf.random_grid": f"{len(rand['alpha'])} × {len(rand['beta'])}",
        "surf.samples": f"{s['eval_samples']:,}",
        "surf.path_ev": f"{pct(path['explained_variance_ratio'][0])} / "
                        f"{pct(path['explained_variance_ratio'][1])}",
        "surf.final_loss": sci(centre),
        "surf.plane_range": f"{sci(loss.min())} to {sci(loss.max())}",
        "surf.random_edges": f"{sci(min(edges))} to {sci(max(edges))}",
        "surf.random_min": ("the final model itself" if low == (mid, mid) else
                            f"(α, β) = ({rand['alpha'][low[0]]:.2g}, {rand['beta'][low[1]]:.2g}), "
                            f"loss {sci(rl.min())}"),
        "surf.slices": "; ".join(f"{run}: {sci(centre_of[run])} at t = 0, mean "
                                 f"{sci(np.mean(v))} at t = ±1 ({np.mean(rise[run]):.2f}×)"
                                 for run, v in ends.items()),
        "surf.ends_above": "{} of {}".format(*summary["slice_ends_above_centre"]),
        "surf.flatness_verdict": verdict,
    }


def _minimal_ratio_values(mr, prefix, summary):
    """Generated numbers of one minimal-ratio experiment under keys gn.<prefix>..."""
    rows = mr["trainings"]
    col = {k: np.asarray([t[k] for t in rows]) for k in rows[0] if k != "phase2_norms"}
    p = f"gn.{prefix}"
    return {
        p + "trainings": str(len(rows)), p + "reached": str(int(col["reached"].sum())),
        p + "reached_1e-4": str(int((col["grad_norm"] < 1e-4).sum())),
        p + "reached_1e-6": str(int((col["grad_norm"] < 1e-6).sum())),
        p + "norm_range": f"{col['grad_norm'].min():.1e} to {col['grad_norm'].max():.1e}",
        p + "norm_median": f"{np.median(col['grad_norm']):.1e}",
        p + "nonzero_range": f"{100 * col['ratio_nonzero'].min():.0f}% to "
                             f"{100 * col['ratio_nonzero'].max():.0f}%",
        p + "nonzero_median": f"{100 * np.median(col['ratio_nonzero']):.0f}%",
        p + "neg_range": f"{col['n_negative'].min()} to {col['n_negative'].max()}",
        p + "neg_median": f"{np.median(col['n_negative']):.0f}",
        p + "zero_range": f"{col['n_zero'].min():,} to {col['n_zero'].max():,}",
        p + "zero_median": f"{np.median(col['n_zero']):.0f}",
        p + "minima": str(int((col["n_negative"] == 0).sum())),
        p + "answer": minima_answer(summary["classification"], summary["escape"]),
        p + "answer_short": minima_answer_short(summary["classification"], summary["escape"]),
        p + "minima_by_tol": " / ".join(str(m) for m in
                                        summary["classification"]["minima"].values()),
        p + "tolerances": " / ".join(summary["classification"]["minima"]),
        p + "tol_largest": summary["escape"]["tolerance"],
        p + "tol_minima": str(summary["escape"]["minima_at_tolerance"]),
        p + "tol_minima_escape": " / ".join(str(e["minima_that_escape"])
                                            for e in summary["escape"]["steps"]),
        p + "escape_steps": " / ".join(f"{e['step']:g}" for e in summary["escape"]["steps"]),
        p + "curved": str(summary["escape"]["curved"]),
        **{p + f"escape_{i}": escape_text(step, summary["escape"]["curved"])
           for i, step in enumerate(summary["escape"]["steps"])},
        p + "n_params": f"{mr['n_params']:,}", p + "points": str(mr["points"]),
        p + "loss_range": f"{col['loss'].min():.1e} to {col['loss'].max():.1e}",
        p + "mr_range": f"{col['minimal_ratio'].min():.3f} to {col['minimal_ratio'].max():.3f}",
        p + "mr_median": f"{np.median(col['minimal_ratio']):.3f}",
        **{p + f"rho_{name}": correlation_text(t) for name, t in summary.items()
           if name not in ("classification", "escape")},
    }


def escape_text(step, curved):
    """'t = 0.01: even part < 0 at 100 of 100, even / (½λt²) median 0.998 (quartiles ...)'."""
    q = step["ratio_quartiles"]
    ratio = (f", even part / (½λt²) median {q[1]:.3f} (quartiles {q[0]:.3f} to {q[2]:.3f})"
             if q else "")
    return (f"t = {step['step']:g}: the even part is negative at {step['even_negative']} of "
            f"{curved}, the lower side below L(θ) at {step['drop_negative']}{ratio}")


def minima_answer(classification, escape):
    """The findings row's answer from the script's classification: 'Saddles: none of the 100 end
    points is a minimum at any tolerance (...)' / 'Depends on the tolerance: minima 0 / 0 / 42
    of 100 at 1e-08 / 1e-06 / 0.0001 of max ∣λ∣; ...'."""
    minima, points = classification["minima"], classification["points"]
    tols = " / ".join(minima)
    counts = " / ".join(str(m) for m in minima.values())
    near, far = escape["steps"][0], escape["steps"][-1]
    escaped = (f"; a step along the most negative eigenvector lowers the loss beyond the "
               f"gradient's first-order term (even part < 0) at {near['even_negative']} of "
               f"{escape['curved']} end points at t = {near['step']:g} and at "
               f"{far['even_negative']} at t = {far['step']:g}")
    if classification["answer"] == "saddles":
        return (f"Saddles: none of the {points} end points is a minimum at any of the zero "
                f"tolerances {tols} of max ∣λ∣{escaped}")
    if classification["answer"] == "minima":
        return f"Minima: all {points} end points at every tolerance ({tols} of max ∣λ∣)"
    steps = escape["steps"]
    counts_escaped = " / ".join(str(e["minima_that_escape"]) for e in steps)
    step_sizes = " / ".join(f"{e['step']:g}" for e in steps)
    hidden = (f"; of the {escape['minima_at_tolerance']} that count as minima at "
              f"{escape['tolerance']}, the even part is negative at {counts_escaped} at "
              f"t = {step_sizes}")
    return (f"Depends on the tolerance: minima {counts} of {points} at {tols} of max ∣λ∣"
            f"{escaped}{hidden}")


def minima_answer_short(classification, escape):
    """The findings row: the minima per tolerance and how far the way down reaches."""
    minima, points = classification["minima"], classification["points"]
    word = {"saddles": "Saddles", "minima": "Minima"}.get(classification["answer"],
                                                         "Depends on the tolerance")
    near, far = escape["steps"][0], escape["steps"][-1]
    return (f"{word}: minima {' / '.join(str(m) for m in minima.values())} of {points} at "
            f"{' / '.join(minima)} of max ∣λ∣; the loss, averaged over both ways along the most "
            f"negative eigenvector, falls at {near['even_negative']} of {escape['curved']} end points a step "
            f"{near['step']:g} away, at {far['even_negative']} a step {far['step']:g} away")


def values_grad_norm(r):
    f, m = r["function"], r["mnist"]
    late = np.asarray(f["grad_norm"][1000:]) if len(f["grad_norm"]) > 1000 else np.asarray([np.nan])
    norms = np.asarray([t["phase2_norms"] for t in r["minimal_ratio"]["trainings"]])
    v = {
        "gn.fn_first": sci(f["grad_norm"][0]), "gn.fn_last": sci(f["grad_norm"][-1]),
        "gn.fn_1000": sci(f["grad_norm"][min(999, len(f["grad_norm"]) - 1)]),
        "gn.fn_late_range": f"{sci(late.min())} to {sci(late.max())}",
        "gn.fn_loss_1000": sci(f["loss"][min(999, len(f["loss"]) - 1)]),
        "gn.fn_loss_last": sci(f["loss"][-1]), "gn.fn_iters": str(len(f["loss"])),
        "gn.start_median": f"{np.median(norms[:, 0]):.1e}",
        "gn.start_reached": str(int((norms[:, 0] < r["minimal_ratio"]["threshold"]).sum())),
        "gn.lm_steps": str(norms.shape[1] - 1),
        "gn.mlp_epochs": str(len(r["summary"]["mnist"]["epoch_median_norm"])),
        "gn.mlp_iters": f"{len(m['grad_norm']):,}",
        "gn.mlp_norm_first_epoch": sci(r["summary"]["mnist"]["epoch_median_norm"][0]),
        "gn.mlp_norm_last_epoch": sci(r["summary"]["mnist"]["epoch_median_norm"][-1]),
        "gn.mlp_loss_first_epoch": sci(r["summary"]["mnist"]["epoch_median_loss"][0]),
        "gn.mlp_loss_last_epoch": sci(r["summary"]["mnist"]["epoch_median_loss"][-1]),
        "gn.mlp_norm_trend": trend_text(r["summary"]["mnist"]["norm_trend"]),
        "gn.mlp_loss_trend": trend_text(r["summary"]["mnist"]["loss_trend"]),
    }
    v.update(_minimal_ratio_values(r["minimal_ratio"], "", r["summary"]["minimal_ratio"]))
    v.update(_minimal_ratio_values(r["minimal_ratio_relu"], "relu_",
                                   r["summary"]["minimal_ratio_relu"]))
    return v


def one_sample_text(t, fmt="{:+.3f}"):
    """'above zero (one-sample t: mean +0.054, 95 % CI +0.02 to +0.09, p = 0.01, n = 3)'."""
    if t["verdict"] == "not tested":
        return f"not tested (n = {t['n']})"
    lo, hi = (fmt.format(x) if x is not None else "?" for x in t["ci95"])
    return (f"{t['verdict']} ({t['test']}: mean {fmt.format(t['effect'])}, 95 % CI {lo} to {hi}, "
            f"{p_text(t['p'])}, n = {t['n']})")


def values_interpolation(r):
    v = {"interp.seeds": str(len(r["per_seed"])), "interp.n_params": f"{r['n_params']:,}"}
    first = r["per_seed"][0]
    word = {"above zero": "yes", "below zero": "no, below the straight line",
            "not tested": "not tested"}
    for pair, d0 in first["pairs"].items():
        p = f"interp.{pair}"
        summary = r["summary"]["pairs"][pair]
        for split in ("train", "test"):
            b = summary[f"{split}_barrier"]
            text = one_sample_text(b)
            # the statistic alone: the sentences state the verdict in {p}.answer already
            v[f"{p}.{split}_barrier_stat"] = text.split(" (", 1)[1][:-1] if " (" in text else text
        v[f"{p}.answer"] = ", ".join(
            f"{name} {word.get(summary[f'{split}_barrier']['verdict'], 'no barrier detected')}"
            for split, name in (("train", "on the training subset"), ("test", "on the test set")))
        v[f"{p}.acc_test"] = compare_text(summary["test_acc"], 100, "{:+.2f}")
        v[f"{p}.gap_test"] = compare_text(summary["gap"], 1, "{:+.3f}")
        v[f"{p}.theta_1"] = endpoint_label(first["endpoints"][d0["theta_1"]])
        v[f"{p}.theta_2"] = endpoint_label(first["endpoints"][d0["theta_2"]])
    if "init_lines" in r["summary"]:
        v.update(init_line_values(r["summary"]["init_lines"], first["endpoints"]))
    return v


def init_line_values(lines, endpoints):
    """interp.init_*: the lines from the initialisation to the trained models (Goodfellow et
    al.'s monotonicity), per split over all models and seeds."""
    v = {"interp.init_models": "; ".join(endpoint_label(endpoints[n]) for n in lines)}
    for split in ("train", "test"):
        rows = [lines[n][split] for n in lines]
        total = sum(len(row["relative_rise"]) for row in rows)
        counts = {key: sum(row[key] for row in rows) for key in rows[0] if key.startswith("below_")}
        v[f"interp.init_{split}_lines"] = str(total)
        v[f"interp.init_{split}_never"] = f"{counts['below_0']} of {total}"
        rising = [(n, a) for n in lines for x, a in zip(lines[n][split]["relative_rise"],
                                                        lines[n][split]["rise_from_alpha"]) if x > 0]
        v[f"interp.init_{split}_rise_at"] = (", ".join(f"{a:g}" for _, a in rising) if rising
                                             else "none")
        v[f"interp.init_{split}_monotone"] = ", ".join(
            f"{c} of {total} " + ("never rise" if key == "below_0" else
                                  f"rise by at most {100 * float(key[6:]):g} % of their fall")
            for key, c in counts.items())
        v[f"interp.init_{split}_worst_max"] = (
            f"{100 * max(x for n in lines for x in lines[n][split]['relative_rise']):.1f}%")
        v[f"interp.init_{split}_worst"] = "; ".join(
            f"{endpoint_label(endpoints[n])}: " + per_seed(f"{100 * x:.1f}%"
                                                          for x in lines[n][split]["relative_rise"])
            for n in lines)
    return v


def values_sensitivity(r):
    sizes = r["batch_sizes"]
    runs = [r["runs"][str(b)] for b in sizes]
    steps = [s["steps"]["mean"] for s in runs]
    fixed = r["summary"]["fixed_epochs"]
    return {
        "sens.first_batch": str(sizes[0]), "sens.last_batch": str(sizes[-1]),
        "sens.trend_short": short_text(fixed["trend"]["sensitivity"]),
        "sens.steps_first": f"{int(steps[0]):,}", "sens.steps_last": f"{int(steps[-1]):,}",
        "sens.gap_trend_short": short_text(fixed["trend"]["gap"]),
        "sens.seeds": str(len(r["seeds"])), "sens.n_params": f"{r['n_params']:,}",
        **values_sharpness(r, runs, fixed),
        **values_matched(r),
    }


def values_matched(r):
    if "matched" not in r:
        return {}
    m = r["matched"]
    sizes = m["batch_sizes"]
    runs = [m["runs"][str(b)] for b in sizes]
    eps = r["epsilons"][0]
    out = {"m.target": f"{m['target_train_loss']:g}", "m.samples": f"{m['train_samples']:,}",
           "m.sizes": ", ".join(map(str, sizes)), "m.first_batch": str(sizes[0]),
           "m.last_batch": str(sizes[-1]), "m.seeds": str(len(m["seeds"])),
           "m.epochs": ", ".join(f"{s['epochs']['mean']:.0f}" for s in runs)}
    ends = r["summary"]["matched"]["ends"]
    for name, key, scale, fmt in (("sharp", f"sharpness_{eps}", 1, "{:.3g}"),
                                  ("eig", "hessian_max_eig", 1, "{:.3g}"),
                                  ("acc", "test_acc", 100, "{:.2f} pp"),
                                  ("sens", "sensitivity", 1, "{:.3f}"),
                                  ("train", "train_loss", 1, "{:.3f}")):
        out[f"m.{name}_verdict"] = compare_text(ends[key], scale, fmt)
        out[f"m.{name}_short"] = short_text(ends[key])
    out.update(rescaling_values(r["summary"]["matched"].get("rescaling"), eps))
    out["m.rho_sharp_eig"] = correlation_text(
        r["summary"]["matched"]["correlation"][f"sharpness_{eps}~hessian_max_eig"])
    out["m.answer"] = (f"{answer(ends['hessian_max_eig'])} by the top Hessian eigenvalue, "
                       f"{answer(ends[f'sharpness_{eps}'])} by ε-sharpness; more sensitive: "
                       f"{answer(ends['sensitivity'])}")
    return out


def rescaling_values(resc, eps):
    """m.dinh_*: Dinh et al.'s rescaling of the matched models, from the script's summary."""
    if resc is None:
        return {"m.dinh_models": "0"}
    out = {"m.dinh_models": str(resc["models"]),
           "m.dinh_logit": f"{resc['max_logit_change']:.1e}",
           "m.dinh_loss": f"{resc['max_loss_change']:.1e}"}
    for name, key in (("sharp", f"sharpness_{eps}"), ("eig", "hessian_max_eig")):
        t = resc[key]
        ci = f", 95 % CI {t['ci95'][0]:.3g} to {t['ci95'][1]:.3g}" if t["ci95"] else ""
        out[f"m.dinh_{name}"] = (f"×{t['geo_mean']:.3g} (geometric mean{ci}; range "
                                 f"×{min(t['ratios']):.3g} to ×{max(t['ratios']):.3g}; "
                                 f"{t['verdict']}, one-sample t on the log ratio, "
                                 f"{p_text(t['p']) if t['p'] is not None else 'not tested'}, "
                                 f"n = {t['n']})")
        out[f"m.dinh_{name}_ratio"] = (f"×{t['geo_mean']:.3g} ({t['verdict']}, one-sample t on "
                                       f"the log ratio{ci}, "
                                       f"{p_text(t['p']) if t['p'] is not None else 'not tested'}"
                                       f", n = {t['n']})")
        out[f"m.dinh_{name}_small"] = f"{t['small_rescaled_mean']:.3g}"
        out[f"m.dinh_{name}_large"] = f"{t['large_mean']:.3g}"
        out[f"m.dinh_{name}_vs_short"] = short_text(t["small_rescaled_vs_large"])
    return out


def answer(test):
    """A verdict of compare() as a plain answer to 'is the second group higher?'."""
    return {"higher": "yes", "lower": "no, lower", "not tested": "not tested"}.get(
        test["verdict"], "no difference detected")


def values_sharpness(r, runs, fixed):
    if "epsilons" not in r:
        return {}
    eps = r["epsilons"][0]
    key = f"sharpness_{eps}"
    sharp = [s[key]["mean"] for s in runs]
    eig = [s["hessian_max_eig"]["mean"] for s in runs]
    return {
        "sharp.eps": eps, "sharp.samples": f"{r['sharpness_samples']:,}",
        "sharp.trend_short": short_text(fixed["trend"][key]),
        "sharp.eig_trend_short": short_text(fixed["trend"]["hessian_max_eig"]),
        "sharp.peak": f"{max(sharp):.3g} at batch {r['batch_sizes'][int(np.argmax(sharp))]}",
        "sharp.eig_peak": f"{max(eig):.3g} at batch {r['batch_sizes'][int(np.argmax(eig))]}",
        "sharp.rho_eig": correlation_text(fixed["correlation"][f"{key}~hessian_max_eig"]),
    }


VALUES = {"hw1_1_simulate_function": values_fits, "hw1_1_mnist_cnn": values_cnn,
          "hw1_2_optimization": lambda r: {**values_optimization(r), **values_surfaces(r)},
          "hw1_2_grad_norm": values_grad_norm,
          "hw1_3_random_labels": values_random_labels,
          "hw1_3_params_generalization": values_params,
          "hw1_3_interpolation": values_interpolation, "hw1_3_sensitivity": values_sensitivity}


def values(figures):
    """Every value the prose may quote, from the JSON files present."""
    walls = [r["meta"]["wall_time_s"] for r in (load(figures, stem) for stem in SCRIPTS) if r]
    out = {"suite.minutes": f"{sum(walls) / 60:.0f}"}
    for stem, fn in VALUES.items():
        r = load(figures, stem)
        if r:
            try:
                out.update(fn(r))
            except (KeyError, TypeError, ValueError, IndexError) as exc:
                raise ScriptError(f"{Path(figures) / stem}.json lacks what the report quotes "
                                  f"({type(exc).__name__}: {exc}): rerun {stem}.py") from None
    return out


def update(text, figures):
    """README text with every table and value marker filled in from the JSON in `figures`."""
    text = TABLE_RE.sub(lambda m: f"<!-- table:{m.group(1)} -->\n{render_table(figures, m.group(1))}"
                        f"\n<!-- /table:{m.group(1)} -->", text)
    known = values(figures)

    def fill(match):
        key = match.group(1)
        if key not in known:
            raise ScriptError(f"README quotes an unknown value {key!r} (or its JSON is missing)")
        return f"<!--v:{key}-->{known[key]}<!--/v-->"
    return VALUE_RE.sub(fill, text)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m common.report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--figures", default="figures", help="folder of the JSON results")
    parser.add_argument("--readme", action="append",
                        help="file whose tables are rewritten (repeatable; default: README.md "
                             "and benchmarks/README.md)")
    parser.add_argument("--check", action="store_true", help="only report whether it is current")
    args = parser.parse_args(argv)
    readmes = [Path(p) for p in (args.readme or DOCUMENTS)]
    updated = {}
    for readme in readmes:
        try:
            old = readme.read_text(encoding="utf-8")
            new = update(old, args.figures)
        except ScriptError as exc:
            print(f"report: error: {exc}", file=sys.stderr)
            return 2
        except OSError as exc:
            print(f"report: error: cannot read {readme}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        if new != old:
            updated[readme] = new
    if args.check:
        for readme in updated:
            print(f"report: {readme} is out of date with {args.figures}/*.json: run "
                  "python -m common.report", file=sys.stderr)
        return 1 if updated else 0
    for readme, new in updated.items():
        atomic_write(readme, lambda tmp, new=new: Path(tmp).write_text(new, encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

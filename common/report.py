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


def p_ceil(p):
    """p to two significant digits, rounded up: a true upper bound ('p ≤ 0.00092' for 0.000911);
    '1e-4' style below 1e-4 ('p ≤ 1e-20' for 3e-21)."""
    if p < 1e-4:
        return f"1e{int(np.ceil(np.log10(max(p, 1e-300))))}"
    k = 1 - int(np.floor(np.log10(p)))
    return f"{np.ceil(p * 10 ** k) / 10 ** k:.{max(k, 0)}f}".rstrip("0").rstrip(".")


def value_range(values):
    """'0.8 to 0.95' (smallest to largest), '0.85' when all are equal, 'none' when empty."""
    if not values:
        return "none"
    lo, hi = min(values), max(values)
    return f"{lo:g}" if lo == hi else f"{lo:g} to {hi:g}"


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


def stat_text(v, ci=False):
    """'ρ = 0.19, p = 0.36, n = 24' (a Spearman trend's statistic alone; ci: with its 95 %
    interval after ρ), 'not tested'."""
    if v["verdict"] == "not tested":
        return "not tested"
    band = f", 95 % CI {v['ci95'][0]:.2f} to {v['ci95'][1]:.2f}" if ci and v["ci95"] else ""
    return f"ρ = {v['effect']:.2f}{band}, {p_text(v['p'])}, n = {n_text(v)}"


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
            conv = r["summary"][fname]["converged"][name]
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
    summaries = [r["summary"]["minimal_ratio"], r["summary"]["minimal_ratio_relu"]]
    body = [[f"reached ‖∇L‖ < {level}"] + [f"{s['spread']['below'][level]} of {s['classification']['points']}"
                                          for s in summaries]
            for level in summaries[0]["spread"]["below"]]
    for label, key, fmt in (("final ‖∇L‖", "grad_norm", "{:.1e}".format),
                            ("final MSE", "loss", "{:.1e}".format),
                            ("minimal ratio", "minimal_ratio", "{:.3f}".format),
                            ("ratio among non-zero eigenvalues", "ratio_nonzero", "{:.3f}".format),
                            ("negative eigenvalues", "n_negative", "{:.0f}".format),
                            ("near-zero eigenvalues", "n_zero", "{:.0f}".format)):
        body.append([label] + [" / ".join(fmt(x) for x in s["spread"][key]) for s in summaries])
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
    rand = [s["runs"]["random labels"] for s in seeds]

    def epochs(run):
        return per_seed(str(s["epochs_to_target"][run]) if s["epochs_to_target"][run] else
                        f"more than {len(s['runs'][run]['train_acc'])}" for s in seeds)
    return {
        "rl.n_params": f"{r['n_params']:,}", "rl.train_samples": f"{r['train_samples']:,}",
        "rl.target": f"{100 * r['target_acc']:g}%", "rl.seeds": str(len(seeds)),
        "rl.epochs_true": epochs("true labels"), "rl.epochs_random": epochs("random labels"),
        "rl.fitted": f"{r['summary']['fitted']} of {r['summary']['seeds']}",
        "rl.longer": compare_text(r["summary"]["longer"], fmt="{:.3g}"),
        "rl.rand_test_acc": per_seed(pct(h["test_acc"][-1]) for h in rand),
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
                     pm(run["test_acc"], pct), f"{r['summary']['gap'][str(w)]:.3f}"])
    return _table(["width h", "params", "train loss", "test loss", "train acc", "test acc",
                   "test − train loss"], rows)


def plateau_text(pl, runs, what):
    """'no rising trend of test accuracy detected from width 256 (269,322 parameters) on
    (Spearman over its window: ρ = 0.19, 95 % CI -0.23 to 0.56, p = 0.36,
    n = 24; one width earlier it rises: ρ = 0.44, p = 0.016, n = 30)' from a sweep
    plateau()."""
    if pl["plateau_from"] is None:
        return (f"{what} still {pl['improving']} over the two widest widths "
                f"(Spearman: {stat_text(pl['windows'][list(pl['windows'])[-1]])})")
    w, at = pl["plateau_from"], pl["at"]
    ing = pl["improving"].replace("rises", "rising").replace("falls", "falling")
    text = (f"no {ing} trend of {what} detected from width {w} ({runs[w]['n_params']:,} "
            f"parameters) on (Spearman over its window: " +
            ("" if at["verdict"] in ("no trend detected", "not tested") else
             f"{at['verdict']}, ") + stat_text(at, ci=True))
    if pl["before"] is not None:
        text += f"; one width earlier it {pl['improving']}: {stat_text(pl['before'])}"
    return text + ")"


def blocked_check(s, n_seeds):
    """'stops at the same widths (test accuracy from width 256: p = 0.092, one earlier 0.0069;
    test loss from width 32: p = 0.11, one earlier 0.00085; n = 6 seeds)', or
    'stops at other widths (...)', from each plateau's "blocked" record (Page's L within
    seeds)."""
    parts, same = [], True
    for key, what in (("saturation", "test accuracy"), ("loss_plateau", "test loss")):
        pl, blocked = s[key], s[key]["blocked"]
        width = blocked["plateau_from"]
        same &= width == pl["plateau_from"]
        if width is None:
            parts.append(f"{what}: every window of 3 or more widths improves")
            continue
        p = blocked["at"]["p"]
        text = f"{what} from width {width}: " + ("not tested" if p is None else f"p = {p:.2g}")
        keys = list(blocked["windows"])
        i = keys.index(str(width))
        earlier = blocked["windows"][keys[i - 1]]["p"] if i > 0 else None
        if earlier is not None:
            text += f", one earlier {earlier:.2g}"
        parts.append(text)
    return (("stops at the same widths" if same else "stops at other widths") +
            f" ({'; '.join(parts)}; n = {n_seeds} seeds)")


def values_params(r):
    widths, s = r["widths"], r["summary"]
    runs = {w: r["runs"][str(w)] for w in widths}
    sat, low = s["saturation"], s["lowest_test_loss"]
    plateau = sat["plateau_from"]
    gap = [f"{s['gap'][str(w)]:.4f} at {runs[w]['n_params']:,}"
           for w in (widths[0], plateau or widths[-1], widths[-1])]

    def acc(w):
        return pct(runs[w]["test_acc"]["mean"])
    return {
        "pg.n": str(len(widths)), "pg.seeds": str(len(r["seeds"])),
        "pg.range": f"{runs[widths[0]]['n_params']:,} to {runs[widths[-1]]['n_params']:,}",
        "pg.best_acc": f"{acc(sat['best'])} at {runs[sat['best']]['n_params']:,} parameters",
        "pg.saturation": (f"{runs[plateau]['n_params']:,} parameters (width {plateau}, "
                          f"{acc(plateau)})" if plateau is not None else
                          "no width (test accuracy still rises over the two widest)"),
        "pg.saturation_rule": plateau_text(sat, runs, "test accuracy"),
        "pg.saturation_stat": stat_text(sat["at"] if plateau is not None else
                                        sat["windows"][str(widths[-2])]),
        "pg.loss_plateau": plateau_text(s["loss_plateau"], runs, "test loss"),
        "pg.blocked_check": blocked_check(s, len(r["seeds"])),
        "pg.lowest_loss": f"{runs[low]['test_loss']['mean']:.4f} at "
                          f"{runs[low]['n_params']:,} parameters",
        "pg.gap": f"{gap[0]}, {gap[1]} and {gap[2]} parameters",
        "pg.gap_trend": trend_text(s["trend"]["gap"]),
        "pg.gap_short": short_text(s["trend"]["gap"]),
    }


def table_matched(r):
    if "matched" not in r:
        return "(no matched-training run in this JSON: it was run with --target-train-loss 0)"
    m = {**r["matched"], **r["summary"]["matched"]}      # the trainings that reached the target
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
    fits, s = r["fits"], r["summary"]
    across = s["across_targets"]
    lo, hi = across["params_range"]
    v = {"fits.points": str(len(r["x"])), "fits.epochs": str(r["meta"]["config"]["epochs"]),
         "fits.seeds": str(len(r["seeds"])), "fits.params_range": f"{lo:,} to {hi:,}",
         "fits.budgets": " / ".join(f"{int(e):,}" for e in r["budgets"])}
    for fname in fits:
        v[f"fits.{target_key(fname)}.original_verdict"] = ranking_text(s[fname]["original"])
        v[f"fits.{target_key(fname)}.vs_shallowest"] = ", ".join(
            f"{name} {c['effect']:+.2f} [{c['ci95'][0]:+.2f}, {c['ci95'][1]:+.2f}]"
            if c["ci95"] else f"{name} {c['effect']:+.2f} (one seed)"
            for name, c in s[fname]["vs_shallowest"].items())
    v["fits.depth_answer"] = depth_answer(r)
    v["fits.depth_rank_check"] = rank_check(r)
    v["fits.rank_net_differences"] = rank_net_differences(r)
    down, n = across["still_falling"], across["targets"]
    v["fits.shallowest_falling_all"] = (
        (f"on all {n} targets" if len(down) == n else f"on {len(down)} of the {n} targets") +
        f" (paired t on log10 MSE, n = {across['still_falling_pairs']} pairs, each p < "
        f"{10 ** np.ceil(np.log10(across['still_falling_max_p'])):.0e})" if down else
        f"on none of the {n} targets (paired t on log10 MSE)")
    changed = across["leader_changes"]
    v["fits.leader_changes"] = (f"on {len(changed)} of {n} targets ({', '.join(changed)})"
                                if changed else f"on none of the {n} targets")
    return v


def depth_answer(r):
    """'Yes, on all 4 targets: at least one deeper net ends with a lower MSE than D1 (...)' from
    each target's depth_helps: the test, n, the number of contrasts and the largest over the
    targets of the smallest corrected p."""
    helps = {f: r["summary"][f]["depth_helps"] for f in r["fits"]}
    first = r["summary"][next(iter(r["fits"]))]
    shallowest, n_seeds = first["shallowest"], first["depth_helps"]["n"]
    yes = [f for f, h in helps.items() if h["verdict"] == "yes"]
    no = [f for f, h in helps.items() if h["verdict"] == "no"]
    rest = [f for f in helps if f not in yes and f not in no]
    k, n = len(yes), len(helps)
    how = (f"Welch's t, Holm over the {first['depth_helps']['contrasts']} contrasts "
           f"with {shallowest}, n = {n_seeds} each")
    parts = []
    if yes:
        worst = max(helps[f]["p_holm_min"] for f in yes)
        parts.append((f"Yes, on all {n} targets" if k == n else f"Yes on {k} of {n} targets "
                      f"({', '.join(yes)})") +
                     f": at least one deeper net ends with a lower mean log10 MSE than "
                     f"{shallowest} ({how}; every target's smallest corrected p ≤ "
                     f"{p_ceil(worst)})")
    if no:
        parts.append(f"no on {', '.join(no)}: no deeper net ends below {shallowest}, which "
                     "ends below " + "; ".join(f"{', '.join(helps[f]['above_shallowest'])} on {f}"
                                               for f in no))
    if rest:
        tested = [helps[f]["p_holm_min"] for f in rest if helps[f]["p_holm_min"] is not None]
        parts.append(f"no difference detected on {', '.join(rest)}" +
                     (f" (p ≥ {p_floor(min(tested))})" if tested else " (not tested)"))
    text = "; ".join(parts)
    if not yes:
        text += f" ({how})"
    return text[0].upper() + text[1:]


def rank_check(r):
    """'agrees on all 4 targets (...)' or 'agrees on 3 of 4 targets (...); it says no difference
    detected on t (...)': each target's depth_helps_rank (Mann-Whitney U) against its
    depth_helps (Welch)."""
    summary = {f: r["summary"][f] for f in r["fits"]}
    how = "Mann–Whitney U, the same contrasts and correction"
    ranks = {f: s["depth_helps_rank"] for f, s in summary.items()}
    differ = [f for f, s in summary.items() if ranks[f]["verdict"] != s["depth_helps"]["verdict"]]
    n = len(summary)
    if not differ:
        text = f"agrees on {f'all {n} targets' if n > 1 else 'the 1 target'} ({how}"
        if all(h["verdict"] == "yes" for h in ranks.values()):
            text += (f"; every target's smallest corrected p ≤ "
                     f"{p_ceil(max(h['p_holm_min'] for h in ranks.values()))}")
        text += ")"
    else:
        def said(f):
            p = ranks[f]["p_holm_min"]
            return f"{ranks[f]['verdict']} on {f}" + ("" if p is None else f" (smallest "
                                                       f"corrected p {p:.2g})")
        text = (f"agrees on {n - len(differ)} of {n} targets ({how}); it says " +
                "; ".join(said(f) for f in differ))
    return text


def rank_net_differences(r):
    """'1 of 12 contrasts': how many (target, deeper net) contrasts with the shallowest get
    another verdict by ranks (vs_shallowest_rank) than by Welch's t (vs_shallowest)."""
    pairs = [(c, r["summary"][f]["vs_shallowest"][name]) for f in r["fits"]
             for name, c in r["summary"][f]["vs_shallowest_rank"].items()]
    differ = sum(c["verdict"] != w["verdict"] for c, w in pairs)
    return f"{differ} of {len(pairs)} contrasts"


def values_cnn(r):
    models, s = r["models"], r["summary"]
    acc = {n: models[n]["final"]["test_acc"] for n in models}
    v = {"cnn.epochs": str(len(models[next(iter(models))]["runs"][0]["history"]["test_acc"])),
         "cnn.seeds": str(len(r["seeds"])),
         "cnn.original_params": " / ".join(f"{m['n_params']:,}" for m in models.values()
                                           if m["series"] == "original"),
         "cnn.depth_accs": ", ".join(f"{n} {pm(acc[n], pct)}" for n in s["depth"]["order"])}
    for series in ("depth", "original"):
        v[f"cnn.{series}_verdict"] = ranking_text(s[series])
    v["cnn.depth_budgets"] = "; ".join(f"after {int(e)} epochs [{b['depth']['text']}]"
                                       for e, b in s["budgets"].items())
    rising = s["still_rising"]
    up = [n for n, t in rising.items() if t["verdict"] == "still rising"]
    v["cnn.rising_window"] = str(s["rising_window"])
    rr = s["rising_range"]
    v["cnn.rising_short"] = (
        f"{rr['gain_points'][0]:+.2f} to {rr['gain_points'][1]:+.2f} points, Holm-corrected p "
        f"{rr['p_holm'][0]:.2g} to {rr['p_holm'][1]:.2g}, n = {rr['n']} each" if rr else
        "not tested")
    who = (f"all {len(rising)} models are" if len(up) == len(rising) else
           f"{len(up)} of {len(rising)} models ({', '.join(up)}) are" if up else "")
    v["cnn.rising_answer"] = (
        f"{who} still rising when training stops: rankings at a budget, not of trained-out "
        "models" if up else
        f"none of the {len(rising)} models is detectably still rising when training stops")
    ever_above = sorted({n for b in s["budgets"].values() for n in b["above_shallowest"]})
    budgets = [f"{int(e)}" for e in s["budgets"]]
    when = (f"after neither {budgets[0]} nor {budgets[1]} epochs" if len(budgets) == 2 else
            f"after none of {', '.join(budgets)} epochs")
    v["cnn.budget_answer"] = (
        f"{when} does a deeper CNN come out above {s['shallowest']}"
        if not ever_above else
        f"{', '.join(ever_above)} come out above {s['shallowest']} at some budget")
    above, below = s["above_shallowest"], s["below_shallowest"]
    v["cnn.depth_answer"] = (
        f"Yes: {', '.join(above)} above {s['shallowest']}" +
        (f" ({', '.join(below)} below it)" if below else "") if above else
        f"Not after {v['cnn.epochs']} epochs: no deeper CNN beats {s['shallowest']}, and "
        f"{', '.join(below)} "
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
    ev = r["pca"]["whole"]["explained_variance_ratio"]
    s = r["summary"]
    lo, hi = s["test_acc"]["range"]
    return {
        "opt.runs": str(r["runs"]), "opt.n_params": f"{r['n_params']:,}",
        "opt.acc_range": f"{pct(lo)} and {pct(hi)}",
        "opt.ev_whole": f"{pct(ev[0])} / {pct(ev[1])}",
        "opt.inv_runs": f"{100 / (r['runs'] - 1):.0f}%",
        "opt.end_vs_start": f"{s['pca_spread']['ratio']:.2f}",
    }


def values_surfaces(r):
    s, summary = r["surfaces"], r["summary"]
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
    ev = s["path_plane"]["explained_variance_ratio"]
    lo, hi = summary["random_plane_edges"]
    return {
        "surf.samples": f"{s['eval_samples']:,}",
        "surf.path_ev": f"{pct(ev[0])} / {pct(ev[1])}",
        "surf.final_loss": sci(summary["final_loss"]),
        "surf.random_edges": f"{sci(lo)} to {sci(hi)}",
        "surf.flatness_verdict": verdict,
    }


def minimal_ratio_values(mr, summary, prefix=""):
    """Generated numbers of one minimal-ratio experiment under keys gn.<prefix>..."""
    p, spread, escape = f"gn.{prefix}", summary["spread"], summary["escape"]
    return {
        p + "trainings": str(summary["classification"]["points"]), p + "reached": str(spread["reached"]),
        p + "norm_median": f"{spread['grad_norm'][1]:.1e}",
        p + "answer_short": minima_answer_short(summary["classification"], escape),
        p + "tol_largest": escape["tolerance"],
        p + "tol_minima": str(escape["minima_at_tolerance"]),
        p + "tol_minima_escape": " / ".join(str(e["minima_that_escape"]) for e in escape["steps"]),
        p + "escape_steps": " / ".join(f"{e['step']:g}" for e in escape["steps"]),
        p + "n_params": f"{mr['n_params']:,}",
        **{p + f"rho_{name}": correlation_text(t) for name, t in summary.items()
           if name not in ("classification", "escape", "spread", "by_tol")},
        **{p + f"rho_{name}_by_tol": by_tol_text(summary["by_tol"], name)
           for name in ("loss", "nonzero_loss") if "by_tol" in summary},
    }


def by_tol_text(by_tol, name):
    """'ρ = -0.38 / -0.05 / -0.26 at the 3 tolerances (p < 1e-4 / p = 0.59 / p = 0.0083,
    n = 100): its verdict depends on the tolerance' from summary["by_tol"] (tolerances in
    recorded order)."""
    tests = [t[name] for t in by_tol.values()]
    if any(t["verdict"] == "not tested" for t in tests):
        return "not tested at every tolerance"
    verdicts = {t["verdict"] for t in tests}
    rhos = " / ".join(f"{t['effect']:.2f}" for t in tests)
    ps = ("each p < 1e-4" if all(t["p"] < 1e-4 for t in tests) else
          " / ".join(p_text(t["p"]) for t in tests))
    return (f"ρ = {rhos} at the {len(tests)} tolerances ({ps}, n = {tests[0]['n']}): " +
            (f"{tests[0]['verdict']} at every tolerance" if len(verdicts) == 1 else
             "its verdict depends on the tolerance"))


def minima_answer_short(classification, escape):
    """The findings row: 'Depends on the tolerance: minima 0 / 0 / 42 of 100 at 1e-08 / 1e-06 /
    0.0001 of max ∣λ∣; the loss ... falls at 35 of 100 end points a step 0.1 away'."""
    minima, points = classification["minima"], classification["points"]
    word = {"saddles": "Saddles", "minima": "Minima"}.get(classification["answer"],
                                                         "Depends on the tolerance")
    far = escape["steps"][-1]
    return (f"{word}: minima {' / '.join(str(m) for m in minima.values())} of {points} at "
            f"{' / '.join(minima)} of max ∣λ∣; the loss, averaged over both ways along the most "
            f"negative eigenvector, falls at {far['even_negative']} of {escape['curved']} end "
            f"points a step {far['step']:g} away")


def values_grad_norm(r):
    f, m, s = r["summary"]["function"], r["mnist"], r["summary"]
    late = f["late_range"]
    v = {
        "gn.fn_first": sci(f["first"]), "gn.fn_1000": sci(f["at"]),
        "gn.fn_late_range": f"{sci(late[0])} to {sci(late[1])}" if late else "not reached",
        "gn.fn_iters": str(f["iterations"]),
        "gn.lm_steps": str(len(r["minimal_ratio"]["trainings"][0]["phase2_norms"]) - 1),
        "gn.mlp_epochs": str(len(s["mnist"]["epoch_median_norm"])),
        "gn.mlp_iters": f"{len(m['grad_norm']):,}",
        "gn.mlp_norm_first_epoch": sci(s["mnist"]["epoch_median_norm"][0]),
        "gn.mlp_norm_last_epoch": sci(s["mnist"]["epoch_median_norm"][-1]),
        "gn.mlp_norm_trend": trend_text(s["mnist"]["norm_trend"]),
    }
    v.update(minimal_ratio_values(r["minimal_ratio"], s["minimal_ratio"]))
    v.update(minimal_ratio_values(r["minimal_ratio_relu"], s["minimal_ratio_relu"], "relu_"))
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
    for split, t in r["summary"].get("init_totals", {}).items():
        v[f"interp.init_{split}_never"] = f"{t['never']} of {t['lines']}"
        v[f"interp.init_{split}_rise_at"] = value_range(t["rise_at"])
        v[f"interp.init_{split}_worst_max"] = f"{100 * t['largest_rise']:.1f}%"
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
        **values_sharpness(r, fixed),
        **values_matched(r),
    }


def values_matched(r):
    if "matched" not in r:
        return {}
    summary = r["summary"]["matched"]
    m = {**r["matched"], **summary}                     # the trainings that reached the target
    sizes = m["batch_sizes"]
    eps = r["epsilons"][0]
    left = [f"{len(seeds)} at batch {b} (seed{'s' if len(seeds) > 1 else ''} "
            f"{', '.join(map(str, seeds))})" for b, seeds in summary["left_out"].items() if seeds]
    counts = sorted({len(run["epochs"]["values"]) for run in m["runs"].values()}) or [0]
    out = {"m.target": f"{m['target_train_loss']:g}", "m.samples": f"{m['train_samples']:,}",
           "m.sizes": ", ".join(map(str, sizes)) or "none",
           "m.seeds": " to ".join(map(str, dict.fromkeys((counts[0], counts[-1])))),
           "m.epochs": ", ".join(f"{m['runs'][str(b)]['epochs']['mean']:.0f}" for b in sizes),
           "m.left_out": ("every training reached it" if not left else
                          "left out, as they never reached it within the epoch cap: " +
                          "; ".join(left))}
    if "ends" not in summary:            # fewer than two batch sizes reached the target
        return out
    out.update({"m.first_batch": str(sizes[0]), "m.last_batch": str(sizes[-1])})
    ends = summary["ends"]
    for name, key, scale, fmt in (("sharp", f"sharpness_{eps}", 1, "{:.3g}"),
                                  ("eig", "hessian_max_eig", 1, "{:.3g}"),
                                  ("acc", "test_acc", 100, "{:.2f} pp"),
                                  ("sens", "sensitivity", 1, "{:.3f}")):
        out[f"m.{name}_verdict"] = compare_text(ends[key], scale, fmt)
    train = ends["train_loss"]
    differ = train["verdict"] in ("higher", "lower")
    out["m.loss_match"] = ("evaluated losses still differ" if differ else
                           "evaluated losses not detectably different")
    out["m.train_match"] = (
        f"Matched by the stopping rule, not exactly: the evaluated training loss is "
        f"{short_text(train)}" if differ else
        f"Matched by the stopping rule: no difference in the evaluated training loss was "
        f"detected ({p_text(train['p']) if train['p'] is not None else 'not tested'}, "
        f"n = {n_text(train)})")
    out.update(rescaling_values(summary.get("rescaling"), eps))
    out["m.sharp_peak"] = hump_text(summary["peak"][f"sharpness_{eps}"])
    check = r["summary"].get("matched_check", {})
    agree = check.get("agreement", {})

    def at_both(key):
        """The answer at the target, and the verdict at the check target where it differs."""
        said = answer(ends[key])
        there = check["ends"][key]["verdict"] if key in agree else ends[key]["verdict"]
        if there != ends[key]["verdict"]:
            said += f" ({there} at loss {check['target_train_loss']:g})"
        return said
    out["m.answer"] = (f"sharper by the top Hessian eigenvalue: {at_both('hessian_max_eig')}; "
                       f"by ε-sharpness: {at_both(f'sharpness_{eps}')}; more sensitive: "
                       f"{at_both('sensitivity')}")
    out.update(check_values(check, agree, eps))
    return out


# The matched measures whose ends verdicts the README states, as it names them.
MATCHED_NAMES = (("hessian_max_eig", "top Hessian eigenvalue", 1, "{:.3g}"),
                 ("sharpness_{eps}", "ε-sharpness", 1, "{:.3g}"),
                 ("sensitivity", "sensitivity", 1, "{:.3f}"),
                 ("test_acc", "test accuracy", 100, "{:.2f} pp"),
                 ("train_loss", "evaluated training loss", 1, "{:.3g}"))


def check_values(check, agree, eps):
    """m.check_*: the matched ends verdicts at the looser check target (the same trainings,
    measured on their way to the target) against those at the target, from the summary."""
    if not agree:
        return {}
    names = [(key.format(eps=eps), *rest) for key, *rest in MATCHED_NAMES]
    differ = [(key, name, scale, fmt) for key, name, scale, fmt in names
              if not agree[key]["same"]]
    sizes = check["batch_sizes"]
    out = {"m.check_target": f"{check['target_train_loss']:g}",
           "m.check_epochs": ", ".join(f"{check['runs'][str(b)]['epochs']['mean']:.0f}"
                                       for b in sizes)}
    same = f"the same for {len(names) - len(differ)} of {len(names)} measures"
    out["m.check_agree"] = (
        f"every one of the {len(names)} ends verdicts above is the same" if not differ else
        f"{same}; " + "; ".join(f"{name} {compare_text(check['ends'][key], scale, fmt)}"
                                for key, name, scale, fmt in differ))
    return out


HUMP_WORDS = {"above both ends": "above both ends",
              "no hump detected": "not detectably above both ends"}


def peak_text(top):
    """'19 at batch 256' ({"batch_size", "mean"} of the highest mean; ', an end' when it is one)
    and, for a peak between the ends, its hump test (the larger of its two Welch p-values
    against the ends, times the inner batch sizes it was picked from): ', above both ends
    (p = 0.004, n = 10 each)' or ', not detectably above both ends (p = 1, n = 5 each)'."""
    where = f"{top['mean']:.3g} at batch {top['batch_size']}"
    h = top.get("hump")
    if h is None:
        return f"{where}, an end"
    if h["verdict"] == "not tested":
        return f"{where}, its hump not tested (a group with one seed)"
    sizes = [h["ends"][0]["n"][0], *(e["n"][1] for e in h["ends"])]
    n = (f"{sizes[0]} each" if len(set(sizes)) == 1 else
         f"{sizes[0]} at the peak, {sizes[1]} and {sizes[2]} at the ends")
    return f"{where}, {HUMP_WORDS[h['verdict']]} ({p_text(h['p'])}, n = {n})"


def hump_text(top):
    """The matched eps-sharpness peak (see peak_text) said as what the ends test (smallest vs
    largest batch) cannot see when it lies in between."""
    if "hump" not in top:
        return f"Matched ε-sharpness is highest at an end ({peak_text(top)})"
    if top["hump"]["verdict"] == "above both ends":
        return f"The ends test misses a hump: matched ε-sharpness is {peak_text(top)}"
    return f"Matched ε-sharpness is highest between the ends: {peak_text(top)}"


def rescaling_values(resc, eps):
    """m.dinh_*: Dinh et al.'s rescaling of the matched models, from the script's summary."""
    if resc is None:
        return {}
    out = {"m.dinh_logit": f"{resc['max_logit_change']:.1e}"}
    for name, key in (("sharp", f"sharpness_{eps}"), ("eig", "hessian_max_eig")):
        t = resc[key]
        ci = f", 95 % CI {t['ci95'][0]:.3g} to {t['ci95'][1]:.3g}" if t["ci95"] else ""
        out[f"m.dinh_{name}_ratio"] = (f"×{t['geo_mean']:.3g} ({t['verdict']}, one-sample t on "
                                       f"the log ratio{ci}, "
                                       f"{p_text(t['p']) if t['p'] is not None else 'not tested'}"
                                       f", n = {t['n']})")
        out[f"m.dinh_{name}_short"] = (f"×{t['geo_mean']:.3g} ({t['verdict']}, "
                                       f"{p_text(t['p']) if t['p'] is not None else 'not tested'}"
                                       f", n = {t['n']})")
    return out


def answer(test):
    """A verdict of compare() as a plain answer to 'is the second group higher?'."""
    return {"higher": "yes", "lower": "no, lower", "not tested": "not tested"}.get(
        test["verdict"], "no difference detected")


def values_sharpness(r, fixed):
    if "epsilons" not in r:
        return {}
    eps = r["epsilons"][0]
    key = f"sharpness_{eps}"
    peak = fixed["peak"]
    return {
        "sharp.eps": eps, "sharp.samples": f"{r['sharpness_samples']:,}",
        "sharp.ends_short": short_text(fixed["ends"][key]),
        "sharp.eig_ends_short": short_text(fixed["ends"]["hessian_max_eig"]),
        "sharp.peak": peak_text(peak[key]),
        "sharp.eig_peak": peak_text(peak["hessian_max_eig"]),
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

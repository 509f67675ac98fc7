"""The README report: tables and prose values come from the JSON, and --check notices drift."""
import json
import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

import hw1_1_simulate_function
from common import report
from conftest import placeholder_figures

STEM = "hw1_1_simulate_function"
README = """Intro.
<!-- table:fits -->
stale
<!-- /table:fits -->
Parameters: <!--v:fits.params_range-->old<!--/v-->; the depth series:
<!--v:fits.sinc.vs_shallowest-->old<!--/v-->.
"""


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    with placeholder_figures():
        hw1_1_simulate_function.main(["--quick", "--epochs", "40", "--seeds", "5", "--points",
                                      "30", "--out-dir", str(out)])
    return out


def test_values_and_tables_are_filled_from_the_json(figures, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(README)
    assert report.main(["--figures", str(figures), "--readme", str(readme)]) == 0
    text = readme.read_text()
    r = json.loads((figures / f"{STEM}.json").read_text())
    fits = r["fits"]["sin(5πx)/(5πx)"]
    # the table's cell of M1: median [quartiles] by numpy, converged seeds counted here
    loss = fits["M1"]["final_loss"]
    q1, med, q3 = np.percentile(loss, [25, 50, 75])
    conv = sum(e is not None for e in fits["M1"]["convergence_epoch"])
    assert f"{report.sci(med)} [{report.sci(q1)}, {report.sci(q3)}]; {conv}/5" in text
    n_params = sorted(m["n_params"] for m in r["models"].values())
    assert f"<!--v:fits.params_range-->{n_params[0]:,} to {n_params[-1]:,}<!--/v-->" in text
    # each deeper net against D1: mean log10 MSE difference and Welch's interval, by hand
    sentence = text.split("<!--v:fits.sinc.vs_shallowest-->")[1].split("<!--/v-->")[0]
    logs = {m: np.log10(fits[m]["final_loss"]) for m in ("D1", "D2", "M1", "D8")}
    expected = []
    for m in ("D2", "M1", "D8"):
        a, b = logs["D1"], logs[m]
        va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
        df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
        diff, half = b.mean() - a.mean(), scipy_stats.t.ppf(0.975, df) * np.sqrt(va + vb)
        expected.append(f"{m} {diff:+.2f} [{diff - half:+.2f}, {diff + half:+.2f}]")
    assert sentence == ", ".join(expected)
    assert "stale" not in text and "| M1 | 2,177 | " in text
    assert report.main(["--figures", str(figures), "--readme", str(readme), "--check"]) == 0


def test_check_fails_when_the_json_changes(figures, tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(README)
    report.main(["--figures", str(figures), "--readme", str(readme)])
    changed = tmp_path / "changed"
    changed.mkdir()
    r = json.loads((figures / f"{STEM}.json").read_text())
    for fit in r["fits"]["sin(5πx)/(5πx)"].values():
        fit["final_quartiles"] = [3 * q for q in fit["final_quartiles"]]
    (changed / f"{STEM}.json").write_text(json.dumps(r))
    before = readme.read_text()
    assert report.main(["--figures", str(changed), "--readme", str(readme), "--check"]) == 1
    assert readme.read_text() == before and "out of date" in capsys.readouterr().err


def test_unknown_marker_is_an_error(figures, tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("x <!--v:fits.no_such_value-->1<!--/v--> y\n")
    assert report.main(["--figures", str(figures), "--readme", str(readme), "--check"]) == 2
    assert "unknown value 'fits.no_such_value'" in capsys.readouterr().err


def test_spearman_against_the_closed_form():
    from common.stats import trend
    a, b = [1, 2, 3, 4, 5], [2, 1, 4, 3, 5]
    d2 = sum((x - y) ** 2 for x, y in zip(a, b))  # rho = 1 - 6 sum d^2 / (n (n^2 - 1))
    assert trend(a, b)["effect"] == pytest.approx(1 - 6 * d2 / (5 * 24))
    assert trend([0.1, 0.5, 0.9], [30, 20, 10])["effect"] == pytest.approx(-1)


def test_verdict_sentences():
    t = {"verdict": "falls", "effect": -0.9712, "ci95": [-0.99, -0.93], "p": 3e-7, "n": 24}
    assert report.trend_text(t) == "falls (Spearman ρ = -0.97, 95 % CI -0.99 to -0.93, p < 1e-4, n = 24)"
    c = {"verdict": "no difference detected", "test": "Welch's t", "effect": -0.0123,
         "ci95": [-0.05, 0.03], "p": 0.41, "n": [5, 5]}
    assert report.compare_text(c, 100, "{:.2f}") == ("no difference detected (Welch's t: "
                                                     "difference -1.23, 95 % CI -5.00 to 3.00, "
                                                     "p = 0.41, n = 5 + 5)")
    assert report.sci(0.00352) == "3.52e-03" and report.sci(np.float64(0.358)) == "0.358"


def test_readme_is_short_and_the_benchmark_tables_live_in_their_own_file():
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode()) <= 35_000
    assert "](benchmarks/README.md)" in readme
    bench = (root / "benchmarks" / "README.md").read_text(encoding="utf-8")
    for table in ("wall_times", "threads", "suite", "bench"):
        assert f"<!-- table:{table} -->" in bench and f"<!-- table:{table} -->" not in readme
    # a plain run keeps both documents current
    assert set(report.DOCUMENTS) == {"README.md", "benchmarks/README.md"}


def test_lower_bounds_of_p_round_down():
    assert report.p_floor(0.3755) == "0.37" and report.p_floor(0.1086) == "0.1"
    assert report.p_floor(0.00023) == "0.00023" and report.p_floor(1.0) == "1"
    for p in (0.3755, 0.1086, 0.0499, 0.93):
        assert float(report.p_floor(p)) <= p


def test_every_readme_table_row_has_its_header_s_cells():
    """A literal '|' inside a generated cell would split it (GitHub drops the extra cells)."""
    import re
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    for doc in report.DOCUMENTS:
        text = (root / doc).read_text(encoding="utf-8")
        for block in re.findall(r"((?:^\|.*\|\n)+)", text, flags=re.M):
            rows = block.strip("\n").split("\n")
            width = len(re.findall(r"(?<!\\)\|", rows[0]))
            for row in rows[1:]:
                assert len(re.findall(r"(?<!\\)\|", row)) == width, f"{doc}: {row[:80]}"


def test_every_value_marker_is_closed_once():
    """A value marker whose opening was lost would leave stale text that --check cannot see."""
    import re
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    for doc in report.DOCUMENTS:
        text = (root / doc).read_text(encoding="utf-8")
        opened = len(re.findall(r"<!--v:[\w.\-]+-->", text))
        assert opened == text.count("<!--/v-->") == len(report.VALUE_RE.findall(text)), doc


def test_a_new_fit_target_gets_a_marker_name_without_an_entry_in_the_report():
    assert report.target_key("sin(5πx)") == "sin"
    assert report.target_key("cos(3πx)") == "cos_3πx_"
    assert report.target_key("x²·exp(-x)") == "x²_exp_x_"
    assert report.VALUE_RE.fullmatch(f"<!--v:fits.{report.target_key('cos(3πx)')}.depth_best-->"
                                     "D2<!--/v-->")


def test_sweep_sentences_name_the_plateau_and_its_two_windows():
    import hw1_3_params_generalization as sweep
    from test_verdicts import FLAT, sweep_results
    acc = {1: [0.10, 0.11, 0.12], 2: [0.50, 0.52, 0.51], 4: [0.70, 0.71, 0.72],
           8: FLAT, 16: FLAT[::-1]}
    r = sweep_results(acc)
    r["summary"] = sweep.summarise(r)
    v = report.values_params(r)
    before = r["summary"]["saturation"]["before"]
    assert v["pg.saturation"] == "800 parameters (width 8, 81.00%)"
    half = math.tanh(1.959964 * math.sqrt(1 / 3))      # Fisher z of rho 0 at n = 6
    assert v["pg.saturation_rule"] == (
        "no rising trend of test accuracy detected from width 8 (800 parameters) on (Spearman "
        f"over its window: ρ = 0.00, 95 % CI {-half:.2f} to {half:.2f}, "
        f"p = 1, n = 6; one width earlier it rises: ρ = {before['effect']:.2f}, "
        f"{report.p_text(before['p'])}, n = 9)")
    assert v["pg.loss_plateau"].startswith("no falling trend of test loss detected from width 8 "
                                           "(800 parameters) on (")
    assert v["pg.lowest_loss"] == "0.1900 at 800 parameters"
    # the two widest still rising: no saturation point
    r = sweep_results({**acc, 16: [0.90, 0.91, 0.92]})
    r["summary"] = sweep.summarise(r)
    v = report.values_params(r)
    assert v["pg.saturation"] == "no width (test accuracy still rises over the two widest)"
    assert v["pg.saturation_rule"] == ("test accuracy still rises over the two widest widths "
                                       "(Spearman: ρ = 0.88, p = 0.021, n = 6)")

"""Smoke runs of the three benchmarks at --quick on the synthetic data set (600 training and 200
test images), so that a benchmark cannot rot when a script changes: each run finishes, prices
every workload it names with positive times, and writes its table to --out-dir, never over the
committed benchmarks/*.md."""
import re
from pathlib import Path

import pytest

from benchmarks import bench, suite, threads
from common.report import SCRIPTS

ROOT = Path(__file__).resolve().parents[1]
SECONDS = re.compile(r"(\d+(?:\.\d+)?) (ms|s)\b")


@pytest.fixture
def quick_run(tmp_path, idx_dir):
    """module.main at --quick on the synthetic data; (its text, the table rows as cell lists);
    checks the committed tables are untouched and the written table is the returned text."""
    committed = {p: p.read_bytes() for p in sorted((ROOT / "benchmarks").glob("*.md"))}

    def run(module, name, *flags):
        text = module.main(["--quick", "--device", "cpu", "--dataset", "mnist", "--data-dir",
                            str(idx_dir), "--out-dir", str(tmp_path), *flags])
        assert {p: p.read_bytes() for p in committed} == committed
        assert (tmp_path / name).read_text() == text
        rows = [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines()
                if line.startswith("|") and not line.startswith("|---")]
        return text, rows
    return run


def seconds(cell):
    """The times written in a table cell, in seconds."""
    return [float(v) / (1000 if unit == "ms" else 1) for v, unit in SECONDS.findall(cell)]


def test_threads_quick_times_every_workload_quiet_and_busy(quick_run, monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    _, rows = quick_run(threads, "threads_cpu.md")
    header, *body = rows
    assert header[2:] == ["quiet, 1 thr", "quiet, 2 thr", "busy, 1 thr", "busy, 2 thr"]
    assert len(body) == 10
    assert {row[1] for row in body} == {"simulate_function", "mnist_cnn", "optimization",
                                        "grad_norm", "interpolation", "sensitivity"}
    assert all(len(seconds(" ".join(row[2:]))) == 4 for row in body)


def test_bench_quick_prices_the_pipeline_and_one_script(quick_run):
    _, rows = quick_run(bench, "results_cpu.md")
    pairs = [r for r in rows if len(r) == 6 and r[0] != "workload"]
    assert len(pairs) == 4
    for _, _, t_base, _, t_ours, ratio in pairs:
        assert seconds(t_base)[0] >= 0 and seconds(t_ours)[0] >= 0 and ratio.endswith("x")
    scripts = [r for r in rows if len(r) == 4 and r[0].startswith("`")]
    assert [r[0] for r in scripts] == [f"`{bench.QUICK_SCRIPT[0]}.py`"]
    assert seconds(scripts[0][1])[0] > 0


def test_suite_quick_prices_every_script(quick_run):
    text, rows = quick_run(suite, "suite_cpu.md")
    for stem in SCRIPTS:
        assert f"**`{stem}.py`**" in text
    whole = [r for r in rows if len(r) == 5 and r[0].startswith("`")]
    assert [r[0] for r in whole] == [f"`{stem}.py`" for stem in SCRIPTS]
    priced = [r for r in rows if len(r) == 7 and r[0] not in ("work", "**total**")]
    assert priced and all(seconds(r[2]) and seconds(r[3]) and r[6].endswith("x") for r in priced)


def test_suite_table_totals_and_ratios_by_hand():
    """Two scripts priced by hand: per-script totals are count x unit summed, ratios usual/ours."""
    sections = [("hw1_a", [("work one", 10, 0.5, 0.1), ("work two", 4, 2.0, 1.0)]),
                ("hw1_b", [("work three", 60, 3.0, 1.0)])]
    text = suite.render("test machine", sections, {"hw1_a": 120.0, "hw1_b": 60.0})
    assert "| work one | 10 | 500 ms | 100 ms | 5.0 s | 1.0 s | 5.0x |" in text
    assert "| **total** | | | | **13 s** | **5 s** | **2.6x** |" in text     # 5 + 8 vs 1 + 4
    assert "| `hw1_b.py` | 3.0 min | 1.0 min | 3.0x | 1.0 min |" in text      # 180 s vs 60 s
    # whole suite: 13 + 180 = 193 s usual, 5 + 60 = 65 s ours, measured 180 s
    assert "| **total** | **3.2 min** | **1.1 min** | **3.0x** | **3.0 min** |" in text

"""One fixed thread count per run: the same seed gives the same JSON whatever else the machine
does."""
import json
import os
import subprocess
import sys
import time

import pytest
import torch

from conftest import TINY_FIT
from common import cli, threads

# What differs between two runs of the same command: when and how fast it ran.
RUN_FACTS = ("date", "wall_time_s", "peak_memory_mb")


def run_quick_sensitivity(out, idx_dir):
    """hw1_3_sensitivity.py --quick (one batch size) with default thread flags; its JSON without
    the timing facts. LeNet-5's channels_last convolutions sum their weight gradients in another
    order with 1 thread than with 2 (about 1e-6 relative), which shows in this run's sensitivity
    and top Hessian eigenvalue (checked here: --threads 1 and --threads 2 differ in the 7th
    digit), so a thread count that followed the load would show."""
    import hw1_3_sensitivity
    hw1_3_sensitivity.main(["--quick", "--device", "cpu", "--dataset", "mnist", "--data-dir",
                            str(idx_dir), "--out-dir", str(out), "--batch-sizes", "32",
                            "--target-train-loss", "0", "--sharpness-samples", "100",
                            "--sensitivity-samples", "100"])
    results = json.loads((out / "hw1_3_sensitivity.json").read_text())
    for key in RUN_FACTS:
        results["meta"].pop(key)
    return results


@pytest.mark.skipif(threads.available_cores() < 2, reason="needs two cores to share")
def test_a_busy_neighbour_does_not_change_the_json(tmp_path, idx_dir):
    out = tmp_path / "out"   # one folder for both runs: it is part of the recorded config
    quiet = run_quick_sensitivity(out, idx_dir)
    (out / "hw1_3_sensitivity.json").unlink()
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        busy = run_quick_sensitivity(out, idx_dir)
    finally:
        spinner.kill()
        spinner.wait()
    assert quiet["meta"]["threads"] == busy["meta"]["threads"] == threads.available_cores()
    assert quiet == busy


def test_thread_count_is_fixed_and_recorded(tmp_path):
    import hw1_1_simulate_function as script
    previous = torch.get_num_threads()
    r = script.main(TINY_FIT + ["--out-dir", str(tmp_path), "--threads", "1"])
    assert r["meta"]["threads"] == 1
    assert torch.get_num_threads() == previous            # restored after the run
    r = script.main(TINY_FIT + ["--out-dir", str(tmp_path)])
    assert r["meta"]["threads"] == threads.default_threads() == threads.available_cores()


def test_available_cores_follows_the_affinity_mask():
    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no affinity mask on this platform")
    assert threads.available_cores() == len(os.sched_getaffinity(0))
    assert cli.default_threads() == threads.available_cores()  # the flag's default

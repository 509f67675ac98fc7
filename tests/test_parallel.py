"""--jobs: worker results in order and equal to the one-process run; failures and interrupts end
every worker."""
import math
import multiprocessing
import os
import signal
import threading
import time

import pytest
import torch

import hw1_3_sensitivity
from common import cli, parallel


def test_tasks_come_back_in_order_and_a_failure_is_raised():
    assert parallel.run_tasks([(math.sqrt, 9.0), (math.sqrt, 4.0), (abs, -3)], 2, "t") == [3.0, 2.0, 3]
    with pytest.raises(ValueError, match="math domain error"):
        parallel.run_tasks([(math.sqrt, 4.0), (math.sqrt, -1.0)], 2, "t")
    assert multiprocessing.active_children() == []


def test_costly_tasks_are_submitted_first_and_results_keep_the_task_order():
    assert parallel.submission_order([1, 5, 2, 5], 4) == [1, 3, 2, 0]
    assert parallel.submission_order(None, 3) == [0, 1, 2]
    with pytest.raises(ValueError, match="2 costs for 3 tasks"):
        parallel.submission_order([1, 2], 3)
    tasks = [(math.sqrt, 9.0), (math.sqrt, 4.0), (abs, -3)]
    assert parallel.run_tasks(tasks, 2, "t", cost=[1, 2, 3]) == [3.0, 2.0, 3]
    with pytest.raises(ValueError, match="2 costs for 3 tasks"):   # also without workers
        parallel.run_tasks(tasks, 1, "t", cost=[1, 2])


def test_run_tasks_submits_in_cost_order(monkeypatch):
    """The executor sees the tasks largest cost first; the caller gets them in task order."""
    import concurrent.futures as cf
    submitted = []

    class Inline:
        def __init__(self, *args, **kwargs):
            self._processes = {}

        def submit(self, fn, *args):
            submitted.append(args)
            future = cf.Future()
            future.set_result(fn(*args))
            return future

        def shutdown(self, *args, **kwargs):
            pass
    monkeypatch.setattr(parallel.cf, "ProcessPoolExecutor", Inline)
    out = parallel.run_tasks([(abs, -1), (abs, -2), (abs, -3)], 2, "t", cost=[2, 3, 1])
    assert submitted == [(-2,), (-1,), (-3,)] and out == [1, 2, 3]


def test_interrupt_ends_the_workers():
    timer = threading.Timer(1.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        parallel.run_tasks([(time.sleep, 60)] * 3, 2, "t")
    assert time.perf_counter() - start < 30
    assert multiprocessing.active_children() == []


def test_sensitivity_with_two_jobs_equals_one_job(idx_dir):
    # one torch thread per training either way, so the trainings are bit-identical; the
    # experiment is called directly (the smoke tests cover the figures and the JSON)
    flags = ["--quick", "--threads", "1", "--dataset", "mnist", "--data-dir", str(idx_dir),
             "--batch-sizes", "128", "--matched-batch-sizes", "128",
             "--sensitivity-samples", "50", "--sharpness-samples", "50",
             "--train-subset", "300"]
    parser = hw1_3_sensitivity.build_parser()
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        one, two = (hw1_3_sensitivity.experiment(
            cli.parse_args(parser, flags + ["--jobs", jobs], hw1_3_sensitivity.QUICK),
            torch.device("cpu")) for jobs in ("1", "2"))
    finally:
        torch.set_num_threads(previous)
    assert one["jobs"] == 1 and two["jobs"] == 2
    assert one["runs"] == two["runs"] and one["matched"] == two["matched"]


def test_default_jobs_from_the_core_count(monkeypatch):
    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    assert parallel.default_jobs("cpu", 14) == 2          # sensitivity: 8 + 6 trainings
    assert parallel.default_jobs("cpu", 3) == 1           # 3 trainings: a third would run alone
    assert parallel.default_jobs("cpu", 18, threads_per_training=2) == 1   # CNNs
    assert parallel.default_jobs("cuda", 24) == 1
    monkeypatch.setattr(parallel, "available_cores", lambda: 16)
    assert parallel.default_jobs("cpu", 24) == parallel.MAX_DEFAULT_JOBS
    assert parallel.default_jobs("cpu", 14) == 3 and parallel.default_jobs("cpu", 3) == 3
    assert parallel.threads_per_job(3) == 5

"""Independent trainings side by side in worker processes (the scripts' --jobs flag).

Each task is a module-level function and its arguments; every task seeds its own training, so a
task gives the same result in a worker as in the main process with the same thread count.
Workers are spawned (not forked: a forked child of a process that has used OpenMP threads can
hang in its first parallel region), ignore Ctrl-C and are ended by the main process when it
stops for any reason, so no worker outlives a run.
"""
import concurrent.futures as cf
import multiprocessing
import signal

import torch

from common import train
from common.threads import available_cores
from common.train import progress

MAX_DEFAULT_JOBS = 4   # more workers than this rarely pay: each holds its own copy of the data


def default_jobs(device, n_tasks, threads_per_training=1):
    """1 on a GPU (one device, trainings queue on it anyway); on a CPU one job per
    `threads_per_training` cores (at most MAX_DEFAULT_JOBS), lowered while a last round would
    leave workers idle: with fewer than 4 rounds of tasks the count must divide them (3 LeNet-5
    trainings took 293 s one after the other and 459 s with 2 jobs on 2 cores, the third alone on
    one core). Scripts whose trainings use several threads well pass threads_per_training > 1:
    side by side on fewer threads each, they lose."""
    if torch.device(device).type != "cpu":
        return 1
    jobs = max(1, min(available_cores() // threads_per_training, MAX_DEFAULT_JOBS, n_tasks))
    while jobs > 1 and n_tasks < 4 * jobs and n_tasks % jobs:
        jobs -= 1
    return jobs


def threads_per_job(jobs):
    """torch threads of each worker: the cores shared out, at least one."""
    return max(1, available_cores() // jobs)


def _init_worker(threads):
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # the main process handles Ctrl-C
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    train.BARS["shown"] = False


def run_tasks(tasks, jobs, desc, threads=0, cost=None):
    """[fn(*args) for fn, *args in tasks], in order. jobs > 1: in that many worker processes with
    `threads` torch threads each (0: threads_per_job(jobs)), submitted in decreasing order of
    `cost` (one rough number per task, e.g. its expected training steps; None: in order), so that
    the last tasks to start are short and no worker waits long for another; the results are in
    the order of `tasks` either way. The first failure is raised in the caller (after the workers
    are ended), and so is an interrupt."""
    jobs = min(jobs, len(tasks))
    order = submission_order(cost, len(tasks))
    if jobs <= 1:
        return [fn(*args) for fn, *args in progress(tasks, desc)]
    pool = cf.ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                                  initializer=_init_worker, initargs=(threads or threads_per_job(jobs),))
    try:
        futures = [None] * len(tasks)
        for i in order:
            fn, *args = tasks[i]
            futures[i] = pool.submit(fn, *args)
        for future in progress(cf.as_completed(futures), desc, total=len(futures)):
            future.result()
        results = [future.result() for future in futures]
    except BaseException:
        for process in list((pool._processes or {}).values()):
            process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
    return results


def submission_order(cost, n):
    """Task indices, largest cost first (ties in task order); range(n) without costs."""
    if cost is None:
        return list(range(n))
    if len(cost) != n:
        raise ValueError(f"{len(cost)} costs for {n} tasks")
    return sorted(range(n), key=lambda i: -cost[i])

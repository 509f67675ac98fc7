"""Torch CPU threads chosen from the cores that other processes leave idle, re-checked as a run
goes on.

Measured on a 2-core CPU (benchmarks/threads_cpu.md): every workload of the suite is up to 2x
faster with 2 threads than with 1 on a quiet machine, but 3x to 16x slower with 2 threads than
with 1 when another process keeps one core busy (each parallel region waits for the thread that
shares its core). So a run uses one thread per idle core: it samples /proc/stat for the CPUs it
may run on, subtracts its own CPU time, and sets torch.set_num_threads accordingly, at the start
and then at most once a second from the progress loops (see tick()).
"""
import contextlib
import os
import time

import torch

CHECK_EVERY_S = 1.0
FIRST_SAMPLE_S = 0.1   # 10 jiffies: enough to see a busy core (> 0.5 of one)
_active = None  # the Governor of the run in progress, if any (set by adaptive_threads)


def _cpus():
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return list(range(os.cpu_count() or 1))


def _busy_seconds(cpus):
    """CPU-seconds spent non-idle so far on `cpus` (all processes), or None without /proc/stat."""
    try:
        with open("/proc/stat") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    wanted = {f"cpu{c}" for c in cpus}
    busy = 0
    for line in lines:
        fields = line.split()
        if fields and fields[0] in wanted:
            user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[1:9])
            busy += user + nice + system + irq + softirq + steal
    return busy / os.sysconf("SC_CLK_TCK")


def _own_seconds():
    t = os.times()
    return t.user + t.system


class Governor:
    """Sets torch's thread count to the number of idle cores (1 .. max_threads)."""

    def __init__(self, max_threads):
        self.cpus = _cpus()
        self.max_threads = max(1, min(max_threads, len(self.cpus)))
        self.seconds_at = {}  # thread count -> wall seconds spent at it
        self._mark()

    def _mark(self):
        self.t, self.busy, self.own = time.perf_counter(), _busy_seconds(self.cpus), _own_seconds()
        self.threads = torch.get_num_threads()

    def update(self):
        """Re-measure the others' load since the last call and set the thread count."""
        now, busy, own = time.perf_counter(), _busy_seconds(self.cpus), _own_seconds()
        elapsed = now - self.t
        self.seconds_at[self.threads] = self.seconds_at.get(self.threads, 0.0) + elapsed
        if busy is not None and self.busy is not None and elapsed > 0:
            others = max(0.0, (busy - self.busy) - (own - self.own)) / elapsed
            idle = len(self.cpus) - others
            torch.set_num_threads(max(1, min(self.max_threads, int(idle + 0.5))))
        self._mark()

    def summary(self):
        """{'threads': seconds} spent at each count (JSON-ready)."""
        self.update()
        return {str(k): round(v, 2) for k, v in sorted(self.seconds_at.items())}


@contextlib.contextmanager
def adaptive_threads(max_threads):
    """Within the block, tick() keeps the thread count at the number of idle cores."""
    global _active
    previous = torch.get_num_threads()
    governor = Governor(max_threads)
    time.sleep(FIRST_SAMPLE_S)  # a first look at the others' load before any work
    governor.update()
    governor.seconds_at.clear()
    _active = governor
    try:
        yield governor
    finally:
        _active = None
        torch.set_num_threads(previous)


@contextlib.contextmanager
def hold():
    """Keep the thread count fixed within the block: the same computation run twice inside it
    gives bit-identical results (reductions split across threads sum in another order)."""
    global _active
    saved, _active = _active, None
    try:
        yield
    finally:
        _active = saved


def tick():
    """Called from progress loops: re-check the load at most once per CHECK_EVERY_S."""
    if _active is not None and time.perf_counter() - _active.t >= CHECK_EVERY_S:
        _active.update()

"""The torch CPU thread count of a run: fixed for the whole run, never following the load.

A convolution's weight gradient sums over images in another order with 1 thread than with 2
(a relative difference of about 1e-5), and training amplifies such differences, so a run whose
thread count followed the machine's load would give different numbers for the same seed. The
count is therefore chosen once, from --threads or else from the cores this process may use, and
recorded in the JSON. Beside a busy process a 2-thread run is several times slower than a
1-thread one (benchmarks/threads_cpu.md): pass --threads 1 on a shared machine.
"""
import os


def available_cores():
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def default_threads():
    """Thread count of a run without --threads: one per core this process may use."""
    return available_cores()

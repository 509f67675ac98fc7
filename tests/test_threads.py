"""The thread governor: one torch thread per core that other processes leave idle."""
import pytest
import torch

from common import threads


@pytest.mark.parametrize("others_cores, expected", [(0.0, 2), (0.4, 2), (0.6, 1), (1.0, 1),
                                                    (2.0, 1)])
def test_thread_count_follows_the_others_load(monkeypatch, others_cores, expected):
    # Fake clocks: each update sees 1 s of wall time, 1.0 CPU-second of our own work, and
    # others_cores CPU-seconds of everybody else's on the 2 CPUs.
    state = {"t": 0.0, "busy": 0.0, "own": 0.0}
    monkeypatch.setattr(threads, "_cpus", lambda: [0, 1])
    monkeypatch.setattr(threads, "_busy_seconds", lambda cpus: state["busy"])
    monkeypatch.setattr(threads, "_own_seconds", lambda: state["own"])
    monkeypatch.setattr(threads.time, "perf_counter", lambda: state["t"])
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        governor = threads.Governor(max_threads=2)
        for _ in range(3):
            state["t"] += 1.0
            state["own"] += 1.0
            state["busy"] += 1.0 + others_cores
            governor.update()
            assert torch.get_num_threads() == expected
        assert sum(governor.seconds_at.values()) == pytest.approx(3.0)
    finally:
        torch.set_num_threads(previous)


def test_busy_seconds_grow_while_this_process_works():
    cpus = threads._cpus()
    first = threads._busy_seconds(cpus)
    if first is None:
        pytest.skip("no /proc/stat here")
    x = torch.randn(400, 400)
    for _ in range(50):
        x = torch.tanh(x @ x.T / 400)
    assert threads._busy_seconds(cpus) > first

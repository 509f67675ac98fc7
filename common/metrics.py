"""Metrics computed from training histories and trained models."""
import numpy as np


def convergence_epoch(losses, loss_tol=1e-3, change_tol=1e-5):
    """First epoch (1-based) where loss < loss_tol and the last two epoch-to-epoch changes are
    both < change_tol in absolute value; None if that never holds. losses: (epochs,)."""
    losses = np.asarray(losses, dtype=np.float64)
    if len(losses) < 3:
        return None
    change = np.abs(np.diff(losses))
    ok = (losses[2:] < loss_tol) & (change[1:] < change_tol) & (change[:-1] < change_tol)
    hits = np.flatnonzero(ok)
    return int(hits[0]) + 3 if hits.size else None

"""HW1-2: vectorised trainings equal looped ones, phase 2 lowers the gradient norm, smoke runs."""
import json

import numpy as np
import pytest
import torch

import hw1_2_grad_norm
import hw1_2_optimization
from common.data import function_samples
from common.metrics import flatten_params, load_flat_params
from common.models import MLP


# Stacked and lone trainings agree only in exact arithmetic (different summation orders), so
# they are compared in float64, where a few dozen Adam steps leave differences near 1e-14; 1e-9
# is far above that and far below what a mixed-up minibatch or gradient would give (~1e-3).
TOL = {"rtol": 1e-9, "atol": 1e-9}


def test_phase2_lowers_the_gradient_norm():
    x, y = (t[:, 0] for t in function_samples(hw1_2_grad_norm.TARGET, 50))
    epochs = hw1_2_grad_norm.phase1_epochs(30, 60, 4)
    assert list(epochs) == [30, 40, 50, 60]
    nets = hw1_2_grad_norm.phase1(x, y, range(4), epochs, lr=1e-3, weight_decay=1e-4)
    before = torch.stack([g.norm() for g in _grads(nets, x, y)])
    steps = hw1_2_grad_norm.phase2(nets, x, y, lr=1e-4, max_steps=300, threshold=1e-9)
    after = torch.stack([g.norm() for g in _grads(nets, x, y)])
    assert steps == [300] * 4 and torch.all(after < before) and after.sum() < 0.5 * before.sum()


def _grads(nets, x, y):
    """Per-training MSE gradients from autograd on plain MLPs (independent of common.shallow)."""
    out = []
    for theta in nets.flat():
        model = MLP((1, 500, 1))
        load_flat_params(model, theta)
        torch.nn.functional.mse_loss(model(x[:, None]), y[:, None]).backward()
        out.append(torch.cat([p.grad.flatten() for p in model.parameters()]))
    return out


def test_phase1_epochs_differ_and_match_a_lone_training():
    x, y = (t.double() for t in function_samples(hw1_2_grad_norm.TARGET, 40))
    nets = hw1_2_grad_norm.phase1(x[:, 0], y[:, 0], [3, 4], np.array([20, 40]), lr=1e-3,
                                  weight_decay=1e-4)
    for k, epochs in ((0, 20), (1, 40)):
        torch.manual_seed(3 + k)
        lone = MLP((1, 500, 1)).double()
        opt = torch.optim.Adam(lone.parameters(), lr=1e-3, weight_decay=1e-4)
        for _ in range(epochs):
            opt.zero_grad()
            torch.nn.functional.mse_loss(lone(x), y).backward()
            opt.step()
        torch.testing.assert_close(nets.flat()[k], flatten_params(lone), **TOL)


@pytest.mark.real_figures
def test_optimization_quick(tmp_path, idx_dir):
    results = hw1_2_optimization.main(["--quick", "--device", "cpu", "--out-dir", str(tmp_path),
                                       "--dataset", "mnist", "--data-dir", str(idx_dir),
                                       "--batch-size", "100"])
    for name in (".json", "_fc1.png", "_whole.png", "_surface_path.png", "_surface_random.png"):
        assert (tmp_path / f"hw1_2_optimization{name}").stat().st_size > 0
    surface = results["surfaces"]["path_plane"]
    origin = surface["loss"][surface["a"].index(0.0)][surface["b"].index(0.0)]
    final_train_loss_on_subset = results["surfaces"]["random_plane"]["loss"]
    mid = len(final_train_loss_on_subset) // 2
    assert origin == pytest.approx(final_train_loss_on_subset[mid][mid], rel=1e-12)
    assert surface["path"][-1] == [0.0, 0.0] or np.allclose(surface["path"][-1], 0, atol=1e-6)
    loss = np.asarray(results["train_loss"])
    assert loss.shape == (8, 4) and np.all(np.isfinite(loss)) and np.all(loss[:, -1] < loss[:, 0])
    coords = np.asarray(results["pca"]["whole"]["coords"])
    assert coords.shape == (8, 4, 2) and sum(results["pca"]["fc1"]["explained_variance_ratio"]) <= 1
    assert results["pca"]["fc1"]["n_params"] == 392500


@pytest.mark.real_figures
def test_grad_norm_quick(tmp_path, idx_dir):
    results = hw1_2_grad_norm.main(["--quick", "--device", "cpu", "--out-dir", str(tmp_path),
                                    "--dataset", "mnist", "--data-dir", str(idx_dir)])
    for name in ("_function.png", "_mnist.png", "_minimal_ratio.png", "_minimal_ratio_relu.png",
                 ".json"):
        assert (tmp_path / f"hw1_2_grad_norm{name}").stat().st_size > 0
    fit = results["function"]
    assert len(fit["loss"]) == 200 and fit["loss"][-1] < fit["loss"][0]
    assert np.all(np.isfinite(fit["grad_norm"]))
    for key, n_params in (("minimal_ratio", 141), ("minimal_ratio_relu", 1501)):
        rows = results[key]["trainings"]
        assert len(rows) == 6 and len({r["phase1_epochs"] for r in rows}) == 6
        for r in rows:
            assert r["n_positive"] + r["n_negative"] + r["n_zero"] == n_params
            assert 0 <= r["minimal_ratio"] <= 1 and r["reached"] == (r["grad_norm"] < 1e-3)
            assert list(r["by_tol"]) == ["1e-08", "1e-06", "0.0001"]
            assert all(sum(c) == n_params for c in r["by_tol"].values())
            assert r["by_tol"]["1e-06"] == [r["n_positive"], r["n_negative"], r["n_zero"]]
            # looser tolerance: never more negative eigenvalues
            negatives = [c[1] for c in r["by_tol"].values()]
            assert negatives == sorted(negatives, reverse=True)
            e = r["escape"]
            assert len(e["even"]) == len(e["predicted"]) == len(e["drop"]) == 3
            assert e["predicted"][0] == pytest.approx(r["min_eigenvalue"] * 1e-6 / 2, rel=1e-5)
            assert all(d <= ev + 1e-12 for d, ev in zip(e["drop"], e["even"]))  # min <= mean
    rows = results["minimal_ratio"]["trainings"]
    for r in rows:   # the LM phase never raises the norm; its last entry is the end point's norm
        norms = np.asarray(r["phase2_norms"])
        assert len(norms) == 31 and np.all(np.diff(norms) <= 0)
        assert abs(norms[-1] - r["grad_norm"]) <= 1e-3 * r["grad_norm"]
    on_disk = json.loads((tmp_path / "hw1_2_grad_norm.json").read_text())
    assert on_disk["minimal_ratio"]["trainings"][0]["loss"] == rows[0]["loss"]


def test_optimization_summary_by_hand():
    from hw1_2_optimization import summarise
    t = [-1.0, 0.0, 1.0]
    results = {"test_acc": [[0.1, 0.80], [0.1, 0.90], [0.1, 0.85]],
               "surfaces": {"slices": {"t": t, "loss": {
                   "training 1, direction 1": [3.0, 1.0, 5.0],     # rise (3 + 5) / 2 / 1 = 4
                   "training 1, direction 2": [4.0, 1.0, 6.0],     # 5
                   "training 2, direction 1": [20.0, 2.0, 0.5],    # 5.125, one end below
                   "training 2, direction 2": [26.0, 2.0, 30.0]}},
                   # path plane: the final model at (a, b) = (0, 0), loss 0.25
                   "path_plane": {"a": [-1.0, 0.0, 1.0], "b": [0.0, 1.0],
                                  "loss": [[9.0, 9.0], [0.25, 9.0], [9.0, 9.0]]},
                   # random plane (3 x 3, centre (1, 1)): edge midpoints 2, 7, 3, 5
                   "random_plane": {"alpha": [-1.0, 0.0, 1.0], "beta": [-1.0, 0.0, 1.0],
                                    "loss": [[0.0, 2.0, 0.0], [3.0, 1.0, 5.0], [0.0, 7.0, 0.0]]}},
               "pca": {"whole": {"coords": [[[0.0, 0.0], [0.0, 0.0]], [[3.0, 4.0], [6.0, 8.0]]]}}}
    s = summarise(results)
    assert s["final_loss"] == 0.25 and s["random_plane_edges"] == [2.0, 7.0]
    assert s["test_acc"]["range"] == [0.80, 0.90]
    assert s["pca_spread"] == {"start": 5.0, "end": 10.0, "ratio": 2.0}
    assert s["test_acc"]["mean"] == pytest.approx(0.85) and s["test_acc"]["n"] == 3
    assert s["test_acc"]["std"] == pytest.approx(0.05)
    assert s["slice_rise"] == {"training 1": [4.0, 5.0], "training 2": [5.125, 14.0]}
    assert s["slice_ends_above_centre"] == [3, 4]
    c = s["rise_comparison"]
    assert (c["a"], c["b"], c["n"]) == ("training 1", "training 2", [2, 2])
    assert c["effect"] == pytest.approx(9.5625 - 4.5) and c["verdict"] == "no difference detected"

"""HW1-3: sensitivity against finite differences, interpolation endpoints, smoke runs."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import hw1_3_interpolation
import hw1_3_sensitivity
from common.metrics import input_jacobian_norms
from common.models import MLP, LeNet5


def finite_difference_jacobian_norm(f, x, eps=1e-6):
    """Frobenius norm of the Jacobian of f at one input x by central differences (float64)."""
    cols = []
    flat = x.flatten()
    for i in range(flat.numel()):
        e = torch.zeros_like(flat)
        e[i] = eps
        cols.append((f((flat + e).view_as(x)) - f((flat - e).view_as(x))) / (2 * eps))
    return torch.stack(cols, 1).norm()


def test_sensitivity_equals_finite_differences_softmax_and_logits():
    torch.manual_seed(0)
    model = MLP((6, 8, 4)).double()
    x = torch.randn(5, 6, dtype=torch.float64)
    soft, logit = input_jacobian_norms(model, x, batch_size=2)
    assert torch.equal(torch.stack(input_jacobian_norms(model, x, batch_size=2)),
                       torch.stack((soft, logit)))
    soft3, logit3 = input_jacobian_norms(model, x, batch_size=3)   # batching changes nothing
    torch.testing.assert_close(soft3, soft, rtol=1e-12, atol=0)
    torch.testing.assert_close(logit3, logit, rtol=1e-12, atol=0)
    for i in range(5):
        fd_soft = finite_difference_jacobian_norm(lambda z: model(z[None]).softmax(1)[0], x[i])
        fd_logit = finite_difference_jacobian_norm(lambda z: model(z[None])[0], x[i])
        assert abs(soft[i] - fd_soft) < 1e-6 * max(1.0, fd_soft)
        assert abs(logit[i] - fd_logit) < 1e-6 * max(1.0, fd_logit)
    # J_softmax = (diag(p) - p p^T) J_logits and that matrix has spectral norm below 1, so the
    # softmax variant is strictly smaller: the two are different quantities.
    assert torch.all(soft < logit) and not torch.allclose(soft, logit)


def test_sensitivity_on_lenet_matches_vmap_jacrev():
    torch.manual_seed(1)
    model = LeNet5().double().eval()
    x = torch.randn(3, 1, 28, 28, dtype=torch.float64)
    soft, logit = input_jacobian_norms(model, x)
    jac = torch.func.vmap(torch.func.jacrev(lambda z: model(z[None]).softmax(1)[0]))(x)
    torch.testing.assert_close(soft, jac.flatten(1).norm(dim=1))
    jac = torch.func.vmap(torch.func.jacrev(lambda z: model(z[None])[0]))(x)
    torch.testing.assert_close(logit, jac.flatten(1).norm(dim=1))


def test_alphas_include_exact_endpoints():
    a = hw1_3_interpolation.alphas(20)
    assert len(a) == 61 and a[0] == -1 and a[-1] == 2 and 0.0 in a and 1.0 in a


def test_interpolation_endpoints_equal_the_models():
    torch.manual_seed(2)
    m1, m2 = LeNet5(), LeNet5()
    x, y = torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))
    out = hw1_3_interpolation.interpolate(m1, m2, [0.0, 0.5, 1.0], {"test": (x, y)}, "t")
    from common.train import evaluate_classifier
    assert (out["test_loss"][0], out["test_acc"][0]) == evaluate_classifier(m1, x, y, 2000)
    assert (out["test_loss"][2], out["test_acc"][2]) == evaluate_classifier(m2, x, y, 2000)
    assert out["test_loss"][1] != out["test_loss"][0]


def test_interpolation_off_the_segment_equals_a_model_built_tensor_by_tensor():
    """theta(alpha) at alpha = -1, 0.5, 2 against (1 - alpha) w_1 + alpha w_2 for each tensor:
    an alpha clamped to [0, 1], or the two ends swapped, fails."""
    from common.train import evaluate_classifier
    torch.manual_seed(3)
    m1, m2 = LeNet5(), LeNet5()
    x, y = torch.randn(48, 1, 28, 28), torch.randint(0, 10, (48,))
    values = [-1.0, 0.5, 2.0]
    out = hw1_3_interpolation.interpolate(m1, m2, values, {"test": (x, y)}, "t")
    s1, s2 = m1.state_dict(), m2.state_dict()
    for i, alpha in enumerate(values):
        probe = LeNet5()
        probe.load_state_dict({k: (1 - alpha) * s1[k] + alpha * s2[k] for k in s1})
        expected = evaluate_classifier(probe, x, y, hw1_3_interpolation.EVAL_BATCH_SIZE)
        assert (out["test_loss"][i], out["test_acc"][i]) == expected


def test_barriers_by_hand():
    a = [-1.0, 0.0, 0.25, 0.5, 0.75, 1.0, 2.0]
    # straight line from 1 to 3: 1.5, 2, 2.5 inside -> excess 0.5, 0.5, -0.5; the first maximum
    # wins; the highest inside point (2.5) is 0.5 below the higher end (3)
    assert hw1_3_interpolation.barriers(a, [9, 1, 2, 2.5, 2, 3, 9]) == (0.5, 0.25, -0.5)
    # a convex valley: below the straight line everywhere inside
    excess, at, above = hw1_3_interpolation.barriers(a, [5, 1, 0.5, 0.4, 0.5, 1, 5])
    assert excess == pytest.approx(-0.5) and at == 0.25 and above == pytest.approx(-0.5)


def test_interpolation_summary_by_hand():
    a = [0.0, 0.5, 1.0]

    def seed_run(mid, acc_2):
        line = {"theta_1": "m1", "theta_2": "m2", "train_loss": [1.0, mid, 1.0],
                "test_loss": [2.0, 2.0 + mid, 3.0]}
        ends = {"m1": {"train_loss": 1.0, "test_loss": 2.0, "test_acc": 0.80},
                "m2": {"train_loss": 1.0, "test_loss": 3.0, "test_acc": acc_2}}
        return {"pairs": {"p": line}, "endpoints": ends}
    results = {"alphas": a, "per_seed": [seed_run(m, acc) for m, acc in
                                         ((1.5, 0.70), (1.6, 0.71), (1.7, 0.72))]}
    s = hw1_3_interpolation.summarise(results)["pairs"]["p"]
    # train: barriers 0.5, 0.6, 0.7 above the line at 1 (t = 10.4, 2 dof, p = 0.009)
    assert s["train_barrier"]["values"] == pytest.approx([0.5, 0.6, 0.7])
    assert s["train_barrier"]["verdict"] == "above zero" and s["train_barrier"]["n"] == 3
    # test: the line runs from 2 to 3 (2.5 at the middle): 3.5 - 2.5 = 1.0, 1.1, 1.2
    assert s["test_barrier"]["values"] == pytest.approx([1.0, 1.1, 1.2])
    assert s["test_above_higher_end"] == pytest.approx([0.5, 0.6, 0.7])
    # theta_2 lower test accuracy by 0.10, 0.09, 0.08 (paired), its gap 1 higher in every seed
    assert s["test_acc"]["verdict"] == "lower" and s["test_acc"]["effect"] == pytest.approx(-0.09)
    assert s["gap"]["effect"] == pytest.approx(1.0) and s["gap"]["p"] == 0.0


@pytest.mark.real_figures
def test_interpolation_quick(tmp_path, idx_dir, monkeypatch):
    monkeypatch.setattr(hw1_3_interpolation, "EVAL_BATCH_SIZE", 64)  # several eval batches
    r = hw1_3_interpolation.main(["--quick", "--device", "cpu", "--out-dir", str(tmp_path),
                                  "--dataset", "mnist", "--data-dir", str(idx_dir)])
    for name in ("_batch.png", "_lr.png", "_init.png", ".json"):
        assert (tmp_path / f"hw1_3_interpolation{name}").stat().st_size > 0
    alphas = r["alphas"]
    assert r["seeds"] == [0, 1] and [s["seed"] for s in r["per_seed"]] == [0, 1]
    for seed_run in r["per_seed"]:
        for pair in seed_run["pairs"].values():
            for split in ("train", "test"):
                ep1 = seed_run["endpoints"][pair["theta_1"]]
                ep2 = seed_run["endpoints"][pair["theta_2"]]
                assert pair[f"{split}_loss"][alphas.index(0.0)] == ep1[f"{split}_loss"]
                assert pair[f"{split}_acc"][alphas.index(1.0)] == ep2[f"{split}_acc"]
                assert np.all(np.isfinite(pair[f"{split}_loss"]))
        # the line from the initialisation ends at the trained model, to the bit
        assert r["init_alphas"][0] == 0.0 and r["init_alphas"][-1] == 1.0
        for model_name, line in seed_run["init_lines"].items():
            for split in ("train", "test"):
                assert line[f"{split}_loss"][-1] == seed_run["endpoints"][model_name][
                    f"{split}_loss"]
        # ... and starts at the initialisation, the same for every model of the seed
        starts = {line["train_loss"][0] for line in seed_run["init_lines"].values()}
        assert len(starts) == 1
        name = hw1_3_interpolation.endpoint_name(100, 1e-2)
        hist = seed_run["endpoints"][name]["train_loss_history"]
        assert hist[-1] < hist[0]
    # each seed has its own initialisation: the first epoch's losses differ between seeds
    first, second = (s["endpoints"][name]["train_loss_history"][0] for s in r["per_seed"])
    assert first != second


@pytest.mark.real_figures
def test_sensitivity_quick_and_bad_batch_sizes(tmp_path, idx_dir, capsys):
    r = hw1_3_sensitivity.main(["--quick", "--device", "cpu", "--out-dir", str(tmp_path),
                                "--dataset", "mnist", "--data-dir", str(idx_dir)])
    for name in ("_batch_size.png", "_sharpness.png", "_matched.png"):
        assert (tmp_path / f"hw1_3_sensitivity{name}").stat().st_size > 0
    assert r["batch_sizes"] == [32, 256]
    m = r["matched"]
    assert m["batch_sizes"] == [32, 256] and m["lrs"] == {"32": 1e-2, "256": 1e-2 * 8 ** 0.5}
    for run in m["runs"].values():
        assert 1 <= run["epochs"]["mean"] <= 2 and run["steps"]["mean"] > 0
    for run in r["runs"].values():
        # the maximum starts at L(theta) itself, so the measure is never negative
        assert run["sharpness_5e-4"]["mean"] >= 0 and run["sharpness_1e-3"]["mean"] >= 0
        assert run["hessian_max_eig"]["mean"] != 0
    for run in r["runs"].values():
        assert run["sensitivity"]["mean"] > 0 and np.isfinite(run["test_loss"]["mean"])
    assert r["runs"]["32"]["steps"]["mean"] > r["runs"]["256"]["steps"]["mean"]
    with __import__("pytest").raises(SystemExit) as info:
        hw1_3_sensitivity.main(["--batch-sizes", "32,-4"])
    assert info.value.code == 2 and "\n" not in capsys.readouterr().err.strip()


def test_matched_training_stops_at_the_target_loss_or_the_cap(monkeypatch):
    from common.data import ImageData
    # the stopping rule only: the measures of the trained model are tested on their own
    # (test_metrics.py, the Dinh rescaling test); here they would take most of the time, so
    # each is replaced by a fingerprint of the model it is given (its parameter sum)
    def fingerprint(model, *a, **k):
        return {"params": sum(float(p.detach().double().sum()) for p in model.parameters())}
    monkeypatch.setattr(hw1_3_sensitivity, "sharpness", fingerprint)
    monkeypatch.setattr(hw1_3_sensitivity, "rescaling",
                        lambda *a, **k: {"rescaled_" + k: v for k, v in fingerprint(*a).items()})
    g = torch.Generator().manual_seed(0)
    data = ImageData(torch.randn(64, 1, 28, 28, generator=g), torch.randint(0, 10, (64,), generator=g),
                     torch.randn(16, 1, 28, 28, generator=g), torch.randint(0, 10, (16,), generator=g),
                     name="mnist", source="-", mean=0.0, std=1.0)
    probes = hw1_3_sensitivity.Probes(sensitivity_samples=8, sharpness_samples=8,
                                      sharpness_iterations=2)

    def train(epochs, targets=()):
        return hw1_3_sensitivity.train_one(data, 32, 0, "cpu", 1e-2, epochs, probes, targets)
    [easy] = train(3, (100.0,))
    assert easy["epochs"] == 1 and easy["steps"] == 2 and easy["last_epoch_loss"] <= 100.0
    assert "rescaled_params" in easy
    [hard] = train(3, (1e-9,))
    assert hard["epochs"] == 3 and hard["steps"] == 6 and hard["last_epoch_loss"] > 1e-9
    fixed = train(5)
    assert fixed["epochs"] == 5 and fixed["steps"] == 10 and "rescaled_params" not in fixed
    # two targets: the looser (100, epoch 1) measured on a copy, the training goes on to the
    # cap (1e-9 never reached): the first result is the 3-epoch training's, the second the
    # 1-epoch one's, each exactly, and only the smallest target's has the rescaling
    final, check = train(3, (1e-9, 100.0))
    assert final == hard and check == {k: v for k, v in easy.items() if "rescaled" not in k}
    assert final["params"] != check["params"] and train(3) == {
        k: v for k, v in hard.items() if "rescaled" not in k}
    # neither reached by the cap: both the final model's
    final, check = train(2, (1e-9, 1e-8))
    assert final["epochs"] == check["epochs"] == 2 and final["params"] == check["params"]


def test_sensitivity_plot_draws_std_bands_for_several_seeds(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt
    stats = {"mean": 1.0, "std": 0.1, "values": [0.9, 1.1]}
    keys = ("train_loss", "test_loss", "train_acc", "test_acc", "sensitivity")
    results = {"meta": {"dataset": "fashion-mnist", "config": {"lr": 0.01, "epochs": 2}},
               "model": "LeNet-5",
               "batch_sizes": [32, 64], "seeds": [0, 1], "sensitivity_samples": 10,
               "train_eval_samples": 100,
               "runs": {b: {k: dict(stats) for k in keys} for b in ("32", "64")}}
    drawn = []
    monkeypatch.setattr(hw1_3_sensitivity, "save_figure",
                        lambda fig, path: (drawn.append(fig), plt.close(fig)))
    hw1_3_sensitivity.plot_sensitivity(results, tmp_path / "s.png")
    polys = [c for ax in drawn[0].axes for c in ax.collections]
    assert len(polys) == 5  # train and test bands of loss and accuracy, the sensitivity band
    assert [len(ax.get_lines()) for ax in drawn[0].axes] == [2, 2, 1]
    assert "mean ± std over 2 seeds" in drawn[0]._suptitle.get_text()


def test_random_labels_are_a_permutation_and_the_target_epoch_rule():
    import hw1_3_random_labels as script
    labels = torch.arange(200) % 10
    shuffled = script.random_labels(labels, seed=3)
    assert torch.equal(torch.bincount(shuffled), torch.bincount(labels))  # same class counts
    assert (shuffled == labels).float().mean() < 0.3                       # pairing destroyed
    assert torch.equal(shuffled, script.random_labels(labels, seed=3))      # fixed by the seed
    assert script.first_epoch_reaching([0.5, 0.98, 0.991, 0.97, 0.995], 0.99) == 3
    assert script.first_epoch_reaching([0.5, 0.6], 0.99) is None


@pytest.mark.real_figures
def test_random_labels_quick(tmp_path, idx_dir):
    import hw1_3_random_labels as script
    r = script.main(["--quick", "--device", "cpu", "--out-dir", str(tmp_path), "--dataset",
                     "mnist", "--data-dir", str(idx_dir), "--max-epochs", "4"])
    for name in (".json", "_loss.png", "_accuracy.png", "_slowdown.png"):
        assert (tmp_path / f"hw1_3_random_labels{name}").stat().st_size > 0
    assert r["seeds"] == [0, 1] and [s["seed"] for s in r["per_seed"]] == [0, 1]
    for seed_run in r["per_seed"]:
        true, rand = seed_run["runs"]["true labels"], seed_run["runs"]["random labels"]
        assert len(true["train_acc"]) == len(rand["train_acc"]) <= 4
        assert true["train_acc"][-1] > rand["train_acc"][-1]  # real structure is learnt faster
        assert seed_run["label_agreement"] < 0.3
    # the seed sets the permutation and the initialisation: the two seeds' runs differ
    first, second = (s["runs"]["random labels"]["train_loss"][0] for s in r["per_seed"])
    assert first != second
    assert r["n_params"] == 784 * 512 + 512 + 512 * 512 + 512 + 5130


@pytest.mark.real_figures
def test_parameter_sweep_counts_and_quick(tmp_path, idx_dir):
    import hw1_3_params_generalization as script
    from common.models import count_params
    widths = script.build_parser().parse_args([]).widths
    assert len(widths) >= 12
    counts = [count_params(MLP(script.family_sizes(h))) for h in widths]
    # 784 h + h  +  h h + h  +  10 h + 10
    assert counts == [785 * h + (h + 1) * h + 10 * h + 10 for h in widths]
    assert counts[-1] / counts[0] > 10 ** 2.5
    r = script.main(["--quick", "--device", "cpu", "--out-dir", str(tmp_path), "--dataset",
                     "mnist", "--data-dir", str(idx_dir)])
    assert (tmp_path / "hw1_3_params_generalization_params.png").stat().st_size > 0
    assert [r["runs"][str(w)]["n_params"] for w in r["widths"]] == [
        785 * h + (h + 1) * h + 10 * h + 10 for h in (2, 16, 64)]
    for run in r["runs"].values():
        assert len(run["test_acc"]["values"]) == 2
        assert run["test_acc"]["mean"] == np.mean(run["test_acc"]["values"])


def test_interpolation_plot_draws_each_line_and_its_straight_baseline(tmp_path, monkeypatch):
    """Per seed and split: the loss curve as recorded, and the straight line from the loss at
    alpha = 0 to the loss at alpha = 1 over [0, 1] (the barrier's baseline)."""
    import matplotlib.pyplot as plt
    a = [-1.0, 0.0, 0.5, 1.0, 2.0]
    ends = {"m1": {"batch_size": 100, "lr": 0.01}, "m2": {"batch_size": 500, "lr": 0.01}}

    def line(shift):
        return {"varies": "batch size", "theta_1": "m1", "theta_2": "m2",
                "train_loss": [5.0, 1.0 + shift, 4.0, 2.0, 6.0], "train_acc": [0.5] * 5,
                "test_loss": [6.0, 1.5, 5.0, 3.5, 7.0], "test_acc": [0.4] * 5}
    results = {"meta": {"dataset": "fashion-mnist"}, "model": "LeNet-5", "alphas": a,
               "train_eval_samples": 100, "test_samples": 50,
               "per_seed": [{"pairs": {"batch": line(s)}, "endpoints": ends} for s in (0.0, 0.5)]}
    drawn = []
    monkeypatch.setattr(hw1_3_interpolation, "save_figure",
                        lambda fig, path: (drawn.append(fig), plt.close(fig)))
    hw1_3_interpolation.plot_interpolation(results, "batch", tmp_path / "i.png")
    loss_axis, _, zoom_axis = drawn[0].axes
    curves = [ln for ln in loss_axis.get_lines() if len(ln.get_xdata()) == 5]
    chords = [ln for ln in zoom_axis.get_lines() if ln.get_linestyle() == ":" and
              len(ln.get_xdata()) == 3]
    segments = [ln for ln in zoom_axis.get_lines() if ln.get_linestyle() != ":"]
    assert [list(c.get_ydata()) for c in segments] == [
        [1.0, 4.0, 2.0], [1.5, 5.0, 3.5], [1.5, 4.0, 2.0], [1.5, 5.0, 3.5]]
    assert [list(c.get_ydata()) for c in curves] == [
        [5.0, 1.0, 4.0, 2.0, 6.0], [6.0, 1.5, 5.0, 3.5, 7.0],
        [5.0, 1.5, 4.0, 2.0, 6.0], [6.0, 1.5, 5.0, 3.5, 7.0]]
    assert [list(c.get_ydata()) for c in chords] == [
        [1.0, 1.5, 2.0], [1.5, 2.5, 3.5], [1.5, 1.75, 2.0], [1.5, 2.5, 3.5]]
    assert all(list(c.get_xdata()) == [0.0, 0.5, 1.0] for c in chords)
    labels = [t.get_text() for t in drawn[0].legends[0].get_texts()]
    assert labels.count("straight line between the end losses (the barrier's baseline)") == 1


def test_dinh_rescaling_keeps_the_function_and_changes_the_curvature():
    import hw1_3_sensitivity as script
    from common.metrics import hessian_top_eigenvalue
    torch.manual_seed(0)
    model = LeNet5().double().eval()
    x = torch.randn(16, 1, 28, 28, dtype=torch.float64)
    y = torch.arange(16) % 10
    twin = script.rescaled(model, 10.0)
    torch.testing.assert_close(twin(x), model(x), rtol=1e-12, atol=1e-13)     # same function
    torch.testing.assert_close(twin.fc1.weight, 10 * model.fc1.weight, rtol=0, atol=0)
    torch.testing.assert_close(twin.fc2.weight, model.fc2.weight / 10, rtol=0, atol=0)
    assert torch.equal(twin.fc2.bias, model.fc2.bias) and torch.equal(twin.conv1.weight,
                                                                      model.conv1.weight)
    assert model.fc1.weight.data_ptr() != twin.fc1.weight.data_ptr()          # a copy

    def top(m):
        return hessian_top_eigenvalue(lambda: F.cross_entropy(m(x), y), list(m.parameters()),
                                      tol=1e-8)[0]
    # the curvature is not invariant: the fc2 weights' second derivatives grow by alpha^2
    assert top(twin) > 5 * top(model)


def test_log_band_axis_only_over_a_decade_of_means():
    import matplotlib.pyplot as plt
    fig, (wide, narrow, negative) = plt.subplots(1, 3)
    # means 2 and 40 (x20): log, from 2 / 2 = 1 to the highest band top (40 + 30) x 2 = 140
    hw1_3_sensitivity.log_band_axis(wide, [{"mean": 2.0, "std": 5.0}, {"mean": 40.0, "std": 30.0}])
    assert wide.get_yscale() == "log" and wide.get_ylim() == pytest.approx((1.0, 140.0))
    # means 8 and 75 (x9.4): linear, as is any panel with a mean at or below zero
    hw1_3_sensitivity.log_band_axis(narrow, [{"mean": 8.0, "std": 1.0}, {"mean": 75.0, "std": 1.0}])
    hw1_3_sensitivity.log_band_axis(negative, [{"mean": -1.0, "std": 1.0},
                                               {"mean": 75.0, "std": 1.0}])
    assert narrow.get_yscale() == negative.get_yscale() == "linear"
    plt.close(fig)

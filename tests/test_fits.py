import numpy as np
import torch
import torch.nn.functional as F

from conftest import unstack
from common.data import TARGET_FUNCTIONS, function_samples
from common.metrics import convergence_epoch
from common.models import FUNCTION_MODELS, StackedMLP, function_mlp
from common.train import train_stacked_regressors

# Equality tests of two computations that agree only in exact arithmetic run in float64: the
# stacked and the looped fits sum in different orders, so each step differs by rounding
# (~1e-16 relative), and Adam's normalised steps can amplify that over a run. 1e-9 leaves six
# orders of magnitude for that growth over 100 steps and is still 1e5 times smaller than the
# ~1e-4 differences a real fault (a leaking padded unit, a wrong gradient) produces in 100 steps.
TOL = {"rtol": 1e-9, "atol": 1e-9}


def fresh_models(seed, dtype=torch.float32):
    torch.manual_seed(seed)
    return [function_mlp(h).to(dtype) for _ in TARGET_FUNCTIONS for h in FUNCTION_MODELS.values()]


def plain_adam_fit(model, x, target, epochs, lr, weight_decay):
    """Reference: one model, torch's plain Adam (not fused), per-epoch losses before each step."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    losses = []
    for _ in range(epochs):
        loss = F.mse_loss(model(x), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    return torch.stack(losses)


def test_stacked_training_equals_looped_training():
    x, _ = function_samples("sin(5πx)", 64)
    x = x.double()
    targets = torch.stack([function_samples(f, 64)[1] for f in TARGET_FUNCTIONS
                           for _ in FUNCTION_MODELS]).double()
    stacked = StackedMLP(fresh_models(1, torch.float64)).double()
    stacked_losses = train_stacked_regressors(stacked, x, targets, 100, 1.2e-3, 1e-4)
    looped = fresh_models(1, torch.float64)
    for k, (model, target) in enumerate(zip(looped, targets)):
        losses = plain_adam_fit(model, x, target, 100, 1.2e-3, 1e-4)
        torch.testing.assert_close(stacked_losses[:, k], losses, **TOL)
        trained = unstack(stacked, k)
        for p_stacked, p_loop in zip(trained.parameters(), model.parameters()):
            torch.testing.assert_close(p_stacked, p_loop, **TOL)


def test_multi_seed_depth_group_equals_separate_fits():
    import hw1_1_simulate_function as script
    x, _ = function_samples("sin(5πx)", 40)
    x = x.double()
    targets = {f: function_samples(f, 40)[1].double() for f in ("sin(5πx)", "sign(sin(5πx))")}
    inits = {name: [m.double() for m in models]
             for name, models in script.initial_models([3, 4], "cpu").items()}
    names = ["M1", "M2"]  # one depth group, two widths (padding) x two targets x two seeds
    runs = script.fit_depth_group(names, inits, x, targets, epochs=60, lr=1.2e-3,
                                  weight_decay=1e-4)
    for name in names:
        for s in range(2):
            torch.manual_seed(3 + s)
            fresh = {n: function_mlp(h) for n, h in script.MODELS.items()}[name].double()
            for fname, y in targets.items():
                model = __import__("copy").deepcopy(fresh)
                losses = plain_adam_fit(model, x, y, 60, 1.2e-3, 1e-4)
                np.testing.assert_allclose(runs[(name, fname, s)][0], losses.numpy(), **TOL)
                with torch.no_grad():
                    np.testing.assert_allclose(runs[(name, fname, s)][1], model(x)[:, 0].numpy(),
                                               **TOL)


def test_zero_padding_stays_zero_during_training():
    x, y = function_samples("sin(5πx)", 50)
    models = fresh_models(2)[:3]
    stacked = StackedMLP(models)
    train_stacked_regressors(stacked, x, y.expand(3, -1, -1), 100, 1e-2, 1e-4)
    for i, w in enumerate(stacked.weights):
        for k, model in enumerate(models):
            out_f, in_f = model.layers[i].out_features, model.layers[i].in_features
            padded = w[k].clone()
            padded[:out_f, :in_f] = 0
            assert torch.count_nonzero(padded) == 0
            assert torch.count_nonzero(stacked.biases[i][k, out_f:]) == 0


def test_convergence_epoch_rule():
    # epoch:      1     2     3     4     5     6
    losses = [0.5, 9e-4, 2e-3, 9e-4, 8e-4, 7e-4]
    # below 1e-3 at epoch 2, above again at 3, below from epoch 4 to the end
    assert convergence_epoch(losses) == 4
    assert convergence_epoch(losses[:3]) is None          # ends above: not converged
    assert convergence_epoch([1.0, 1.0, 1.0]) is None    # flat but not below the loss threshold
    assert convergence_epoch(np.full(10, 1e-4)) == 1
    assert convergence_epoch([1e-4, 1e-3]) is None        # 1e-3 is not below 1e-3
    assert convergence_epoch([]) is None
    assert convergence_epoch([2.0, np.nan, 1e-4]) == 3    # a NaN counts as not below

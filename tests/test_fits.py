import numpy as np
import torch

from common.data import TARGET_FUNCTIONS, function_samples
from common.metrics import convergence_epoch
from common.models import FUNCTION_MODELS, StackedMLP, function_mlp
from common.train import train_regressor, train_stacked_regressors


def fresh_models(seed):
    torch.manual_seed(seed)
    return [function_mlp(h) for _ in TARGET_FUNCTIONS for h in FUNCTION_MODELS.values()]


def test_stacked_training_equals_looped_training():
    x, _ = function_samples("sin(5πx)", 64)
    targets = torch.stack([function_samples(f, 64)[1] for f in TARGET_FUNCTIONS
                           for _ in FUNCTION_MODELS])
    stacked = StackedMLP(fresh_models(1))
    stacked_losses = train_stacked_regressors(stacked, x, targets, 150, 1.2e-3, 1e-4)
    looped = fresh_models(1)
    for k, (model, target) in enumerate(zip(looped, targets)):
        losses = train_regressor(model, x, target, 150, 1.2e-3, 1e-4)
        torch.testing.assert_close(stacked_losses[:, k], losses, rtol=1e-4, atol=1e-6)
        trained = stacked.unstack(k)
        for p_stacked, p_loop in zip(trained.parameters(), model.parameters()):
            # Adam's sign-like step turns float noise in near-zero gradients into ~lr-sized moves
            torch.testing.assert_close(p_stacked, p_loop, rtol=1e-3, atol=1e-4)


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
    # epoch:        1    2     3      4        5         6
    losses = [0.5, 2e-3, 9e-4, 8.8e-4, 8.795e-4, 8.794e-4]
    # epoch 5: |L5-L4| = 5e-7 but |L4-L3| = 2e-5 -> not yet; epoch 6: both changes < 1e-5
    assert convergence_epoch(losses) == 6
    assert convergence_epoch([1.0, 1.0, 1.0]) is None  # flat but not below the loss threshold
    assert convergence_epoch(np.full(10, 1e-4)) == 3
    assert convergence_epoch([1e-4, 1e-4]) is None

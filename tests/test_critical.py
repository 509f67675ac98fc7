"""Critical-point solver and stacked tanh MLPs: known critical points, autograd/finite-difference
references for the gradient and the Hessian."""
import math

import torch

from common import critical
from common.models import mlp_params

SIZES = (1, 3, 2, 1)


def _saddle_problem(theta):
    """f(u, v) = u^2 - v^2 + v^4 for each row: gradient and Hessian in closed form.
    Critical points: (0, 0) a saddle (Hessian diag(2, -2)), (0, ±1/sqrt 2) minima."""
    u, v = theta[:, 0], theta[:, 1]
    grads = torch.stack([2 * u, -2 * v + 4 * v ** 3], 1)
    hess = torch.zeros(len(theta), 2, 2, dtype=theta.dtype)
    hess[:, 0, 0], hess[:, 1, 1] = 2.0, -2.0 + 12 * v ** 2
    return grads, hess


def test_lm_reaches_the_saddle_and_the_minimum_of_a_quartic():
    start = torch.tensor([[0.3, 0.2], [-0.2, 0.9]], dtype=torch.float64)
    theta, norms = critical.lm_critical_points(start, lambda t: _saddle_problem(t)[0],
                                               lambda t: _saddle_problem(t)[1], steps=30)
    torch.testing.assert_close(theta[0], torch.zeros(2, dtype=torch.float64), rtol=0, atol=1e-10)
    torch.testing.assert_close(theta[1], torch.tensor([0.0, 1 / math.sqrt(2)], dtype=torch.float64),
                               rtol=0, atol=1e-10)
    assert norms.shape == (2, 31) and torch.all(norms[:, -1] < 1e-12)
    assert torch.all(norms[:, 1:] <= norms[:, :-1])          # ||g|| never rises


def test_lm_reaches_the_known_critical_line_of_a_tiny_tanh_net():
    # f(x) = w2 tanh(w1 x + b1) + b2 on y = x: every (w1, b1, w2, b2) = (0, b, 0, mean y) has zero
    # gradient (tanh(b) * mean(residual) = 0), a line of saddles. Started next to it, the solver
    # must land on it.
    sizes = (1, 1, 1)
    x = torch.linspace(-1, 1, 21, dtype=torch.float64)
    y = x + 0.3
    start = torch.tensor([[0.02, 0.5, -0.03, 0.25]], dtype=torch.float64)
    theta, norms = critical.lm_critical_points(
        start, lambda t: critical.mse_grad(t, sizes, x, y)[1],
        lambda t: critical.mse_hessian(t, sizes, x, y), steps=60)
    w1, _, w2, b2 = theta[0].tolist()
    assert norms[0, -1] < 1e-10
    assert abs(w1) < 1e-6 and abs(w2) < 1e-6 and abs(b2 - y.mean().item()) < 1e-6


def _reference_mlp(theta_row, sizes):
    """nn.Sequential with the parameters of one row (independent of common.critical's forward)."""
    layers, i = [], 0
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        lin = torch.nn.Linear(a, b).double()
        with torch.no_grad():
            lin.weight.copy_(theta_row[i:i + a * b].view(b, a))
            lin.bias.copy_(theta_row[i + a * b:i + a * b + b])
        i += a * b + b
        layers += [lin] + ([torch.nn.Tanh()] if k < len(sizes) - 2 else [])
    return torch.nn.Sequential(*layers)


def test_init_matches_nn_linear_and_outputs_match_sequential():
    theta = critical.init_mlps(SIZES, [5, 6])
    assert theta.shape == (2, mlp_params(SIZES)) == (2, 1 * 3 + 3 + 3 * 2 + 2 + 2 + 1)
    torch.manual_seed(6)
    first = torch.nn.Linear(1, 3)
    assert torch.equal(theta[1, :3].float(), first.weight.detach().flatten())
    x = torch.linspace(-1, 1, 7, dtype=torch.float64)
    for k in range(2):
        expected = _reference_mlp(theta[k], SIZES)(x[:, None])[:, 0]
        torch.testing.assert_close(critical.mlp_outputs(theta, SIZES, x)[k], expected)


def test_gradient_and_hessian_equal_finite_differences():
    torch.manual_seed(0)
    theta = torch.randn(2, mlp_params(SIZES), dtype=torch.float64)
    x = torch.linspace(-1, 1, 9, dtype=torch.float64)
    y = torch.sin(3 * x)
    losses, grads = critical.mse_grad(theta, SIZES, x, y)
    hess = critical.mse_hessian(theta, SIZES, x, y)
    h = 1e-5
    eye = torch.eye(theta.shape[1], dtype=torch.float64)
    for k in range(2):
        fd_grad = torch.stack([(critical.mse_losses(theta[k:k + 1] + h * e, SIZES, x, y)
                                - critical.mse_losses(theta[k:k + 1] - h * e, SIZES, x, y))[0]
                               for e in eye]) / (2 * h)
        fd_hess = torch.stack([(critical.mse_grad(theta[k:k + 1] + h * e, SIZES, x, y)[1]
                                - critical.mse_grad(theta[k:k + 1] - h * e, SIZES, x, y)[1])[0]
                               for e in eye]) / (2 * h)
        # central differences: error O(h^2) ~ 1e-10 times third derivatives of order 1-10
        torch.testing.assert_close(grads[k], fd_grad, rtol=0, atol=1e-8)
        torch.testing.assert_close(hess[k], fd_hess, rtol=0, atol=1e-7)
        torch.testing.assert_close(hess[k], hess[k].T, rtol=0, atol=1e-12)
    torch.testing.assert_close(losses, critical.mse_losses(theta, SIZES, x, y))

"""Critical points of small networks: stacked tanh MLPs with exact Hessians, and a
Levenberg-Marquardt solver for grad L(theta) = 0 that is attracted to saddles as well as minima.

Parameters of K independent networks are one (K, P) tensor (float64 in practice); the layout of a
row is that of nn.Linear, layer by layer: weight (out, in) row-major, then bias (models.mlp_layers).
"""
import torch

from common.models import mlp_flat, mlp_layers


def init_mlps(sizes, seeds, dtype=torch.float64, device="cpu"):
    """(K, P): row k is nn.Linear's default initialisation of every layer under seed seeds[k]."""
    rows = []
    for seed in seeds:
        torch.manual_seed(seed)
        layers = [torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]
        rows.append(mlp_flat([(layer.weight.detach(), layer.bias.detach()) for layer in layers]))
    return torch.stack(rows).to(device=device, dtype=dtype)


def mlp_outputs(theta, sizes, x, activation=torch.tanh):
    """Outputs (K, N) of K scalar-input, scalar-output MLPs theta (K, P) at the points x (N,)."""
    h = x[None, :, None].expand(len(theta), -1, 1)
    for layer, (weight, bias) in enumerate(mlp_layers(sizes, theta)):
        h = torch.baddbmm(bias[:, None, :], h, weight.transpose(1, 2))
        if layer < len(sizes) - 2:
            h = activation(h)
    return h[..., 0]


def mse_losses(theta, sizes, x, y):
    """MSE of each of the K networks (K,) on the points (x, y)."""
    return ((mlp_outputs(theta, sizes, x) - y) ** 2).mean(1)


def mse_grad(theta, sizes, x, y):
    """(losses (K,), gradients (K, P)) of the MSE of each network."""
    theta = theta.detach().requires_grad_(True)
    losses = mse_losses(theta, sizes, x, y)
    (grads,) = torch.autograd.grad(losses.sum(), theta)
    return losses.detach(), grads


def mse_hessian(theta, sizes, x, y):
    """Exact Hessians (K, P, P) of the MSE: P backward passes through the gradient of all K
    networks at once (the networks are independent, so row j of every Hessian comes out of one
    pass). Several times faster here than torch.func's vmap(hessian) on these small nets."""
    theta = theta.detach().requires_grad_(True)
    (grads,) = torch.autograd.grad(mse_losses(theta, sizes, x, y).sum(), theta, create_graph=True)
    rows = []
    for j in range(theta.shape[1]):
        rows.append(torch.autograd.grad(grads[:, j].sum(), theta, retain_graph=True)[0])
    return torch.stack(rows, 1)


def lm_critical_points(theta, grad_fn, hess_fn, steps, refresh=5, damping=1e-2,
                       scales=(0.5, 1.0, 2.0, 4.0, 8.0), on_step=None):
    """Levenberg-Marquardt on the equations g(theta) = grad L(theta) = 0, for K problems at once.

    The Jacobian of g is the Hessian H = V diag(lam) V^T, so the step minimising
    ||g + H d||^2 + mu ||d||^2 is d = -V diag(lam / (lam^2 + mu)) V^T g: a Newton step towards the
    nearest critical point (saddle or minimum) in directions with lam^2 >> mu, a short gradient
    step on ||g||^2 in the others. Each problem tries theta + s d for s in `scales` and keeps the
    best only if ||g|| falls (so ||g|| never rises); mu shrinks after a success (more when a long
    step won) and grows 4x after a failure, like a trust region. H is recomputed every `refresh`
    steps and reused in between with the current g (a chord method: each reused step costs
    gradient evaluations only).

    theta (K, P); grad_fn(theta) -> (K, P); hess_fn(theta) -> (K, P, P).
    Returns (theta, norms (K, steps + 1): ||g|| after each step, the first entry at the start).
    """
    theta = theta.clone()
    mu = torch.full((len(theta),), damping, dtype=theta.dtype, device=theta.device)
    scales = torch.tensor(scales, dtype=theta.dtype, device=theta.device)
    grads = grad_fn(theta)
    norms = [grads.norm(dim=1)]
    for step in range(steps):
        if step % refresh == 0:
            lam, vecs = torch.linalg.eigh(hess_fn(theta))
        coeff = (vecs.transpose(1, 2) @ grads[:, :, None])[:, :, 0]
        direction = -(vecs @ (lam * coeff / (lam ** 2 + mu[:, None]))[:, :, None])[:, :, 0]
        trials = torch.stack([grad_fn(theta + s * direction) for s in scales])   # (S, K, P)
        trial_norms = trials.norm(dim=2)
        best_norm, best = trial_norms.min(0)
        better = best_norm < norms[-1]
        rows = torch.arange(len(theta), device=theta.device)
        theta = torch.where(better[:, None], theta + scales[best][:, None] * direction, theta)
        grads = torch.where(better[:, None], trials[best, rows], grads)
        shrink = torch.where(scales[best] > 1, 10.0, 3.0).to(mu)
        mu = torch.where(better, mu / shrink, mu * 4).clamp(1e-30, 1e10)
        norms.append(torch.where(better, best_norm, norms[-1]))
        if on_step is not None:
            on_step(step)
    return theta, torch.stack(norms, 1)


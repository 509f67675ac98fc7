"""The closed-form derivatives of common.shallow against torch.func / autograd on real MLPs."""
import torch
import torch.nn.functional as F

from common.metrics import flat_loss, flatten_params, hessian
from common.models import MLP
from common.shallow import ShallowNets


def setup(m=3, hidden=12, n=25):
    torch.manual_seed(0)
    models = [MLP((1, hidden, 1)).double() for _ in range(m)]
    x = torch.linspace(-1, 1, n, dtype=torch.float64)
    y = torch.sin(5 * x)
    return models, x, y


def test_flat_order_matches_mlp():
    models, _, _ = setup()
    nets = ShallowNets.from_mlps(models)
    for k, model in enumerate(models):
        assert torch.equal(nets.flat()[k], flatten_params(model))
    assert torch.equal(ShallowNets.from_flat(nets.flat()).flat(), nets.flat())


def test_loss_gradient_hvp_and_hessian_match_torch_func():
    models, x, y = setup()
    nets = ShallowNets.from_mlps(models)
    loss, g, hg = nets.grad_and_hvp(x, y)
    g_flat = torch.cat([g[0], g[1], g[2], g[3][:, None]], 1)
    hg_flat = torch.cat([hg[0], hg[1], hg[2], hg[3][:, None]], 1)
    hess = nets.hessian(x, y)
    for k, model in enumerate(models):
        fn = flat_loss(model, F.mse_loss, x[:, None], y[:, None])
        theta = flatten_params(model)
        torch.testing.assert_close(loss[k], fn(theta))
        torch.testing.assert_close(g_flat[k], torch.func.grad(fn)(theta))
        reference = hessian(fn, theta)
        torch.testing.assert_close(hess[k], reference)
        torch.testing.assert_close(hg_flat[k], reference @ g_flat[k])
    torch.testing.assert_close(nets.grad(x, y)[1][2], g[2])


def test_hvp_is_the_gradient_of_half_the_squared_gradient_norm():
    models, x, y = setup(m=2)
    nets = ShallowNets.from_mlps(models)
    params = [p.clone().requires_grad_() for p in nets.parts()]
    live = ShallowNets(*params)
    _, g = live.grad(x, y)
    torch.autograd.backward(sum(t.pow(2).sum() for t in g) / 2)  # double backward reference
    _, _, hg = nets.grad_and_hvp(x, y)
    for p, h in zip(params, hg):
        torch.testing.assert_close(p.grad, h)

import pytest
import torch

from conftest import unstack
from common.models import (CNN, CNN_DEPTH_SERIES, CNN_MODELS, DEPTH_SERIES, FUNCTION_MODELS,
                           MLP, LeNet5, StackedMLP, build_cnn, count_params, function_mlp)


def closed_form_mlp_params(sizes):
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def test_function_model_parameter_counts():
    counts = {name: count_params(function_mlp(h)) for name, h in FUNCTION_MODELS.items()}
    assert counts == {"M1": 2177, "M2": 2113, "M3": 2233}
    for hidden in FUNCTION_MODELS.values():
        assert count_params(function_mlp(hidden)) == closed_form_mlp_params((1, *hidden, 1))


def test_cnn_parameter_counts():
    counts = {name: count_params(CNN(c, f)) for name, (c, f) in CNN_MODELS.items()}
    assert counts == {"CNN1": 25550, "CNN2": 35992, "CNN3": 30434}
    # conv1: 16*c+c, conv2: 16*20*c+20, fc1: 320*f+f, fc2: 100*f+100, fc3: 1010
    for c, f in CNN_MODELS.values():
        assert count_params(CNN(c, f)) == 17 * c + 320 * c + 20 + 321 * f + 100 * f + 100 + 1010


def test_depth_series_parameter_counts():
    # 1-hidden: 3h + 1; L hidden layers: 2 w_1 + sum (w_i + 1) w_{i+1} + w_L + 1
    assert {n: count_params(function_mlp(h)) for n, h in DEPTH_SERIES.items()} == {
        "D1": 3 * 733 + 1, "D2": 2 * 45 + 46 * 45 + 46, "M1": 2177, "D8": 34 + 7 * 18 * 17 + 18}
    for name, hidden in DEPTH_SERIES.items():
        assert abs(count_params(function_mlp(hidden)) - 2200) <= 0.02 * 2200, name
    # conv c_in -> c_out k x k: k^2 c_in c_out + c_out; fc a -> b: a b + b
    def conv(c_in, c_out, k):
        return k * k * c_in * c_out + c_out
    expected = {"C1": conv(1, 16, 5) + 784 * 37 + 37 + 380,
                "C2": conv(1, 16, 5) + conv(16, 32, 5) + 288 * 56 + 56 + 570,
                "C4": conv(1, 8, 3) + conv(8, 16, 3) + conv(16, 32, 3) + conv(32, 32, 3)
                + 288 * 50 + 50 + 510}
    assert {n: count_params(build_cnn(n)) for n in CNN_DEPTH_SERIES} == expected
    for name, n in expected.items():
        assert abs(n - 30000) <= 0.03 * 30000, name
        assert build_cnn(name)(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    assert [build_cnn(n).conv_layers for n in CNN_DEPTH_SERIES] == [1, 2, 4]


def test_other_model_parameter_counts():
    assert count_params(LeNet5()) == 61706
    assert count_params(MLP((784, 500, 50, 10))) == 418060
    assert count_params(MLP((1, 500, 1))) == 1501


def test_cnn_shapes():
    x = torch.randn(3, 1, 28, 28)
    assert CNN(10, 50)(x).shape == (3, 10)
    assert LeNet5()(x).shape == (3, 10)


def test_stacked_mlp_matches_each_model_and_unstacks():
    torch.manual_seed(0)
    models = [function_mlp(h) for h in FUNCTION_MODELS.values()]
    stacked = StackedMLP(models)
    x = torch.linspace(-1, 1, 17).unsqueeze(1)
    out = stacked(x)
    for k, model in enumerate(models):
        torch.testing.assert_close(out[k], model(x), rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(unstack(stacked, k)(x), model(x))


def test_pool_then_relu_equals_relu_then_pool_with_gradients():
    import torch.nn.functional as F
    from common.models import pool_relu
    x = torch.randn(4, 3, 12, 12, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 3, 6, 6, dtype=torch.float64)
    ours = pool_relu(x)
    reference = F.max_pool2d(F.relu(x), 2)
    torch.testing.assert_close(ours, reference)
    g_ours, = torch.autograd.grad((ours * w).sum(), x)
    g_ref, = torch.autograd.grad((reference * w).sum(), x)
    torch.testing.assert_close(g_ours, g_ref)


@pytest.mark.parametrize("size, shape", [(2, (3, 4, 28, 28)), (2, (2, 3, 11, 9)), (4, (2, 16, 28, 28)),
                                         (3, (1, 2, 10, 7))])
@pytest.mark.parametrize("channels_last", [False, True])
def test_pool_without_autograd_equals_max_pool2d_to_the_bit(size, shape, channels_last):
    """The no-grad path (strided slices) against max_pool2d, with ties (a flat background, as
    conv outputs on Fashion-MNIST's zero borders are), odd sizes and channels_last inputs."""
    import torch.nn.functional as F
    from common.models import pool_relu
    x = torch.randn(shape)
    x[..., : shape[-2] // 2, :] = 0.25   # a tied region
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        ours = pool_relu(x, size)
    assert torch.equal(ours, F.relu(F.max_pool2d(x, size)))


def test_pool_under_autograd_keeps_max_pool2d_gradient_at_ties():
    """With autograd the gradient goes to one element of a tied window (max_pool2d), not split."""
    from common.models import pool_relu
    x = torch.zeros(1, 1, 2, 2, requires_grad=True)
    grad, = torch.autograd.grad(pool_relu(x + 1).sum(), x)
    assert sorted(grad.flatten().tolist()) == [0.0, 0.0, 0.0, 1.0]


def test_pool_without_autograd_takes_the_fast_path(monkeypatch):
    """Under no_grad the pool must not call max_pool2d (else the speed-up is silently lost)."""
    from common import models

    def refuse(*args, **kwargs):
        raise AssertionError("max_pool2d called under no_grad")
    monkeypatch.setattr(models.F, "max_pool2d", refuse)
    with torch.no_grad():
        models.LeNet5()(torch.randn(2, 1, 28, 28))
    with pytest.raises(AssertionError, match="under no_grad"):
        models.LeNet5()(torch.randn(2, 1, 28, 28))   # with autograd: max_pool2d, as it must


def test_lenet5_widths_are_arguments_and_fc1_follows_the_channels():
    import torch
    from common.models import LeNet5, count_params
    assert count_params(LeNet5()) == 61706
    c1, c2, h1, h2 = 4, 10, 30, 20
    model = LeNet5(channels=(c1, c2), hidden=(h1, h2))
    expected = ((25 * c1 + c1) + (25 * c1 * c2 + c2) + (c2 * 25 * h1 + h1) + (h1 * h2 + h2)
                + (h2 * 10 + 10))
    assert count_params(model) == expected
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)


def test_flat_mlp_layout_is_the_module_parameter_order():
    from common.models import mlp_flat, mlp_layers, mlp_params
    sizes = (3, 4, 2)
    torch.manual_seed(0)
    models = [MLP(sizes) for _ in range(2)]
    theta = torch.stack([torch.nn.utils.parameters_to_vector(m.parameters()) for m in models])
    assert mlp_params(sizes) == count_params(models[0]) == 3 * 4 + 4 + 4 * 2 + 2 == 26
    layers = mlp_layers(sizes, theta)            # two networks, one per row
    for k, model in enumerate(models):
        for (w, b), linear in zip(layers, model.layers):
            assert torch.equal(w[k], linear.weight) and torch.equal(b[k], linear.bias)
        single = mlp_layers(sizes, theta[k])     # one network: no leading dimension
        assert [tuple(w.shape) for w, _ in single] == [(4, 3), (2, 4)]
    assert torch.equal(mlp_flat(layers), theta)
    layers[1][1][0, 0] = 7.0                      # views: writing a layer writes theta
    assert theta[0, 3 * 4 + 4 + 4 * 2] == 7.0
    with pytest.raises(ValueError, match="25 entries"):
        mlp_layers(sizes, theta[:, :25])

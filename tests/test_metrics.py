"""Every metric against an independent computation (finite differences, closed forms, numpy)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from common.metrics import (eigenvalue_summary, escape_along, flat_loss, flatten_params,  # noqa: E402
                            gradient_norm, hessian, load_flat_params, pca_2d, sign_counts,
                            unflatten_params)
from common.models import MLP, LeNet5  # noqa: E402
from hw1_2_optimization import draw_pca_paths  # noqa: E402


def test_gradient_norm_equals_clip_grad_norm_total():
    torch.manual_seed(0)
    model = MLP((3, 7, 2))
    F.mse_loss(model(torch.randn(5, 3)), torch.randn(5, 2)).backward()
    ours = gradient_norm(model.parameters())
    reported = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1e9)
    torch.testing.assert_close(ours, reported)
    by_hand = np.sqrt(sum((p.grad.double() ** 2).sum().item() for p in model.parameters()))
    assert abs(ours.item() - by_hand) < 1e-6 * by_hand


def test_hessian_equals_finite_differences_of_the_gradient():
    torch.manual_seed(1)
    model = MLP((1, 6, 1)).double()
    x = torch.linspace(-1, 1, 9, dtype=torch.float64).unsqueeze(1)
    y = torch.sin(3 * x)
    loss = flat_loss(model, F.mse_loss, x, y)
    theta = flatten_params(model)
    h = hessian(loss, theta, chunk_size=5)
    grad = torch.func.grad(loss)
    eps = 1e-6
    fd = torch.stack([(grad(theta + eps * e) - grad(theta - eps * e)) / (2 * eps)
                      for e in torch.eye(len(theta), dtype=torch.float64)])
    torch.testing.assert_close(h, (fd + fd.T) / 2, rtol=1e-5, atol=1e-7)
    assert torch.count_nonzero(h) > len(theta)  # a real, non-diagonal Hessian


def test_minimal_ratio_of_a_quadratic_with_known_eigenvalues():
    eigs = torch.tensor([5.0, 2.0, 1e-3, 0.0, 1e-12, -0.5, -3.0], dtype=torch.float64)
    q, _ = torch.linalg.qr(torch.randn(7, 7, dtype=torch.float64))
    a = q @ torch.diag(eigs) @ q.T
    h = hessian(lambda t: 0.5 * t @ a @ t, torch.randn(7, dtype=torch.float64))
    summary = eigenvalue_summary(torch.linalg.eigvalsh(h), rel_tol=1e-6)
    assert (summary["n_positive"], summary["n_negative"], summary["n_zero"]) == (3, 2, 2)
    assert summary["minimal_ratio"] == 3 / 7 and summary["ratio_nonzero"] == 3 / 5
    assert abs(summary["max_eigenvalue"] - 5) < 1e-9 and abs(summary["min_eigenvalue"] + 3) < 1e-9


def test_sign_counts_at_three_tolerances_by_hand():
    eigs = torch.tensor([-1e-5, 1e-7, 2e-3, 1.0, -0.5], dtype=torch.float64)  # max|lambda| = 1
    assert sign_counts(eigs, (1e-8, 1e-6, 1e-4)) == {
        "1e-08": [3, 2, 0], "1e-06": [2, 2, 1], "0.0001": [2, 1, 2]}
    # the tolerance is relative to max|lambda|: the same spectrum times 100 counts the same
    assert sign_counts(100 * eigs, (1e-6,)) == {"1e-06": [2, 2, 1]}


def test_escape_along_a_quadratic_matches_the_closed_form():
    # L(theta) = theta^T A theta / 2 + b^T theta per row, A = diag(2, -3): along e2 (lambda = -3)
    # the even part is exactly -3 t^2 / 2 and the lower side lies |b2| t + 3 t^2 / 2 below
    a = torch.diag(torch.tensor([2.0, -3.0], dtype=torch.float64))
    b = torch.tensor([[0.5, -0.2], [0.0, 0.4]], dtype=torch.float64)
    theta = torch.tensor([[1.0, 2.0], [-1.0, 0.5]], dtype=torch.float64)

    def loss(t):
        return 0.5 * ((t @ a) * t).sum(1) + (b * t).sum(1)
    direction = torch.tensor([[0.0, 1.0], [0.0, -1.0]], dtype=torch.float64)  # sign irrelevant
    out = escape_along(loss, theta, direction, torch.tensor([-3.0, -3.0], dtype=torch.float64),
                       steps=(1e-2, 0.5))
    slope = np.array([-0.2 + (-3.0) * 2.0, 0.4 + (-3.0) * 0.5])   # grad . e2 = b2 + A22 theta2
    for k in range(2):
        for i, t in enumerate((1e-2, 0.5)):
            assert out["even"][k][i] == pytest.approx(-1.5 * t ** 2, rel=1e-9)
            assert out["predicted"][k][i] == pytest.approx(-1.5 * t ** 2, rel=1e-12)
            assert out["drop"][k][i] == pytest.approx(-abs(slope[k]) * t - 1.5 * t ** 2, rel=1e-9)
    # a direction of positive curvature: the even part is +lambda t^2 / 2, the drop only first order
    out = escape_along(loss, theta, torch.tensor([[1.0, 0.0]] * 2, dtype=torch.float64),
                       torch.tensor([2.0, 2.0], dtype=torch.float64), steps=(0.1,))
    assert out["even"][0][0] == pytest.approx(0.01, rel=1e-9)
    assert out["drop"][1][0] == pytest.approx(-abs(-1.0 * 2.0 + 0.0) * 0.1 + 0.01, rel=1e-9)


def test_epsilon_sharpness_reaches_the_brute_force_maximum_inside_the_box():
    from common.metrics import epsilon_sharpness
    # L(a, b) = -2 (a - 0.2)^2 + b^3 - b at theta = 0, eps = 0.5: the box is [-0.5, 0.5]^2; the
    # maximum lies inside in a (a = 0.2) and on the edge in b (b = -0.5): not at a corner
    theta = torch.zeros(2, dtype=torch.float64, requires_grad=True)

    def loss_fn():
        a, b = theta
        return -2 * (a - 0.2) ** 2 + b ** 3 - b
    grid = np.linspace(-0.5, 0.5, 1001)
    a, b = np.meshgrid(grid, grid, indexing="ij")
    brute = (-2 * (a - 0.2) ** 2 + b ** 3 - b).max()
    base = loss_fn().item()
    expected = 100 * (brute - base) / (1 + base)
    assert brute == pytest.approx(0.375, abs=1e-12)          # grid point (0.2, -0.5)
    assert epsilon_sharpness(loss_fn, [theta], 0.5) == pytest.approx(expected, rel=1e-6)
    assert theta.tolist() == [0.0, 0.0]
    # one iteration does not get there yet: the result is a lower bound, never above the maximum
    assert epsilon_sharpness(loss_fn, [theta], 0.5, iterations=1) <= expected + 1e-9


def test_pca_matches_numpy_svd():
    rng = np.random.default_rng(0)
    snaps = (rng.normal(size=(24, 300)) * np.linspace(3, 0.1, 300)).astype(np.float32)
    coords, ratio = pca_2d(torch.from_numpy(snaps))
    centred = snaps.astype(np.float64) - snaps.astype(np.float64).mean(0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    expected = u[:, :2] * s[:2]
    expected *= np.sign(expected[np.abs(expected).argmax(0), [0, 1]])
    np.testing.assert_allclose(coords.numpy(), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ratio.numpy(), s[:2] ** 2 / (s ** 2).sum(), rtol=1e-8)


def test_flatten_and_restore_round_trip():
    torch.manual_seed(2)
    model, other = LeNet5(), LeNet5()
    theta = flatten_params(model)
    assert theta.numel() == 61706
    load_flat_params(other, theta)
    for (n1, p1), (n2, p2) in zip(model.named_parameters(), other.named_parameters()):
        assert n1 == n2 and torch.equal(p1, p2)
    assert torch.equal(unflatten_params(model, theta)["conv1.weight"], model.conv1.weight)


def test_pca_annotations_sit_on_their_own_points():
    # Known arrangement: run r, record e sits at (e, r) and has accuracy r / 10 + e / 1000, so
    # every label names its point; an epoch-major/run-major mix-up would break the match.
    runs, records = 3, 8
    coords = [[[e, r] for e in range(records)] for r in range(runs)]
    acc = [[r / 10 + e / 1000 for e in range(records)] for r in range(runs)]
    fig, ax = plt.subplots()
    draw_pca_paths(ax, coords, acc)
    texts = ax.texts
    assert len(texts) == runs * 3  # records 0, 1 (after epoch 1) and the last (7)
    assert sorted({int(t.xy[0]) for t in texts}) == [0, 1, 7]
    for text in texts:
        e, r = text.xy
        assert text.get_text() == f"{100 * acc[int(r)][int(e)]:.1f}"
    plt.close(fig)


def _plain_mlp_loss(sizes, theta, x, y):
    """Reference: an nn.Module MLP loaded with theta, plain forward pass."""
    model = MLP(sizes).double()
    load_flat_params(model, theta)
    return F.cross_entropy(model(x), y).item()


def test_plane_losses_equal_plain_forward_passes():
    from common.metrics import mlp_plane_losses
    torch.manual_seed(3)
    sizes = (12, 7, 5, 3)
    theta = flatten_params(MLP(sizes).double())
    d1, d2 = torch.randn_like(theta), torch.randn_like(theta)
    x, y = torch.randn(40, 12, dtype=torch.float64), torch.randint(0, 3, (40,))
    a_values, b_values = [-0.5, 0.0, 0.25], [0.0, 0.7]
    grid = mlp_plane_losses(sizes, theta, d1, d2, x, y, a_values, b_values)
    assert grid[1, 0] == pytest.approx(_plain_mlp_loss(sizes, theta, x, y), rel=1e-12)
    for i, a in enumerate(a_values):
        for j, b in enumerate(b_values):
            expected = _plain_mlp_loss(sizes, theta + a * d1 + b * d2, x, y)
            assert grid[i, j].item() == pytest.approx(expected, rel=1e-12)


def test_filter_normalised_direction_has_the_models_row_norms():
    from common.metrics import filter_normalised_direction
    from common.models import mlp_layers
    torch.manual_seed(4)
    sizes = (9, 6, 4)
    theta = flatten_params(MLP(sizes))
    d = filter_normalised_direction(sizes, theta, torch.Generator().manual_seed(0))
    for (w, _), (dw, db) in zip(mlp_layers(sizes, theta), mlp_layers(sizes, d)):
        torch.testing.assert_close(dw.norm(dim=1), w.norm(dim=1), rtol=1e-6, atol=0)
        assert torch.count_nonzero(db) == 0 and not torch.allclose(dw, w)


def test_path_directions_match_numpy_pca():
    from common.metrics import path_directions
    rng = np.random.default_rng(1)
    path = rng.normal(size=(9, 30)) * np.linspace(4, 0.2, 30)
    directions, ratio = path_directions(torch.from_numpy(path))
    centred = path - path.mean(0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    for k in range(2):  # same axis up to sign
        assert abs(abs(float(directions[k].numpy() @ vt[k])) - 1) < 1e-10
    np.testing.assert_allclose(ratio.numpy(), s[:2] ** 2 / (s ** 2).sum(), rtol=1e-10)


def test_surface_grid_contains_zero_and_the_path():
    from hw1_2_optimization import grid_through_zero
    grid = grid_through_zero([-3.2, -1.0, 0.0, 0.4], 31, 0.15)
    assert 0.0 in grid and len(grid) in (31, 32)
    assert grid[0] < -3.2 and grid[-1] > 0.4


def test_hessian_top_eigenvalue_equals_the_dense_hessian():
    from common.metrics import hessian_top_eigenvalue
    torch.manual_seed(5)
    model = MLP((3, 6, 2)).double()
    x, y = torch.randn(20, 3, dtype=torch.float64), torch.randint(0, 2, (20,))
    params = list(model.parameters())
    value, _ = hessian_top_eigenvalue(lambda: F.cross_entropy(model(x), y), params, tol=1e-10)
    dense = hessian(flat_loss(model, F.cross_entropy, x, y), flatten_params(model))
    top = torch.linalg.eigvalsh(dense).max().item()
    assert value == pytest.approx(top, rel=1e-8)
    # The scripts' tolerance: ARPACK stops when the residual is below tol * |value|, and for a
    # symmetric matrix the eigenvalue error is at most the residual norm.
    value, products = hessian_top_eigenvalue(lambda: F.cross_entropy(model(x), y), params)
    assert value == pytest.approx(top, rel=1e-3) and products < 21
    # two parameters: the basis cannot exceed the dimension
    w = torch.tensor([0.3, -0.2], dtype=torch.float64, requires_grad=True)
    value, _ = hessian_top_eigenvalue(lambda: (w[0] ** 2 + 3 * w[0] * w[1] + 5 * w[1] ** 2), [w],
                                      tol=1e-10)
    assert value == pytest.approx(torch.linalg.eigvalsh(torch.tensor([[2.0, 3.0], [3.0, 10.0]],
                                  dtype=torch.float64)).max().item(), rel=1e-8)


def test_epsilon_sharpness_equals_the_best_box_corner():
    from common.metrics import epsilon_sharpness
    # L(a, b) = (a - 1)^2 + 3 (b + 2)^2 + a b: convex (Hessian [[2, 1], [1, 6]]), so its maximum
    # over a box is at a corner; brute force over the four corners is the reference.
    theta = torch.tensor([0.3, -0.7], dtype=torch.float64, requires_grad=True)

    def loss_fn():
        a, b = theta
        return (a - 1) ** 2 + 3 * (b + 2) ** 2 + a * b
    eps = 0.05
    base = loss_fn().item()
    half = [eps * (abs(v) + 1) for v in theta.tolist()]
    corners = []
    for sa in (-1, 1):
        for sb in (-1, 1):
            a, b = theta[0].item() + sa * half[0], theta[1].item() + sb * half[1]
            corners.append((a - 1) ** 2 + 3 * (b + 2) ** 2 + a * b)
    expected = 100 * (max(corners) - base) / (1 + base)
    assert epsilon_sharpness(loss_fn, [theta], eps) == pytest.approx(expected, rel=1e-12)
    assert theta.tolist() == [0.3, -0.7]  # parameters restored


def test_pca_gram_from_column_chunks_equals_one_block():
    from common.metrics import _principal
    rows = torch.from_numpy(np.random.default_rng(2).normal(size=(6, 50)))
    (m1, l1, u1), (m7, l7, u7) = _principal(rows, chunk=50), _principal(rows, chunk=7)
    torch.testing.assert_close(m7, m1, rtol=1e-14, atol=1e-14)
    torch.testing.assert_close(l7, l1, rtol=1e-12, atol=1e-12)
    # eigenvectors agree up to sign
    torch.testing.assert_close((u7 * u1).sum(0).abs()[:5], torch.ones(5, dtype=torch.float64),
                               rtol=1e-10, atol=1e-10)

"""Metrics computed from training histories and trained models."""
import numpy as np
import torch

from common.models import mlp_layers


def convergence_epoch(losses, loss_tol=1e-3):
    """First epoch (1-based) from which the loss stays below loss_tol to the last epoch; None if
    the last loss is not below it (so that "converged" always agrees with the final loss).
    losses: (epochs,)."""
    above = np.flatnonzero(~(np.asarray(losses, dtype=np.float64) < loss_tol))
    if len(losses) == 0 or (above.size and above[-1] == len(losses) - 1):
        return None
    return int(above[-1]) + 2 if above.size else 1


# --- gradient norm ---------------------------------------------------------------------------

def gradient_norm(parameters):
    """Total 2-norm of the .grad of all parameters: sqrt(sum_p sum(grad_p^2)) (a 0-d tensor)."""
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.zeros((), device="cpu")
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))


# --- Hessian spectrum and minimal ratio ------------------------------------------------------

def hessian(loss_of_flat, theta, chunk_size=256):
    """Exact Hessian (P, P) of a scalar function of a flat parameter vector theta (P,).

    Reverse-over-reverse with torch.func (rows in chunks to bound memory); symmetrised.
    """
    h = torch.func.jacrev(torch.func.grad(loss_of_flat), chunk_size=chunk_size)(theta)
    return (h + h.T) / 2


def eigenvalue_summary(eigenvalues, rel_tol=1e-6):
    """Counts of positive / negative / near-zero eigenvalues and the minimal ratio.

    An eigenvalue is 'near zero' when |lambda| <= rel_tol * max|lambda|. minimal_ratio is the
    share of ALL eigenvalues that are positive beyond that tolerance (1 = strict local minimum
    in every direction); ratio_nonzero is the same share among the non-zero ones only.
    """
    eig = torch.as_tensor(eigenvalues, dtype=torch.float64, device="cpu")
    tol = rel_tol * eig.abs().max().item() if eig.numel() else 0.0
    n_pos = int((eig > tol).sum())
    n_neg = int((eig < -tol).sum())
    n_zero = eig.numel() - n_pos - n_neg
    nonzero = n_pos + n_neg
    return {"minimal_ratio": n_pos / eig.numel(), "ratio_nonzero": n_pos / nonzero if nonzero else 0.0,
            "n_positive": n_pos, "n_negative": n_neg, "n_zero": n_zero, "abs_tol": tol,
            "rel_tol": rel_tol, "min_eigenvalue": eig.min().item(), "max_eigenvalue": eig.max().item()}


def sign_counts(eigenvalues, rel_tols):
    """{f"{tol:g}": [n_positive, n_negative, n_zero]} of one spectrum (P,) at each relative
    tolerance: |lambda| <= tol * max|lambda| counts as zero, as in eigenvalue_summary."""
    eig = torch.as_tensor(eigenvalues, dtype=torch.float64, device="cpu")
    top = eig.abs().max().item()
    counts = {}
    for rel_tol in rel_tols:
        n_pos, n_neg = int((eig > rel_tol * top).sum()), int((eig < -rel_tol * top).sum())
        counts[f"{rel_tol:g}"] = [n_pos, n_neg, eig.numel() - n_pos - n_neg]
    return counts


def escape_along(loss_fn, theta, direction, eigenvalue, steps):
    """Loss along the unit vector `direction` (K, P) from theta (K, P), both signs, for each step t:
    even part (L(theta + t d) + L(theta - t d)) / 2 - L(theta), which the quadratic model puts
    at eigenvalue * t^2 / 2 (K,) (the gradient's first-order term and the third-order term
    cancel), and drop min(L(theta + t d), L(theta - t d)) - L(theta). loss_fn: (K, P) -> (K,).
    Returns {"even", "predicted", "drop"}: lists (K, S)."""
    base = loss_fn(theta)
    even, drop, predicted = [], [], []
    for t in steps:
        plus, minus = loss_fn(theta + t * direction), loss_fn(theta - t * direction)
        even.append((plus + minus) / 2 - base)
        drop.append(torch.minimum(plus, minus) - base)
        predicted.append(eigenvalue * t ** 2 / 2)
    return {key: torch.stack(v, 1).tolist()
            for key, v in (("even", even), ("predicted", predicted), ("drop", drop))}


# --- PCA of parameter snapshots --------------------------------------------------------------

def _principal(rows, chunk=1 << 16):
    """(mean (1, P) float64, eigenvalues (n,) descending, eigenvectors (n, n)) of the Gram matrix
    of the centred rows (n, P), built in float64 from `chunk`-column blocks (the rows may be
    float32 and too large to copy whole in float64)."""
    mean = rows.mean(0, keepdim=True, dtype=torch.float64)
    gram = torch.zeros(len(rows), len(rows), dtype=torch.float64, device="cpu")
    for start in range(0, rows.shape[1], chunk):
        block = rows[:, start:start + chunk].double() - mean[:, start:start + chunk]
        gram += (block @ block.T).cpu()
    eigvals, eigvecs = torch.linalg.eigh(gram)
    return mean, eigvals.flip(0).clamp_min(0), eigvecs.flip(1)


def pca_2d(snapshots):
    """Project rows of `snapshots` (n, P) on their top-2 principal components.

    Gram-matrix trick (n << P): coordinates = U * sqrt(lambda). Signs fixed so that each
    component's largest |coordinate| is positive. Returns (coords (n, 2) float64,
    explained-variance ratio (2,) float64).
    """
    _, eigvals, eigvecs = _principal(snapshots)
    coords = eigvecs[:, :2] * eigvals[:2].sqrt()
    signs = torch.sign(coords.gather(0, coords.abs().argmax(0, keepdim=True)))
    return coords * signs, eigvals[:2] / eigvals.sum()


def path_directions(path):
    """Top-2 principal directions (2, P) of the rows of `path` (n, P), unit length, in path's
    dtype, and the explained-variance ratio (2,): V = U^T (path - mean) / sqrt(lambda)."""
    mean, eigvals, eigvecs = _principal(path, chunk=path.shape[1])   # one path fits in float64
    u = eigvecs[:, :2].to(path.device)
    directions = (u.T @ (path.double() - mean)) / eigvals[:2].sqrt().to(path.device)[:, None]
    return directions.to(path.dtype), eigvals[:2] / eigvals.sum()


# --- flat parameter vectors ------------------------------------------------------------------

def flatten_params(model):
    """All parameters of `model` as one flat vector (P,), in named_parameters() order."""
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def unflatten_params(model, theta):
    """Dict name -> tensor view of flat `theta` shaped like `model`'s parameters."""
    params, offset = {}, 0
    for name, p in model.named_parameters():
        params[name] = theta[offset:offset + p.numel()].view_as(p)
        offset += p.numel()
    if offset != theta.numel():
        raise ValueError(f"theta has {theta.numel()} entries, the model {offset}")
    return params


def load_flat_params(model, theta):
    """Copy flat `theta` into `model`'s parameters in place."""
    with torch.no_grad():
        for p, value in zip(model.parameters(), unflatten_params(model, theta).values()):
            p.copy_(value)
    return model


def flat_loss(model, loss_fn, x, y):
    """theta -> loss_fn(model with parameters theta (x), y), for torch.func transforms."""
    def loss_of_flat(theta):
        out = torch.func.functional_call(model, unflatten_params(model, theta), (x,))
        return loss_fn(out, y)
    return loss_of_flat


# --- input sensitivity (Novak et al., 2018) --------------------------------------------------

def input_jacobian_norms(model, x, batch_size=500):
    """Per-sample Frobenius norms of d softmax / d input and of d logits / d input: (N,), (N,).

    In eval mode samples do not interact (no batch statistics), so the gradient of
    logits[:, k].sum() with respect to the batch is row k of every sample's logit Jacobian J:
    one backward pass per output unit gives the whole batch's J, and the softmax Jacobian follows
    from it by the chain rule, (diag(p) - p p^T) J, with no second set of passes.
    """
    was_training = model.training
    model.eval()
    soft, logit = [], []
    for start in range(0, len(x), batch_size):
        xb = x[start:start + batch_size].detach().clone().requires_grad_(True)
        with torch.enable_grad():
            out = model(xb)
            rows = [torch.autograd.grad(out[:, k].sum(), xb, retain_graph=k < out.shape[1] - 1)[0]
                    .flatten(1) for k in range(out.shape[1])]
        jac = torch.stack(rows, 1)                                      # (B, classes, inputs)
        p = out.detach().softmax(1)
        soft_jac = p[:, :, None] * jac - p[:, :, None] * (p[:, None, :] @ jac)
        soft.append(soft_jac.flatten(1).norm(dim=1))
        logit.append(jac.flatten(1).norm(dim=1))
    model.train(was_training)
    return torch.cat(soft), torch.cat(logit)


# --- loss surfaces (Li et al., 2018) ---------------------------------------------------------

def filter_normalised_direction(sizes, theta, generator):
    """Random Gaussian direction (P,) whose weight rows (one per neuron, the dense-layer analogue
    of a filter) have the norms of theta's rows; bias entries are 0 (Li et al., 2018)."""
    direction = torch.randn(theta.shape, generator=generator, dtype=theta.dtype).to(theta.device)
    for (w, b), (dw, db) in zip(mlp_layers(sizes, theta), mlp_layers(sizes, direction)):
        dw.mul_(w.norm(dim=1, keepdim=True) / dw.norm(dim=1, keepdim=True).clamp_min(1e-12))
        db.zero_()
    return direction


@torch.no_grad()
def mlp_plane_losses(sizes, theta, d1, d2, x, y, a_values, b_values):
    """Cross-entropy of the ReLU MLP at theta + a d1 + b d2 on (x, y) for every a, b: (A, B).

    The first layer is linear in (a, b), so x W(a, b)^T = x W^T + a x D1^T + b x D2^T is formed
    from three products computed once; each grid point then costs only the small later layers.
    """
    x = x.flatten(1)
    layers = [mlp_layers(sizes, t) for t in (theta, d1, d2)]
    z = [torch.nn.functional.linear(x, w, b) for w, b in (layer[0] for layer in layers)]
    losses = torch.empty(len(a_values), len(b_values), dtype=torch.float64, device="cpu")
    for i, a in enumerate(a_values):
        for j, b in enumerate(b_values):
            h = torch.relu(z[0] + a * z[1] + b * z[2])
            for k in range(1, len(sizes) - 1):
                (w, bias), (w1, b1), (w2, b2) = (layer[k] for layer in layers)
                h = torch.nn.functional.linear(h, w + a * w1 + b * w2, bias + a * b1 + b * b2)
                if k < len(sizes) - 2:
                    h = torch.relu(h)
            losses[i, j] = torch.nn.functional.cross_entropy(h, y).double()
    return losses


# --- sharpness (Keskar et al., 2017) ---------------------------------------------------------

def hessian_top_eigenvalue(loss_fn, params, tol=1e-3, seed=0, max_restarts=50, basis=6):
    """Largest eigenvalue of the Hessian of loss_fn() with respect to `params` (tensors requiring
    grad), to relative accuracy `tol`, by Lanczos (scipy.sparse.linalg.eigsh, start vector drawn
    from `seed`) on Hessian-vector products: one double backward through a gradient graph that is
    built once, with a Lanczos basis of `basis` vectors, restarted until converged (a LeNet-5 after
    5 epochs: 9-10 products, within 1e-6 of the value at tol 1e-8, where a basis of 20 always
    takes 21). Returns (eigenvalue, Hessian-vector products used)."""
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh
    shapes, sizes = [p.shape for p in params], [p.numel() for p in params]
    n, like = sum(sizes), params[0]
    grads = torch.autograd.grad(loss_fn(), params, create_graph=True)
    calls = [0]

    def matvec(v):
        calls[0] += 1
        flat = torch.from_numpy(np.asarray(v, dtype=np.float64).reshape(-1))
        flat = flat.to(device=like.device, dtype=like.dtype)
        pieces = [t.view(s) for t, s in zip(flat.split(sizes), shapes)]
        hv = torch.autograd.grad(grads, params, grad_outputs=pieces, retain_graph=True)
        return torch.cat([h.reshape(-1) for h in hv]).double().cpu().numpy()
    v0 = np.random.default_rng(seed).standard_normal(n)
    operator = LinearOperator((n, n), matvec=matvec, dtype=np.float64)
    try:
        value = eigsh(operator, k=1, which="LA", tol=tol, v0=v0, ncv=min(n, max(basis, 2)),
                      maxiter=max_restarts, return_eigenvectors=False)[0]
    except ArpackNoConvergence:   # a small basis that stalls: once more with a large one
        value = eigsh(operator, k=1, which="LA", tol=tol, v0=v0, ncv=min(n, 20),
                      maxiter=max_restarts, return_eigenvectors=False)[0]
    return float(value), calls[0]


def epsilon_sharpness(loss_fn, params, eps, iterations=10):
    """Keskar et al.'s metric 2.1: 100 (max_z L(theta + z) - L(theta)) / (1 + L(theta)) over the
    box |z_i| <= eps (|theta_i| + 1), maximised as they do: L-BFGS-B (scipy) on -L(theta + z)
    within the box for `iterations` iterations, starting at z = 0, in the full parameter space.
    The largest loss met at any evaluation counts (a lower bound on the true maximum). The
    parameters are restored afterwards."""
    from scipy.optimize import Bounds, minimize
    sizes = [p.numel() for p in params]
    with torch.no_grad():
        base = loss_fn().item()
        theta = torch.cat([p.detach().reshape(-1) for p in params]).double().cpu()
    box = (eps * (theta.abs() + 1)).numpy()
    best = [base]

    def load(z):
        flat = (theta + torch.from_numpy(z)).to(device=params[0].device, dtype=params[0].dtype)
        with torch.no_grad():
            for p, piece in zip(params, flat.split(sizes)):
                p.copy_(piece.view(p.shape))

    def negative_loss(z):
        load(z)
        loss = loss_fn()
        grads = torch.autograd.grad(loss, params)
        best[0] = max(best[0], loss.item())
        return -loss.item(), -torch.cat([g.reshape(-1) for g in grads]).double().cpu().numpy()
    try:
        minimize(negative_loss, np.zeros(len(theta)), jac=True, method="L-BFGS-B",
                 bounds=Bounds(-box, box), options={"maxiter": iterations})
    finally:
        load(np.zeros(len(theta)))
    return 100 * (best[0] - base) / (1 + base)

"""Training and evaluation loops, including the stacked (many models at once) regression trainer."""
import math

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from common.errors import DivergedError
from common.outputs import raise_pending_interrupt
from common.data import minibatches


def progress(iterable, desc, total=None, **kwargs):
    """tqdm bar on stderr (hidden when stderr is not a terminal); each step also raises an
    interrupt whose first exception was dropped."""
    for item in tqdm(iterable, desc=desc, total=total, leave=False, dynamic_ncols=True,
                     disable=None, **kwargs):
        raise_pending_interrupt()
        yield item


def check_finite(value, what):
    """Raise DivergedError when a loss is NaN or infinite."""
    if not math.isfinite(value):
        raise DivergedError(f"{what} became {value}: training diverged (try a smaller learning rate)")
    return value


def train_classifier_epoch(model, optimizer, x, y, batch_size, generator):
    """One epoch of cross-entropy minibatch training; returns the mean training loss."""
    model.train()
    total = torch.zeros((), device=x.device, dtype=x.dtype)
    for idx in minibatches(len(x), batch_size, generator, x.device):
        loss = F.cross_entropy(model(x[idx]), y[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.detach() * len(idx)
    return check_finite(total.item() / len(x), "training loss")


@torch.no_grad()
def evaluate_classifier(model, x, y, batch_size=5000):
    """(mean cross-entropy, accuracy) of `model` in eval mode over all of x (N, ...), y (N,)."""
    was_training = model.training
    model.eval()
    loss = torch.zeros((), device=x.device, dtype=torch.float64)
    correct = torch.zeros((), device=x.device, dtype=torch.int64)
    for start in range(0, len(x), batch_size):
        logits = model(x[start:start + batch_size])
        target = y[start:start + batch_size]
        loss += F.cross_entropy(logits, target, reduction="sum").double()
        correct += (logits.argmax(1) == target).sum()
    model.train(was_training)
    return loss.item() / len(x), correct.item() / len(x)


def train_stacked_regressors(stacked, x, targets, epochs, lr, weight_decay, desc="fitting"):
    """Full-batch Adam on the MSE of M stacked models at once.

    stacked: StackedMLP of M models; x: (B, 1) shared inputs; targets: (M, B, 1).
    Returns the (epochs, M) tensor of each model's loss before each update.
    The objective is the sum of the per-model MSEs, so each model gets exactly its own gradient.
    """
    optimizer = torch.optim.Adam(stacked.parameters(), lr=lr, weight_decay=weight_decay, fused=True)
    history = torch.empty(epochs, targets.shape[0], device=x.device, dtype=x.dtype)
    for epoch in progress(range(epochs), desc):
        per_model = ((stacked(x) - targets) ** 2).mean(dim=(1, 2))
        optimizer.zero_grad(set_to_none=True)
        per_model.sum().backward()
        optimizer.step()
        history[epoch] = per_model.detach()
    check_finite(history[-1].sum().item(), "training loss")
    return history


class RowAdam:
    """torch.optim.Adam's update (L2 weight decay, bias correction) on plain tensors whose first
    dimension indexes independent models, so each step can update a chosen subset of models."""

    def __init__(self, params, lr, weight_decay=0.0, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.weight_decay, self.betas, self.eps = params, lr, weight_decay, betas, eps
        self.exp_avg = [torch.zeros_like(p) for p in params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in params]
        self.steps = torch.zeros(len(params[0]), dtype=params[0].dtype, device=params[0].device)

    def step(self, grads, rows):
        """Apply one update to models `rows` (LongTensor) given their gradients (R, ...)."""
        beta1, beta2 = self.betas
        self.steps[rows] += 1
        t = self.steps[rows]
        for p, g, m, v in zip(self.params, grads, self.exp_avg, self.exp_avg_sq):
            shape = (-1,) + (1,) * (p.dim() - 1)
            g = g + self.weight_decay * p[rows] if self.weight_decay else g
            m_rows = m[rows].mul_(beta1).add_(g, alpha=1 - beta1)
            v_rows = v[rows].mul_(beta2).addcmul_(g, g, value=1 - beta2)
            m[rows], v[rows] = m_rows, v_rows
            denom = (v_rows.sqrt() / (1 - beta2 ** t).sqrt().view(shape)).add_(self.eps)
            p[rows] = p[rows] - (self.lr / (1 - beta1 ** t)).view(shape) * m_rows / denom

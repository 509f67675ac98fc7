"""k seeds of one architecture trained as one ModelStack equal k separate trainings."""
import copy

import pytest
import torch

from common.models import CNN, MLP, LeNet5, build_cnn
from common.train import (ModelStack, evaluate_classifier, evaluate_stack, stacked_seed_models,
                          train_classifier_epoch, train_stack_epoch)

# float64 throughout: the stacked and the separate trainings sum in other orders (a grouped
# convolution against k plain ones, one batched matmul against k), so every step differs by
# rounding, about 1e-16 relative; Adam's normalised steps can amplify that over a run. 1e-9
# leaves six orders of magnitude for that growth over these 2 x 5 steps and is still far below
# what a real fault gives (another model's minibatch, a shared optimiser state or a gradient
# of the mean over the models: relative differences of 1e-3 and more after one step).
TOL = 1e-9
SEEDS = [3, 5, 7]

KINDS = {
    "LeNet-5, SGD momentum + weight decay": (
        LeNet5, lambda p: torch.optim.SGD(p, lr=1e-2, momentum=0.9, weight_decay=1e-3)),
    "ConvNet C4, Adam + weight decay": (
        lambda: build_cnn("C4"), lambda p: torch.optim.Adam(p, lr=1e-3, weight_decay=1e-4)),
    "CNN (CNN1 without dropout), Adam + weight decay": (
        lambda: CNN(10, 50, dropout=0.0), lambda p: torch.optim.Adam(p, lr=1e-3, weight_decay=1e-4)),
    "MLP 784-32-32-10, Adam": (
        lambda: MLP((784, 32, 32, 10)), lambda p: torch.optim.Adam(p, lr=1e-3)),
}


def data(n=160):
    g = torch.Generator().manual_seed(0)
    return (torch.randn(n, 1, 28, 28, generator=g, dtype=torch.float64),
            torch.randint(0, 10, (n,), generator=g))


def relative_difference(a, b):
    return max(((p - q).abs().max() / q.abs().max()).item()
               for p, q in zip(a.parameters(), b.parameters()))


@pytest.mark.parametrize("kind", KINDS)
def test_stacked_seeds_equal_separate_trainings(kind):
    make, optimiser = KINDS[kind]
    x, y = data()
    build = lambda: make().double()  # noqa: E731
    models = stacked_seed_models(build, SEEDS, "cpu")
    separate = [copy.deepcopy(m) for m in models]
    stack = ModelStack(models)
    opt = optimiser(stack.parameters())
    generators = [torch.Generator().manual_seed(s) for s in SEEDS]
    stacked_losses = [train_stack_epoch(stack, opt, x, y, 32, generators).tolist()
                      for _ in range(2)]
    for k, (model, seed) in enumerate(zip(separate, SEEDS)):
        torch.manual_seed(seed)
        assert relative_difference(model, build()) == 0     # initialised as a lone training
        own_opt, g = optimiser(model.parameters()), torch.Generator().manual_seed(seed)
        for epoch in range(2):
            loss = train_classifier_epoch(model, own_opt, x, y, 32, g)
            assert stacked_losses[epoch][k] == pytest.approx(loss, rel=TOL)
        assert relative_difference(stack.unstack(k, build()), model) < TOL
    losses, accs = evaluate_stack(stack, x, y, batch_size=64)
    for k, model in enumerate(separate):
        loss, acc = evaluate_classifier(model, x, y, batch_size=64)
        assert losses[k] == pytest.approx(loss, rel=TOL) and accs[k] == acc


def test_each_stacked_model_trains_on_its_own_minibatches():
    # Same initialisation in both slots, different minibatch orders: the models must part.
    x, y = data()
    model = MLP((784, 16, 10)).double()
    stack = ModelStack([copy.deepcopy(model), copy.deepcopy(model)])
    opt = torch.optim.SGD(stack.parameters(), lr=0.1)
    train_stack_epoch(stack, opt, x, y, 32, [torch.Generator().manual_seed(s) for s in (0, 1)])
    a, b = (stack.unstack(k, copy.deepcopy(model)) for k in (0, 1))
    assert relative_difference(a, b) > 1e-3


def test_dropout_masks_differ_between_stacked_models():
    model = CNN(10, 50, dropout=0.5).double()
    stack = ModelStack([copy.deepcopy(model), copy.deepcopy(model)])
    x, _ = data(8)
    out = stack(x, shared=True)
    assert not torch.allclose(out[0], out[1])         # train mode: independent masks
    stack.eval()
    out = stack(x, shared=True)
    assert torch.equal(out[0], out[1])                 # eval mode: no dropout, same model

"""Small configurable networks used across the experiments, and parameter counting."""
import torch
from torch import nn
import torch.nn.functional as F

# Hidden widths of the three function-fitting models of the original report (1 input, 1 output,
# ReLU; 2,177 / 2,113 / 2,233 parameters).
FUNCTION_MODELS = {"M1": (16, 32, 32, 16), "M2": (18, 30, 30, 18), "M3": (14, 34, 34, 14)}
# Depth series at the same budget (2,200 +- 2 %): 1, 2, 4 and 8 hidden layers; depth 4 is M1.
DEPTH_SERIES = {"D1": (733,), "D2": (45, 45), "M1": FUNCTION_MODELS["M1"], "D8": (17,) * 8}
# (conv1 channels, fc1 width) of the three MNIST CNNs.
CNN_MODELS = {"CNN1": (10, 50), "CNN2": (16, 70), "CNN3": (12, 60)}
# CNN depth series at 30,000 +- 3 % parameters, 1 / 2 / 4 conv layers; ConvNet arguments
# (channels, kernel, pool after each conv, adaptive pool side, fc hidden width).
CNN_DEPTH_SERIES = {"C1": ((16,), 5, (4,), 7, 37), "C2": ((16, 32), 5, (4, 1), 3, 56),
                    "C4": ((8, 16, 32, 32), 3, (2, 2, 1, 1), 3, 50)}
# The MLP of the optimisation experiments (HW1-2) and the Adam learning rate it trains with.
MNIST_MLP_SIZES = (784, 500, 50, 10)
MNIST_MLP_LR = 4e-4


def count_params(model):
    """Number of trainable scalars in a module."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# --- the flat layout of an MLP's parameters: nn.Linear's, layer by layer, weight (out, in)
# row-major then bias; the order of MLP(sizes).parameters() -------------------------------------

def mlp_params(sizes):
    """Parameter count of an MLP with layer widths `sizes`."""
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def mlp_layers(sizes, theta):
    """Flat MLP parameters theta (..., P) -> [(W (..., out, in), b (..., out)), ...] views of
    theta, one per layer (leading dimensions: several networks, one per row)."""
    if theta.shape[-1] != mlp_params(sizes):
        raise ValueError(f"theta has {theta.shape[-1]} entries, sizes {sizes} need "
                         f"{mlp_params(sizes)}")
    layers, offset, lead = [], 0, theta.shape[:-1]
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        w = theta[..., offset:offset + n_in * n_out].view(*lead, n_out, n_in)
        offset += n_in * n_out
        layers.append((w, theta[..., offset:offset + n_out]))
        offset += n_out
    return layers


def mlp_flat(layers):
    """The inverse of mlp_layers: [(W (..., out, in), b (..., out)), ...] -> theta (..., P)."""
    return torch.cat([t for w, b in layers for t in (w.flatten(-2), b)], -1)


def pool_relu(x, size=2):
    """ReLU then size x size max-pool (stride size, floor), computed as pool then ReLU.

    The two commute (ReLU is monotonic), so the function and its gradient are the same; ReLU and
    its backward then touch 4x fewer values, which made a CNN epoch about 20% faster on CPU.
    Without autograd (evaluation under no_grad) the pool is an elementwise maximum of the
    size x size strided slices: the same values to the bit (a maximum is exact), 3-8x faster than
    max_pool2d on CPU, which also computes the argmax indices that only a backward pass needs.
    """
    if torch.is_grad_enabled():
        return F.relu(F.max_pool2d(x, size))
    return F.relu(strided_max(x, size))


def strided_max(x, size):
    """max_pool2d(x, size) of a (B, C, H, W) tensor as a maximum of strided slices (no indices)."""
    h, w = x.shape[-2] // size * size, x.shape[-1] // size * size
    rows = x[..., 0:h:size, :w]
    for i in range(1, size):
        rows = torch.maximum(rows, x[..., i:h:size, :w])
    out = rows[..., 0::size]
    for j in range(1, size):
        out = torch.maximum(out, rows[..., j::size])
    return out


class MLP(nn.Module):
    """Fully connected ReLU network with layer sizes `sizes` (input, hidden..., output)."""

    def __init__(self, sizes):
        super().__init__()
        self.sizes = tuple(sizes)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        """x: (B, sizes[0]) or (B, 1, 28, 28) -> (B, sizes[-1])."""
        x = x.flatten(1)
        for layer in self.layers[:-1]:
            x = F.relu(layer(x))
        return self.layers[-1](x)


def function_mlp(hidden):
    """1 -> hidden... -> 1 ReLU regressor."""
    return MLP((1, *hidden, 1))


class CNN(nn.Module):
    """conv(1->c1,4)-ReLU-pool-conv(c1->20,4)-ReLU-pool-fc(320->f1)-ReLU-dropout-fc(f1->100)-ReLU-fc(100->10)."""

    def __init__(self, conv1_channels, fc1_width, dropout=0.25):
        super().__init__()
        self.conv1 = nn.Conv2d(1, conv1_channels, 4)
        self.conv2 = nn.Conv2d(conv1_channels, 20, 4)
        self.fc1 = nn.Linear(320, fc1_width)
        self.dropout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(fc1_width, 100)
        self.fc3 = nn.Linear(100, 10)

    conv_layers = 2

    def forward(self, x):
        """x: (B, 1, 28, 28) -> logits (B, 10)."""
        x = pool_relu(self.conv1(x))
        x = pool_relu(self.conv2(x))
        x = self.dropout(F.relu(self.fc1(x.flatten(1))))
        return self.fc3(F.relu(self.fc2(x)))


class ConvNet(nn.Module):
    """A stack of same-padded conv-ReLU layers (2x2 max-pools where `pools` says, each pool
    halving the side, or `pools[i]` > 1 for a larger pool), then an adaptive max-pool to
    pool_to x pool_to, fc(hidden) - ReLU - fc(10). Used for the depth series at a fixed budget."""

    def __init__(self, channels, kernel, pools, pool_to, hidden):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2)
                                   for c_in, c_out in zip((1, *channels[:-1]), channels))
        self.pools = tuple(pools)
        self.pool_to = pool_to
        self.fc1 = nn.Linear(channels[-1] * pool_to * pool_to, hidden)
        self.fc2 = nn.Linear(hidden, 10)

    @property
    def conv_layers(self):
        return len(self.convs)

    def forward(self, x):
        """x: (B, 1, 28, 28) -> logits (B, 10)."""
        for conv, pool in zip(self.convs, self.pools):
            x = pool_relu(conv(x), pool) if pool > 1 else F.relu(conv(x))
        x = F.adaptive_max_pool2d(x, self.pool_to)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


def build_cnn(name):
    """A model of CNN_MODELS or CNN_DEPTH_SERIES by name."""
    if name in CNN_MODELS:
        return CNN(*CNN_MODELS[name])
    return ConvNet(*CNN_DEPTH_SERIES[name])


class LeNet5(nn.Module):
    """LeNet-5 for 28x28 input: 2 conv layers of 5x5 kernels (padding 2 on the first), each
    followed by ReLU and a 2x2 max-pool (28 -> 14 -> 5), and 3 dense layers. `channels` are the
    two conv layers' output channels, `hidden` the two hidden dense widths; the defaults are
    LeNet-5's own (61,706 parameters)."""

    def __init__(self, channels=(6, 16), hidden=(120, 84), classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels[0], 5, padding=2)
        self.conv2 = nn.Conv2d(channels[0], channels[1], 5)
        self.fc1 = nn.Linear(channels[1] * 5 * 5, hidden[0])
        self.fc2 = nn.Linear(hidden[0], hidden[1])
        self.fc3 = nn.Linear(hidden[1], classes)

    def forward(self, x):
        """x: (B, 1, 28, 28) -> logits (B, 10)."""
        x = pool_relu(self.conv1(x))
        x = pool_relu(self.conv2(x))
        x = F.relu(self.fc1(x.flatten(1)))
        return self.fc3(F.relu(self.fc2(x)))


class StackedMLP(nn.Module):
    """M independent ReLU MLPs of equal depth run as batched matmuls.

    Narrower models are zero-padded to the widest width of each layer. A padded unit has zero
    incoming and outgoing weights, so its activation and every gradient through it are exactly
    zero, and Adam (with weight decay) keeps the padding at zero: each model trains as if alone.
    """

    def __init__(self, models):
        super().__init__()
        depth = {len(m.layers) for m in models}
        if len(depth) != 1:
            raise ValueError("all stacked models need the same number of layers")
        self.sizes = [tuple(m.sizes) for m in models]
        widths = [max(s[i] for s in self.sizes) for i in range(len(self.sizes[0]))]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for i, (w_in, w_out) in enumerate(zip(widths[:-1], widths[1:])):
            dtype, device = models[0].layers[i].weight.dtype, models[0].layers[i].weight.device
            w = torch.zeros(len(models), w_out, w_in, dtype=dtype, device=device)
            b = torch.zeros(len(models), w_out, dtype=dtype, device=device)
            for k, m in enumerate(models):
                layer = m.layers[i]
                w[k, :layer.out_features, :layer.in_features] = layer.weight.detach()
                b[k, :layer.out_features] = layer.bias.detach()
            self.weights.append(nn.Parameter(w))
            self.biases.append(nn.Parameter(b))

    def forward(self, x):
        """x: (B, in) shared by all models, or (M, B, in) one batch per model -> (M, B, out)."""
        if x.dim() == 2:
            x = x.flatten(1).unsqueeze(0).expand(len(self.sizes), -1, -1)
        h = x.flatten(2)
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2))
            if i < last:
                h = F.relu(h)
        return h

"""The network of a graph JSON (`dsod export --graph`, docs/graph-json.md) in torch.nn, with the arithmetic of the
DSOD Caffe code that the tfjs engine (engine/model/) implements too:

- convolutions without bias, symmetric zero padding, floor rounding;
- max pooling with Caffe's ceil rounding (torch's ceil_mode drops a window that would start in the padding, as
  Caffe does);
- batch norm as Caffe's BatchNorm + Scale: running statistics kept as decayed sums of batch means and unbiased
  variances plus a decayed count `factor` (2C+1 stored values, as core counts them), eps from the graph;
- SSD's Normalize (L2Norm) with a learned per-channel scale, eps 1e-10 inside the square root;
- heads permuted NCHW -> NHWC and reshaped, so boxes come in core's prior order (scale, row, column, prior).

Every parameter has the name the tfjs engine gives it, `<node name>/<role>` (engine/model/params.ts), so weights
move between the engines by name (dsod_torch.weights).
"""
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import GRAPH_FORMAT, GRAPH_VERSION

# Caffe BatchNormParameter.moving_average_fraction's default (engine/model/batch-norm.ts).
MOVING_AVERAGE_FRACTION = 0.999
# SSD's Normalize layer (engine/model/layers.ts).
L2NORM_EPS = 1e-10


class GraphError(Exception):
    """A graph JSON this package cannot build (wrong format or version, a node it does not know)."""


def load_graph(path):
    with open(path, encoding="utf-8") as f:
        try:
            g = json.load(f)
        except json.JSONDecodeError as e:
            raise GraphError(f"{path}: not JSON ({e})") from None
    return check_graph(g, path)


def check_graph(g, where="graph"):
    """What the builder relies on; the full validator is protocol/graph-json.ts (the exporter's side)."""
    if not isinstance(g, dict) or g.get("format") != GRAPH_FORMAT:
        raise GraphError(f"{where}: not a {GRAPH_FORMAT} file (write one with `dsod export --graph SPEC`)")
    if g.get("version") != GRAPH_VERSION:
        raise GraphError(f"{where}: {GRAPH_FORMAT} version {g.get('version')!r}, this engine reads version {GRAPH_VERSION}")
    for i, n in enumerate(g["nodes"]):
        if n["id"] != i or any(j >= i for j in n["inputs"]):
            raise GraphError(f"{where}: nodes[{i}] ({n.get('name')}) is out of order")
    return g


class CaffeBatchNorm(nn.Module):
    """Caffe's BatchNorm (decayed sums + factor) followed by Scale (gamma, beta), on NCHW tensors.

    Caffe's decayed sums S' = maf S + x are PyTorch's running averages r' = maf r + (1 - maf) x scaled by
    (1 - maf): r = (1 - maf) S. So the sums are kept as r (`mean_ema`, `var_ema`) and updated by torch's fused
    batch-norm kernel (momentum 1 - maf; it folds in the unbiased batch variance, as Caffe does); `mean_sum` and
    `var_sum` (the tfjs engine's names, what checkpoints store) are r / (1 - maf). `factor` is Caffe's decayed count.
    """

    SUM_TO_EMA = 1 - MOVING_AVERAGE_FRACTION

    def __init__(self, channels, eps):
        super().__init__()
        self.eps = float(eps)
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))
        self.register_buffer("mean_ema", torch.zeros(channels))
        self.register_buffer("var_ema", torch.zeros(channels))
        self.register_buffer("factor", torch.zeros(1))
        # False: train-mode normalization without folding the batch into the running statistics.
        self.update_stats = True
        # A process group: batch statistics over all its processes (--sync-bn under DDP; dsod_torch.syncbn).
        self.sync = None

    def running_stats(self):
        """Mean 0 and variance 1 before any training (Caffe would use 0 and 0; tfjs does the same as here)."""
        f = self.factor
        trained = (f > 0).to(f.dtype)
        inv = trained / (f.clamp(min=1e-30) * self.SUM_TO_EMA)
        return self.mean_ema * inv, self.var_ema * inv + (1 - trained)

    def forward(self, x):
        if self.training:
            if self.sync is not None:
                from .syncbn import sync_batch_norm

                return sync_batch_norm(self, x, self.sync)
            if not self.update_stats:
                return F.batch_norm(x, None, None, self.gamma, self.beta, True, 0.0, self.eps)
            y = F.batch_norm(x, self.mean_ema, self.var_ema, self.gamma, self.beta, True, self.SUM_TO_EMA, self.eps)
            with torch.no_grad():
                self.factor.mul_(MOVING_AVERAGE_FRACTION).add_(1)
            return y
        mean, var = self.running_stats()
        return F.batch_norm(x, mean, var, self.gamma, self.beta, False, 0.0, self.eps)


class L2Norm(nn.Module):
    def __init__(self, channels, init):
        super().__init__()
        self.scale = nn.Parameter(torch.full((channels,), float(init)))

    def forward(self, x):
        # In float32 under autocast too: a sum of squares over the channels overflows fp16.
        x = x.float()
        return x * torch.rsqrt((x * x).sum(1, keepdim=True) + L2NORM_EPS) * self.scale.view(1, -1, 1, 1)


class Conv(nn.Module):
    """A convolution without bias; its weight is OIHW (the tfjs engine keeps HWIO: dsod_torch.weights transposes)."""

    def __init__(self, cin, out, kernel, stride, pad):
        super().__init__()
        self.stride, self.pad = stride, pad
        self.weight = nn.Parameter(torch.empty(out, cin, kernel, kernel))

    def forward(self, x):
        return F.conv2d(x, self.weight, None, self.stride, self.pad)


class ShapeMismatch(Exception):
    pass


class GraphNet(nn.Module):
    def __init__(self, g, head_std=0.01, seed=None):
        super().__init__()
        self.g = check_graph(g)
        nodes = g["nodes"]
        self.classes = g["spec"]["classes"]["count"]
        self.layers = nn.ModuleList()
        for n in nodes:
            k = n["kind"]
            cin = nodes[n["inputs"][0]]["shape"][0] if n["inputs"] else 0
            if k == "conv":
                c = n["conv"]
                m = Conv(cin, c["out"], c["kernel"], c["stride"], c["pad"])
            elif k == "bn":
                m = CaffeBatchNorm(cin, n["bn"]["eps"])
            elif k == "relu":
                m = nn.ReLU()
            elif k == "pool":
                p = n["pool"]
                m = nn.MaxPool2d(p["kernel"], p["stride"], p["pad"], ceil_mode=True)
            elif k == "l2norm":
                m = L2Norm(cin, n["l2norm"]["init"])
            elif k in ("input", "concat"):
                m = nn.Identity()
            else:
                raise GraphError(f"nodes[{n['id']}] ({n['name']}): unknown kind {k!r}")
            self.layers.append(m)
        self.reset_parameters(head_std, seed)
        # Uses of every node's output, to free activations early when no gradient is recorded.
        self.uses = [0] * len(nodes)
        for n in nodes:
            for i in n["inputs"]:
                self.uses[i] += 1
        self.outputs = {i for s in g["scales"] for i in (s["loc"], s["conf"])}

    def reset_parameters(self, head_std=0.01, seed=None):
        """Caffe's fillers (as the tfjs engine): xavier (fan-in) for body convs, Gaussian for heads."""
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        for n, m in zip(self.g["nodes"], self.layers):
            if isinstance(m, Conv):
                w = m.weight
                with torch.no_grad():
                    if n["stageKind"] == "head":
                        w.normal_(0, head_std, generator=gen)
                    else:
                        a = math.sqrt(3 / (w.shape[1] * w.shape[2] * w.shape[3]))
                        w.uniform_(-a, a, generator=gen)

    def named_dsod_tensors(self):
        """(name, tensor, learned, scale) of every parameter and running statistic, named as the tfjs engine names
        them; the tfjs engine's value is tensor / scale (batch-norm sums are kept scaled: CaffeBatchNorm)."""
        for n, m in zip(self.g["nodes"], self.layers):
            if isinstance(m, Conv):
                yield f"{n['name']}/weight", m.weight, True, 1.0
            elif isinstance(m, CaffeBatchNorm):
                yield f"{n['name']}/gamma", m.gamma, True, 1.0
                yield f"{n['name']}/beta", m.beta, True, 1.0
                yield f"{n['name']}/mean_sum", m.mean_ema, False, m.SUM_TO_EMA
                yield f"{n['name']}/var_sum", m.var_ema, False, m.SUM_TO_EMA
                yield f"{n['name']}/factor", m.factor, False, 1.0
            elif isinstance(m, L2Norm):
                yield f"{n['name']}/scale", m.scale, True, 1.0

    def count_params(self):
        """(learned, stored), counted from what the module holds, as core counts them."""
        learned = sum(p.numel() for p in self.parameters() if p.requires_grad)
        stored = sum(p.numel() for p in self.parameters()) + sum(b.numel() for b in self.buffers())
        return learned, stored

    def forward_nodes(self, x, check=False, keep=None):
        """Every node's output (or only those in `keep`, the rest freed once used when no gradient is recorded)."""
        nodes = self.g["nodes"]
        values = [None] * len(nodes)
        left = list(self.uses)
        free = keep is not None and not torch.is_grad_enabled()
        shapes = [] if check else None
        for n, m in zip(nodes, self.layers):
            k = n["kind"]
            if k == "input":
                y = x
            elif k == "concat":
                y = torch.cat([values[i] for i in n["inputs"]], 1)
            else:
                y = m(values[n["inputs"][0]])
            if check:
                got = list(y.shape[1:])
                shapes.append(got)
                if got != n["shape"]:
                    raise ShapeMismatch(f"{n['name']}: torch gives {got}, core says {n['shape']}")
            values[n["id"]] = y
            if free:
                for i in n["inputs"]:
                    left[i] -= 1
                    if left[i] == 0 and i not in keep:
                        values[i] = None
        return values, shapes

    def heads(self, values, batch):
        """loc [N, boxes, 4] and conf [N, boxes, classes], scale 1 first, each in (row, column, prior) order."""
        scales = self.g["scales"]
        loc = torch.cat([values[s["loc"]].permute(0, 2, 3, 1).reshape(batch, -1, 4) for s in scales], 1)
        conf = torch.cat([values[s["conf"]].permute(0, 2, 3, 1).reshape(batch, -1, self.classes) for s in scales], 1)
        return loc, conf

    def forward(self, x, check=False):
        values, _ = self.forward_nodes(x, check=check, keep=self.outputs)
        return self.heads(values, x.shape[0])

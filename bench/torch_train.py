#!/usr/bin/env python3
"""The PyTorch peer of `npm run bench:train` (bench-only): builds the network of a graph JSON exported by
bench/graph-export.ts with torch.nn (NCHW, convs without bias, BatchNorm2d for Caffe's BatchNorm + Scale,
ceil-mode max pooling, L2Norm with a learned per-channel scale, the heads reshaped in prior order), checks
every shape and the learned parameter count against core's, then times training steps: forward, SSD MultiBox
loss with 3:1 hard negative mining, backward, SGD (momentum 0.9, weight decay 5e-4).
Prints one JSON object. Usage: torch_train.py GRAPH.json --batch B --steps N --warmup W --threads T
"""
import argparse
import json
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class L2Norm(nn.Module):
    def __init__(self, channels, init):
        super().__init__()
        self.scale = nn.Parameter(torch.full((channels,), float(init)))

    def forward(self, x):
        return x * torch.rsqrt((x * x).sum(1, keepdim=True) + 1e-10) * self.scale.view(1, -1, 1, 1)


class GraphNet(nn.Module):
    def __init__(self, g):
        super().__init__()
        self.g = g
        self.layers = nn.ModuleList()
        for n in g["nodes"]:
            k = n["kind"]
            cin = g["nodes"][n["inputs"][0]]["shape"][0] if n["inputs"] else 0
            if k == "conv":
                c = n["conv"]
                m = nn.Conv2d(cin, c["out"], c["kernel"], c["stride"], c["pad"], bias=False)
                nn.init.xavier_uniform_(m.weight)
            elif k == "bn":
                m = nn.BatchNorm2d(cin, eps=n["bn"]["eps"], momentum=0.001)
            elif k == "relu":
                m = nn.ReLU(inplace=False)
            elif k == "pool":
                p = n["pool"]
                m = nn.MaxPool2d(p["kernel"], p["stride"], p["pad"], ceil_mode=True)
            elif k == "l2norm":
                m = L2Norm(cin, n["l2norm"]["init"])
            else:  # input, concat
                m = nn.Identity()
            self.layers.append(m)
        self.wanted = {s["loc"] for s in g["scales"]} | {s["conf"] for s in g["scales"]}

    def forward(self, x, check=False):
        nodes = self.g["nodes"]
        values = [None] * len(nodes)
        uses = [0] * len(nodes)
        for n in nodes:
            for i in n["inputs"]:
                uses[i] += 1
        for n, m in zip(nodes, self.layers):
            if n["kind"] == "input":
                y = x
            elif n["kind"] == "concat":
                y = torch.cat([values[i] for i in n["inputs"]], 1)
            else:
                y = m(values[n["inputs"][0]])
            if check and list(y.shape[1:]) != n["shape"]:
                raise SystemExit(f"{n['name']}: torch gives {list(y.shape[1:])}, core says {n['shape']}")
            values[n["id"]] = y
        N = x.shape[0]
        C = self.g["classes"]
        loc = torch.cat([values[s["loc"]].permute(0, 2, 3, 1).reshape(N, -1, 4) for s in self.g["scales"]], 1)
        conf = torch.cat([values[s["conf"]].permute(0, 2, 3, 1).reshape(N, -1, C) for s in self.g["scales"]], 1)
        return loc, conf


def multibox_loss(loc, conf, loc_t, labels, neg_pos=3):
    pos = labels > 0
    npos = pos.sum().clamp(min=1).float()
    d = (loc - loc_t).abs()
    smooth = torch.where(d < 1, 0.5 * d * d, d - 0.5).sum(2)
    loc_loss = (smooth * pos).sum()
    logp = F.log_softmax(conf, -1)
    ce = -logp.gather(2, labels.clamp(min=0).unsqueeze(2)).squeeze(2)
    with torch.no_grad():
        bg = -logp[..., 0]
        cand = labels == 0
        bg = torch.where(cand, bg, torch.full_like(bg, -1))
        rank = bg.argsort(1, descending=True).argsort(1)
        num_neg = torch.minimum(pos.sum(1) * neg_pos, cand.sum(1)).unsqueeze(1)
        neg = (rank < num_neg) & cand
    conf_loss = (ce * (pos | neg)).sum()
    return (loc_loss + conf_loss) / npos


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("graph")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    g = json.load(open(a.graph))
    net = GraphNet(g)
    learned = sum(p.numel() for p in net.parameters())
    if learned != g["paramsLearned"]:
        raise SystemExit(f"torch has {learned} learned parameters, core says {g['paramsLearned']}")
    C, H, W = g["input"]
    P, K = g["boxes"], g["classes"]
    x = torch.rand(a.batch, C, H, W) * 200 - 100
    idx = torch.arange(a.batch * P).view(a.batch, P)
    labels = torch.where(idx % 50 == 0, 1 + idx % (K - 1), torch.zeros_like(idx))
    loc_t = torch.sin(torch.arange(a.batch * P * 4, dtype=torch.float32)).view(a.batch, P, 4) * 0.5
    opt = torch.optim.SGD(net.parameters(), lr=1e-3, momentum=0.9, weight_decay=5e-4)
    net.train()
    with torch.no_grad():
        net(x, check=True)

    def step():
        opt.zero_grad(set_to_none=True)
        loc, conf = net(x)
        loss = multibox_loss(loc, conf, loc_t, labels)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(a.steps):
        step()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    images = a.batch * a.steps
    print(json.dumps({
        "torch": torch.__version__, "threads": a.threads, "batch": a.batch, "steps": a.steps,
        "imgPerSec": images / wall, "imgPerCpuSec": images / cpu, "learned": learned,
        "maxRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    sys.exit(main())

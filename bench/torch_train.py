#!/usr/bin/env python3
"""The PyTorch peer of `npm run bench:train` (bench-only): builds the network of a graph JSON (`dsod export --graph`,
docs/graph-json.md) with the torch engine's one builder (engine/torch/dsod_torch/graph.py: convs without bias,
Caffe's BatchNorm + Scale, ceil-mode max pooling, L2Norm with a learned per-channel scale, the heads reshaped in prior
order), checks every shape and the learned parameter count against core's, then times training steps: forward, SSD
MultiBox loss with 3:1 hard negative mining, backward, SGD (momentum 0.9, weight decay 5e-4).
Prints one JSON object. Usage: torch_train.py GRAPH.json --batch B --steps N --warmup W --threads T
"""
import argparse
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "engine", "torch"))
from dsod_torch.graph import GraphNet, load_graph  # noqa: E402
from dsod_torch.loss import multibox_loss  # noqa: E402


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
    g = load_graph(a.graph)
    net = GraphNet(g, seed=0)
    learned, _ = net.count_params()
    if learned != g["totals"]["paramsLearned"]:
        raise SystemExit(f"torch has {learned} learned parameters, core says {g['totals']['paramsLearned']}")
    C, H, W = (g["spec"]["input"][k] for k in ("channels", "height", "width"))
    P, K = g["totals"]["defaultBoxes"], g["spec"]["classes"]["count"]
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
        loss, _, _ = multibox_loss(loc, conf, loc_t, labels)
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

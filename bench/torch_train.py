#!/usr/bin/env python3
"""Training speed of the network of a graph JSON (`dsod export --graph`, docs/graph-json.md) in PyTorch (bench-only),
built with the torch engine's one builder (engine/torch/dsod_torch/graph.py), its learned parameter count checked
against core's. Two ways to train, timed the same way on the same data:

- the plain eager float32 baseline (default; the peer of `npm run bench:train`): contiguous tensors, forward, SSD
  MultiBox loss with 3:1 hard negative mining, backward, torch.optim.SGD (momentum 0.9, weight decay 5e-4);
- `--engine`: the torch engine's step: its speed plan (engine/torch/dsod_torch/speed.py: precision/autocast,
  channels-last, cudnn.benchmark; `--precision`, `--channels-last/--no-channels-last` as `dsod_torch train` takes
  them), the loss in float32, Caffe's SGD (train.CaffeSgd) with the same momentum and weight decay.

`--device cuda` runs on the GPU (bench/gpu/); `--backoff` halves the batch on out-of-memory until it fits. Each timed
step ends with the loss read back (a device synchronization), so per-step times are real; the median step gives
`medianImgPerSec`. Prints one JSON object.
Usage: torch_train.py GRAPH.json --batch B --steps N --warmup W --threads T [--engine ...] [--device cuda] [--backoff]
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "engine", "torch"))
from dsod_torch.graph import GraphNet, load_graph  # noqa: E402
from dsod_torch.loss import multibox_loss  # noqa: E402
from dsod_torch.speed import choose  # noqa: E402
from dsod_torch.train import CaffeSgd  # noqa: E402


def is_oom(e):
    return isinstance(e, RuntimeError) and "out of memory" in str(e)


def data(g, batch, device):
    """The same synthetic batch as bench/train.bench.ts: a positive every 50 priors, smooth offsets."""
    C, H, W = (g["spec"]["input"][k] for k in ("channels", "height", "width"))
    P, K = g["totals"]["defaultBoxes"], g["spec"]["classes"]["count"]
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(batch, C, H, W, generator=gen) * 200 - 100
    idx = torch.arange(batch * P).view(batch, P)
    labels = torch.where(idx % 50 == 0, 1 + idx % (K - 1), torch.zeros_like(idx))
    loc_t = torch.sin(torch.arange(batch * P * 4, dtype=torch.float32)).view(batch, P, 4) * 0.5
    return x.to(device), loc_t.to(device), labels.to(device)


def make_step(a, g, batch, device):
    """A function doing one training step (returns the loss), and the plan's report (None for the baseline)."""
    net = GraphNet(g, seed=0).train().to(device)
    x, loc_t, labels = data(g, batch, device)
    if not a.engine:
        opt = torch.optim.SGD(net.parameters(), lr=1e-3, momentum=0.9, weight_decay=5e-4)

        def eager():
            opt.zero_grad(set_to_none=True)
            loc, conf = net(x)
            loss, _, _ = multibox_loss(loc, conf, loc_t, labels)
            loss.backward()
            opt.step()
            return loss.item()

        return eager, None
    plan = choose(device, precision=a.precision, channels_last=a.channels_last)
    plan.apply_globals()
    net = plan.prepare(net)
    sgd = CaffeSgd(net.parameters(), 0.9, 5e-4)

    def engine():
        for p in sgd.params:
            p.grad = None
        loc, conf = plan.forward(net, x)
        loss, _, _ = multibox_loss(loc, conf, loc_t, labels)
        plan.backward(loss)
        if plan.step_ok(sgd.params):
            sgd.step(1e-3)
        return loss.item()

    return engine, plan.report()


def measure(a, g, batch, device):
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    step, report = make_step(a, g, batch, device)
    losses = [step() for _ in range(a.warmup)]
    times = []
    c0 = time.process_time()
    for _ in range(a.steps):
        t0 = time.perf_counter()
        losses.append(step())
        times.append(time.perf_counter() - t0)
    cpu = time.process_time() - c0
    wall = sum(times)
    images = batch * a.steps
    return {
        "imgPerSec": images / wall,
        "medianImgPerSec": batch / statistics.median(times),
        "imgPerCpuSec": images / cpu if cpu > 0 else None,
        "lossFinite": all(torch.isfinite(torch.tensor(losses)).tolist()),
        "lastLoss": losses[-1],
        "peakMiB": torch.cuda.max_memory_allocated(device) / 2**20 if cuda else None,
        "speed": report,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("graph")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--engine", action="store_true", help="the torch engine's step (its speed plan, Caffe's SGD)")
    ap.add_argument("--precision", choices=["auto", "fp32", "bf16", "fp16"], default="auto")
    ap.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=None)
    ap.add_argument("--backoff", action="store_true", help="halve the batch on out-of-memory until it fits")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    device = torch.device(a.device)
    g = load_graph(a.graph)
    learned, _ = GraphNet(g, seed=0).count_params()
    if learned != g["totals"]["paramsLearned"]:
        raise SystemExit(f"torch has {learned} learned parameters, core says {g['totals']['paramsLearned']}")
    batch, tried = a.batch, []
    while True:
        try:
            r = measure(a, g, batch, device)
            break
        except RuntimeError as e:
            if not (a.backoff and is_oom(e) and batch > 1):
                raise
            tried.append(batch)
            batch //= 2
    print(json.dumps({
        "torch": torch.__version__, "threads": a.threads, "device": str(device), "engine": a.engine, "batch": batch,
        "oomAt": tried, "steps": a.steps, "learned": learned,
        "maxRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **r,
    }))


if __name__ == "__main__":
    sys.exit(main())

"""`python -m dsod_torch train`: a skeleton of the torch engine's training loop (issue 12, item 2), on synthetic
data. What is real: the network (graph.py), the MultiBox loss with hard negative mining (loss.py), Caffe's SGD with
the spec's schedule (warm-up, milestones, momentum, weight decay), the run folder's events.jsonl with the engine's
events, an atomic checkpoint at the end or on SIGINT/SIGTERM. What is not yet: reading VOC/COCO data, matching
ground truth to default boxes, augmentation, gradient accumulation, resuming, evaluation.

Synthetic batches are a function of (seed, step): seeded images and targets (a positive every 50 default boxes,
smooth offsets), the same as the training benchmark's (bench/torch_train.py).
"""
import os
import signal
import time

import torch

from .events import EventSink
from .graph import GraphNet
from .loss import multibox_loss
from .weights import state_of

CHECKPOINT_FORMAT = "dsod-torch-checkpoint"


def learning_rate(train, step):
    """engine/train/schedule.ts learningRate: milestones multiply by gamma; a linear warm-up from lr/warmup."""
    lr = train["lr"]
    for m in train["milestones"]:
        if step >= m:
            lr *= train["gamma"]
    if step < train["warmup"]:
        lr *= (step + 1) / train["warmup"]
    return lr


class CaffeSgd:
    """Caffe's SGD (engine/train/sgd.ts): g' = g + weight_decay w; h = momentum h + lr g'; w = w - h."""

    def __init__(self, params, momentum, weight_decay):
        self.params = [p for p in params if p.requires_grad]
        self.momentum, self.weight_decay = momentum, weight_decay
        self.history = [torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def step(self, lr):
        for p, h in zip(self.params, self.history):
            g = p.grad if self.weight_decay == 0 else p.grad.add(p, alpha=self.weight_decay)
            h.mul_(self.momentum).add_(g, alpha=lr)
            p.sub_(h)


def synthetic_batch(g, batch, seed, step):
    gen = torch.Generator().manual_seed(seed * 1_000_003 + step)
    s = g["spec"]
    c, h, w = s["input"]["channels"], s["input"]["height"], s["input"]["width"]
    boxes, classes = g["totals"]["defaultBoxes"], s["classes"]["count"]
    x = torch.rand(batch, c, h, w, generator=gen) * 255 - 128
    idx = torch.arange(batch * boxes).view(batch, boxes)
    labels = torch.where(idx % 50 == step % 50, 1 + idx % (classes - 1), torch.zeros_like(idx))
    loc_t = torch.sin(torch.arange(batch * boxes * 4, dtype=torch.float32) + step).view(batch, boxes, 4) * 0.5
    return x, loc_t, labels


def write_checkpoint(run_dir, net, sgd, meta):
    """Atomic: a temporary file beside the target, renamed into place."""
    folder = os.path.join(run_dir, "checkpoints")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"step-{meta['step']:08d}.pt")
    tmp = f"{path}.tmp-{os.getpid()}-{os.urandom(4).hex()}"
    names = [name for name, _, learned in net.named_dsod_tensors() if learned]
    state = {
        "format": CHECKPOINT_FORMAT,
        "version": 1,
        "meta": meta,
        "weights": state_of(net),
        "optimizer": {name: h for name, h in zip(names, sgd.history)},
    }
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path, os.path.getsize(path)


def train(g, run_dir, spec_path, steps=None, batch=None):
    t = g["spec"]["train"]
    steps = steps if steps is not None else t["iterations"]
    batch = batch if batch is not None else t["batch"]
    seed = t["seed"]
    os.makedirs(run_dir, exist_ok=True)
    sink = EventSink(run_dir)
    stop = {"signal": None}

    def on_signal(signum, _frame):
        stop["signal"] = signum

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    started = time.perf_counter()
    sink.emit("start", command="train", spec=spec_path, name=g["spec"]["name"], runDir=run_dir, step=0, steps=steps,
              batch=batch, accumulate=1, images={"train": 0, "test": 0}, resumed=False)
    sink.emit("log", level="info", message=f"torch {torch.__version__} on cpu; synthetic data (seed {seed})")
    torch.manual_seed(seed)
    net = GraphNet(g, seed=seed).train()
    sgd = CaffeSgd(net.parameters(), t["momentum"], t["weightDecay"])
    step = 0
    window = []
    try:
        while step < steps and stop["signal"] is None:
            t0 = time.perf_counter()
            x, loc_t, labels = synthetic_batch(g, batch, seed, step)
            lr = learning_rate(t, step)
            for p in net.parameters():
                p.grad = None
            loc, conf = net(x)
            loss, loc_loss, conf_loss = multibox_loss(loc, conf, loc_t, labels)
            if not torch.isfinite(loss):
                sink.emit("error", code="loss-not-finite", message=f"the loss is {loss.item()} at step {step + 1}", where=None, fatal=True)
                sink.emit("done", reason="failed", step=step, elapsedSec=time.perf_counter() - started, exitCode=1, metric=None)
                return 1
            loss.backward()
            sgd.step(lr)
            step += 1
            window = (window + [time.perf_counter() - t0])[-10:]
            elapsed = time.perf_counter() - started
            img_per_sec = batch * len(window) / sum(window)
            sink.emit("progress", epoch=0, step=step, steps=steps, loss=loss.item(),
                      parts={"loc": loc_loss.item(), "conf": conf_loss.item()}, lr=lr, imgPerSec=img_per_sec,
                      etaSec=(steps - step) * batch / img_per_sec, elapsedSec=elapsed)
        reason = "signal" if stop["signal"] is not None else "end"
        meta = {"step": step, "seed": seed, "batch": batch, "spec": {"name": g["spec"]["name"], "hash": g["spec"]["hash"]},
                "elapsedSec": time.perf_counter() - started}
        path, size = write_checkpoint(run_dir, net, sgd, meta)
        sink.emit("checkpoint", step=step, path=path, bytes=size, reason=reason)
        if stop["signal"] is not None:
            code = 130 if stop["signal"] == signal.SIGINT else 143
            sink.emit("done", reason="stopped", step=step, elapsedSec=time.perf_counter() - started, exitCode=code, metric=None)
            return code
        sink.emit("done", reason="completed", step=step, elapsedSec=time.perf_counter() - started, exitCode=0, metric=None)
        return 0
    finally:
        for s, h in previous.items():
            signal.signal(s, h)

"""The torch engine's speed options, chosen in one place (issue 12, item 3): precision (autocast), memory format,
cudnn.benchmark, torch.compile, CPU threads and the DataLoader's settings. `choose()` decides from what is asked and
what the machine has; `SpeedPlan.report()` (also `speed_report(plan)`) is every choice with its reason, as JSON-able
data for the doctor event; train.py applies the plan to the model and to each step.

Precision. The weights, the optimizer's momentum and the loss stay float32 ("master weights"): autocast runs the
convolutions (and what follows them) in bf16 or fp16, and the heads' outputs are cast back to float32 before the
MultiBox loss (its hard-negative ranking and sums are not for 8-bit mantissas). fp16 needs loss scaling (its range
is small); bf16 has float32's range and does not. Loss scaling is `LossScaler` below, not torch.cuda.amp.GradScaler:
in torch 1.13 that one is CUDA-only and drives a torch.optim optimizer, while this engine's optimizer is Caffe's SGD
(train.CaffeSgd); the rule is GradScaler's (start 2**16, halve and skip the step on inf/NaN gradients, double after
2000 good steps).

`auto` means: on CUDA bf16 where the GPU has it (Ampere and later), else fp16 with loss scaling; on the CPU float32,
so a CPU run computes what the tfjs engine computes (the engines are compared to 1e-4). bf16 on the CPU is there
on request (`--precision bf16`); it is much faster where the CPU has bf16 instructions (AVX512-BF16, AMX), and the
report says whether this one has them.

Data loader hints (`plan.loader`): the values a torch.utils.data.DataLoader of the training data takes
(num_workers, pin_memory, persistent_workers, prefetch_factor); the data feed reads them from the plan.
"""
import contextlib
import os
from typing import Any, Optional, TypedDict

import torch

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class SpeedOptionError(Exception):
    pass


class Choice(TypedDict):
    value: Any
    why: str


class LoaderHints(TypedDict):
    """torch.utils.data.DataLoader's arguments of these names."""
    num_workers: int
    pin_memory: bool
    persistent_workers: bool
    prefetch_factor: Optional[int]


# SpeedPlan.report(): every choice, in this order. Values: device str ("cpu", "cuda:0"); precision "fp32" | "bf16" |
# "fp16"; lossScaling, channelsLast, cudnnBenchmark, compile, syncBatchNorm bool; threads int; loader LoaderHints.
SpeedReport = TypedDict("SpeedReport", {k: Choice for k in (
    "device", "precision", "lossScaling", "channelsLast", "cudnnBenchmark", "compile", "threads", "loader", "syncBatchNorm")})


def cpu_has_bf16():
    """Whether this CPU has bf16 instructions (Linux's cpuinfo flags); None where that cannot be read."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), None)
    except OSError:
        return None
    if flags is None:
        return None
    return "avx512_bf16" in flags or "amx_bf16" in flags


def has_compile():
    return hasattr(torch, "compile")


class LossScaler:
    """Dynamic loss scaling for fp16 (GradScaler's rule, for any optimizer): backward of loss x scale; before the
    optimizer step the gradients are divided by the scale and checked; a step with inf/NaN gradients is skipped and
    the scale halved; after `interval` good steps in a row it doubles. Under DDP the gradients are the same on every
    rank after backward (all-reduced), so every rank takes the same decision."""

    def __init__(self, scale=2.0**16, growth=2.0, backoff=0.5, interval=2000):
        self.scale, self.growth, self.backoff, self.interval = float(scale), growth, backoff, interval
        self.good = 0

    def unscale(self, params):
        """Divide the gradients by the scale; True when they are all finite (the step may be taken)."""
        inv = 1.0 / self.scale
        grads = [p.grad for p in params if p.grad is not None]
        bad = torch.zeros((), device=grads[0].device) if grads else torch.zeros(())
        for g in grads:
            g.mul_(inv)
            bad += (~torch.isfinite(g)).any()
        ok = not bool(bad.item())
        if ok:
            self.good += 1
            if self.good == self.interval:
                self.scale *= self.growth
                self.good = 0
        else:
            self.scale *= self.backoff
            self.good = 0
        return ok

    def state(self):
        return {"scale": self.scale, "good": self.good}


class SpeedPlan:
    """What train.py (and the benchmarks) apply; every field is in report()."""

    def __init__(self, device, precision, channels_last, cudnn_benchmark, compile_, threads, loader, sync_bn, why):
        self.device = device
        self.precision = precision
        self.channels_last = channels_last
        self.cudnn_benchmark = cudnn_benchmark
        self.compile = compile_
        self.threads = threads
        self.loader = loader
        self.sync_bn = sync_bn
        self.why = why
        self.scaler = LossScaler() if precision == "fp16" else None

    def report(self) -> SpeedReport:
        """{choice: {"value": ..., "why": "..."}} for every choice: JSON-able (the doctor event carries it)."""
        values = {
            "device": str(self.device),
            "precision": self.precision,
            "lossScaling": self.scaler is not None,
            "channelsLast": self.channels_last,
            "cudnnBenchmark": self.cudnn_benchmark,
            "compile": self.compile,
            "threads": self.threads,
            "loader": dict(self.loader),
            "syncBatchNorm": self.sync_bn,
        }
        return {k: {"value": v, "why": self.why[k]} for k, v in values.items()}

    def summary(self):
        """One line for the run's log."""
        parts = [self.precision + (" autocast" if self.precision != "fp32" else ""), "channels-last" if self.channels_last else "contiguous"]
        if self.scaler:
            parts.append("loss scaling")
        if self.cudnn_benchmark:
            parts.append("cudnn.benchmark")
        if self.compile:
            parts.append("torch.compile")
        if self.sync_bn:
            parts.append("synchronized batch norm")
        if self.device.type == "cpu":
            parts.append(f"{self.threads} thread" + ("s" if self.threads != 1 else ""))
        return ", ".join(parts)

    def apply_globals(self):
        """Process-wide settings: cudnn.benchmark and the CPU threads."""
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = self.cudnn_benchmark
        else:
            torch.set_num_threads(self.threads)

    def prepare(self, net):
        """The network in the chosen memory format (parameters and buffers; their values unchanged)."""
        if self.channels_last:
            net = net.to(memory_format=torch.channels_last)
        return net

    def wrap(self, model):
        """The module the step calls: compiled where asked and available (after DDP wraps it)."""
        return torch.compile(model) if self.compile else model

    def input(self, x):
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def autocast(self):
        if self.precision == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=DTYPES[self.precision])

    def forward(self, model, x):
        """loc, conf in float32 (the loss is computed in float32 whatever the precision)."""
        with self.autocast():
            loc, conf = model(self.input(x))
        return loc.float(), conf.float()

    def backward(self, loss):
        (loss * self.scaler.scale if self.scaler else loss).backward()

    def step_ok(self, params):
        """Before the optimizer step: gradients unscaled; False when fp16 overflowed (skip this step)."""
        return self.scaler.unscale(params) if self.scaler else True


def choose(device, precision="auto", channels_last=None, compile_=False, sync_bn=False, world_size=1, local_world_size=1, cpu_count=None,
           sync_bn_from="--sync-bn"):
    """The plan for this device. precision: auto|fp32|bf16|fp16; channels_last: None (auto) or a bool; compile_: a bool
    (never on unless asked); sync_bn: a bool (meaningful with world_size > 1), asked by `sync_bn_from` (the flag, or the
    spec's train.sync_bn)."""
    if precision not in PRECISIONS:
        raise SpeedOptionError(f"--precision {precision!r}: one of {', '.join(PRECISIONS)}")
    device = torch.device(device)
    cuda = device.type == "cuda"
    why = {"device": "CUDA is available: this process's local GPU" if cuda else "no CUDA device: the CPU"}
    native_bf16 = (torch.cuda.is_bf16_supported() if cuda else cpu_has_bf16())

    # Precision.
    if precision == "auto":
        if cuda:
            precision = "bf16" if native_bf16 else "fp16"
            why["precision"] = ("auto: the GPU has bf16 (float32's range, no loss scaling needed)" if native_bf16
                                else "auto: this GPU has no bf16; fp16 with loss scaling")
        else:
            precision = "fp32"
            hint = {True: "this CPU has bf16 instructions: --precision bf16 is faster",
                    False: "this CPU has no bf16 instructions (bf16 would be emulated, slower)",
                    None: "whether this CPU has bf16 instructions is unknown"}[native_bf16]
            why["precision"] = f"auto on the CPU: float32, the tfjs engine's arithmetic; {hint}"
    elif precision == "fp16" and not cuda:
        raise SpeedOptionError("--precision fp16 needs CUDA (torch's CPU autocast has bf16 only); use bf16 or fp32")
    elif precision == "bf16" and cuda and not native_bf16:
        raise SpeedOptionError("--precision bf16: this GPU has no bf16 (before Ampere); use fp16 or fp32")
    else:
        why["precision"] = f"asked (--precision {precision})" + (
            "" if precision != "bf16" or cuda else
            {True: "; this CPU has bf16 instructions", False: "; this CPU has no bf16 instructions: emulated, likely slower",
             None: ""}[native_bf16])
    why["lossScaling"] = ("fp16's range needs it: dynamic loss scaling (start 2^16, halve and skip on overflow)"
                          if precision == "fp16" else f"not needed with {precision}")

    # Memory format. Measured on the CPU (AMD EPYC, torch 1.13, one thread, DSOD300 training step): channels-last
    # takes 1.5x the time of contiguous in float32 and 0.9x in bf16; on GPUs NHWC is what tensor cores run.
    if channels_last is None:
        channels_last = cuda or precision == "bf16"
        why["channelsLast"] = ("auto: NHWC is the tensor cores' layout (cuDNN)" if cuda else
                               "auto: oneDNN's bf16 convolutions run faster in NHWC" if channels_last else
                               "auto: on the CPU in float32, NCHW measured faster (DSOD300: channels-last 1.5x slower)")
    else:
        why["channelsLast"] = "asked (--channels-last)" if channels_last else "asked (--no-channels-last)"

    cudnn_benchmark = cuda and torch.backends.cudnn.is_available()
    why["cudnnBenchmark"] = ("fixed input size: cuDNN times its algorithms once per shape and keeps the fastest" if cudnn_benchmark
                             else "no cuDNN on the CPU" if not cuda else "cuDNN is not available")

    # torch.compile: off unless asked. On the CPU its compile time (minutes for DSOD300's hundreds of nodes, a C++
    # compiler needed at run time) is more than short CPU runs gain; on GPUs it is not yet measured (bench/gpu/).
    if compile_ and not has_compile():
        raise SpeedOptionError(f"--compile: torch {torch.__version__} has no torch.compile (it came with PyTorch 2.0)")
    if compile_:
        why["compile"] = "asked (--compile)"
    elif not has_compile():
        why["compile"] = f"torch {torch.__version__} has no torch.compile (PyTorch 2.0 and later)"
    elif cuda:
        why["compile"] = "off unless asked (--compile): not yet measured on a GPU with this network (bench/gpu/)"
    else:
        why["compile"] = "off on the CPU: compiling takes minutes (a C++ compiler at run time) for little gain on short CPU runs"

    # CPU threads: the cores shared by the processes of this machine (each rank would otherwise take them all).
    cpus = cpu_count or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    if cuda:
        threads = torch.get_num_threads()
        why["threads"] = "torch's default (the GPU computes; the CPU feeds data)"
    else:
        threads = max(1, min(torch.get_num_threads(), cpus // max(1, local_world_size)))
        why["threads"] = (f"{cpus} cores shared by {local_world_size} processes of this machine" if local_world_size > 1
                          else "torch's default for this machine" if threads == torch.get_num_threads() else f"{cpus} cores")

    # DataLoader: on CUDA, worker processes decode while the GPU computes (one core left to the training process)
    # and pinned memory lets the copy to the GPU overlap; on the CPU the step needs the cores the workers would take.
    per_rank = max(1, cpus // max(1, local_world_size))
    if cuda:
        workers = max(1, min(8, per_rank - 1))
        loader = {"num_workers": workers, "pin_memory": True, "persistent_workers": True, "prefetch_factor": 2}
        why["loader"] = f"{per_rank} cores per GPU: {workers} decoding workers, pinned memory for asynchronous copies"
    else:
        workers = 0 if per_rank <= 2 else min(4, per_rank // 4)
        loader = {"num_workers": workers, "pin_memory": False, "persistent_workers": workers > 0,
                  "prefetch_factor": 2 if workers > 0 else None}
        why["loader"] = (f"{per_rank} cores per process: the training step needs them; "
                         + ("data decoded in the training process" if workers == 0 else f"{workers} decoding workers")
                         + "; no pinned memory without a GPU")

    if sync_bn and world_size > 1:
        why["syncBatchNorm"] = f"asked ({sync_bn_from}): batch statistics over all {world_size} processes' images"
    elif sync_bn:
        why["syncBatchNorm"] = f"asked ({sync_bn_from}), one process: its statistics are the whole batch's already"
    else:
        why["syncBatchNorm"] = ("per process (Caffe's multi-GPU batch norm); --sync-bn or the spec's train.sync_bn synchronizes" if world_size > 1
                                else "one process: nothing to synchronize")
    return SpeedPlan(device, precision, channels_last, cudnn_benchmark, compile_, threads, loader, sync_bn and world_size > 1, why)


def speed_report(plan) -> SpeedReport:
    """The doctor event's torch speed section: plan.report()."""
    return plan.report()

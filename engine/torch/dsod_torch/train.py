"""`python -m dsod_torch train`: the torch engine's training loop (issue 12, item 2). What is real: the network (graph.py), default boxes, matching and box coding (boxes.py), the MultiBox loss with
hard negative mining (loss.py), Caffe's SGD with the spec's schedule (warm-up, milestones, momentum, weight decay),
the run folder's events.jsonl with the engine's events, an atomic checkpoint at the end or on SIGINT/SIGTERM; with
--data RUNDIR/data.json (the index Node writes, engine/torch/data-index.ts) the tfjs engine's batches of the real
dataset (data.py: decoded in DataLoader workers, augmented and matched as the tfjs engine does).

Evaluation: with --eval-dir DIR and a data index that has a held-out split, every --eval-every steps and at the end
the held-out images are decoded here (data.py HeldOut, as the tfjs engine's evaluation prepares them), the network's
detections written to DIR as `dsod infer`'s document (atomically; `skipped` lists the images that could not be used,
each also a warning) and announced with a `detections` event; the bridge (engine/cli/torch-engine.ts) scores them with
the TypeScript evaluator and emits the `metric` event. This engine never computes a mAP itself.

--minutes: as the tfjs trainer (engine/train/training-run.ts fitBudget), once FIT_AFTER_STEPS steps past the first
SKIP_TIMING_STEPS are timed, a schedule that cannot fit the budget is compressed to the steps that fit (milestones in
proportion: engine/train/schedule.ts compressSchedule), once per run: the checkpoint records it (scheduleFitted), and a
resumed run keeps it.

Checkpoint meta: the tfjs engine's CheckpointMeta (engine/train/checkpoint.ts: step, position, schedule, data,
calibration, statsRecalibrated, ...) plus this engine's (processes, lossScale); weights.dsodw carries it in its header,
so Node, which cannot read a .pt, finds a torch run's step, schedule and data there.

Ends as the tfjs trainer's: the schedule's end (completed), --max-steps (step-limit), --minutes (time-limit), a
signal (stopped, 130/143). Every checkpoint also writes RUNDIR/weights.dsodw, the tfjs engine's weights file, so
`dsod eval` and `dsod infer` of either engine read a run of either.

Under torchrun (WORLD_SIZE > 1) it trains data-parallel (DistributedDataParallel, gloo on the CPU, nccl on CUDA):
the spec's batch is the global one, split over the processes; only rank 0 writes events and checkpoints; a stop
asked of any rank stops all at the same step; a run resumes under another number of processes.

--resume continues from the run's latest checkpoint exactly: weights, momentum, step, and the data stream (a function
of the seed and the step).

Gradient accumulation as Caffe's iter_size (and the tfjs trainer): `batch` images per optimizer step in `accumulate`
micro-batches; the gradient and the reported losses are the micro-batches' means.

Without --data, synthetic images, a function of (seed, image index), the index counting images over the whole run: seeded noise images, each with 1-3 seeded boxes of classes
1..C-1, matched to the default boxes as the tfjs engine matches them.
"""
import contextlib
import json
import math
from datetime import datetime, timezone
import os
import signal
import time

import torch

from .doctor import doctor_fields
from .events import EventSink
from .boxes import encode_targets, prior_boxes
from .data import TrainingData
from .graph import CaffeBatchNorm, GraphNet
from .loss import multibox_loss
from .speed import choose as choose_speed
from . import syncbn
from .weights import encode_weights, load_into, read_weights_file, state_of, to_torch_layout, to_tfjs_layout

WEIGHTS_FILE = "weights.dsodw"
# Micro-batches the batch-norm statistics are recomputed over before an evaluation (engine/train/bn-calibration.ts).
CALIBRATION_BATCHES = 50

CHECKPOINT_FORMAT = "dsod-torch-checkpoint"
# engine/train/training-run.ts FIT_AFTER_STEPS and step-clock.ts SKIP_TIMING_STEPS: a --minutes budget is fitted once
# this many steps are timed, the first ones of a process (one-time set-up) left out.
FIT_AFTER_STEPS = 12
SKIP_TIMING_STEPS = 2


def schedule_of(train, iterations=None):
    """engine/train/schedule.ts scheduleOf: the spec's schedule (iterations: --steps, when given)."""
    return {"lr": train["lr"], "gamma": train["gamma"], "milestones": sorted(train["milestones"]), "warmup": train["warmup"],
            "iterations": train["iterations"] if iterations is None else iterations}


def learning_rate(schedule, step):
    """engine/train/schedule.ts learningRate: milestones multiply by gamma; a linear warm-up from lr/warmup."""
    lr = schedule["lr"]
    for m in schedule["milestones"]:
        if step >= m:
            lr *= schedule["gamma"]
    if step < schedule["warmup"]:
        lr *= (step + 1) / schedule["warmup"]
    return lr


def fmt_minutes(m):
    """A number as JavaScript prints it (1, 0.5): the log line is the tfjs trainer's."""
    return f"{m:g}"


def js_round(x):
    """JavaScript's Math.round (half up), as compressSchedule rounds."""
    return math.floor(x + 0.5)


def compress_schedule(schedule, iterations):
    """engine/train/schedule.ts compressSchedule: the schedule squeezed into fewer iterations, milestones in proportion
    (after the warm-up, which is kept as written)."""
    if iterations >= schedule["iterations"]:
        return schedule
    f = iterations / schedule["iterations"]
    return {**schedule, "iterations": iterations, "milestones": [max(schedule["warmup"] + 1, js_round(m * f)) for m in schedule["milestones"]]}


class StepClock:
    """engine/train/step-clock.ts's steady average: a step counts once this process took SKIP_TIMING_STEPS steps, or
    once the run is past its first SKIP_TIMING_STEPS."""

    def __init__(self):
        self.taken, self.steps, self.seconds = 0, 0, 0.0

    def record(self, seconds, step):
        self.taken += 1
        if self.taken > SKIP_TIMING_STEPS or step > SKIP_TIMING_STEPS:
            self.steps += 1
            self.seconds += seconds

    @property
    def sec_per_step(self):
        return self.seconds / self.steps


class CaffeSgd:
    """Caffe's SGD (engine/train/sgd.ts): g' = g + weight_decay w; h = momentum h + lr g'; w = w - h."""

    def __init__(self, params, momentum, weight_decay):
        self.params = [p for p in params if p.requires_grad]
        self.momentum, self.weight_decay = momentum, weight_decay
        self.history = [torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def step(self, lr):
        # The same elementwise arithmetic as a loop over the tensors, one call per operation for all of them (torch's
        # foreach kernels: no Python per tensor; DSOD300 has ~600).
        grads = [p.grad for p in self.params]
        if self.weight_decay != 0:
            grads = torch._foreach_add(grads, self.params, alpha=self.weight_decay)
        torch._foreach_mul_(self.history, self.momentum)
        torch._foreach_add_(self.history, grads, alpha=lr)
        torch._foreach_sub_(self.params, self.history)


def synthetic_images(g, priors, first, count, seed):
    """Images first..first+count-1 of the synthetic stream: each a function of (seed, its index) alone, so the stream
    is the same whatever the world size or the micro-batch split."""
    s = g["spec"]
    c, h, w = s["input"]["channels"], s["input"]["height"], s["input"]["width"]
    classes = s["classes"]["count"]
    xs, locs, labels = [], [], []
    for i in range(first, first + count):
        gen = torch.Generator().manual_seed(seed * 1_000_003 + i)
        xs.append(torch.rand(c, h, w, generator=gen) * 255 - 128)
        k = int(torch.randint(1, 4, (1,), generator=gen))
        size = 0.1 + 0.5 * torch.rand(k, 2, generator=gen)
        corner = torch.rand(k, 2, generator=gen) * (1 - size)
        boxes = torch.cat([corner, corner + size], 1)
        cls = torch.randint(1, classes, (k,), generator=gen)
        loc_t, lab = encode_targets(priors, boxes, cls, s["priors"]["variances"])
        locs.append(loc_t)
        labels.append(lab)
    return torch.stack(xs), torch.stack(locs), torch.stack(labels)


class World:
    """One process, or a rank of a torchrun launch (WORLD_SIZE > 1): gloo on the CPU, nccl on CUDA."""

    def __init__(self):
        self.size = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_size = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
        # One GPU per process where there are GPUs (the local rank's); else the CPU. Not yet run on a GPU here.
        self.device = torch.device(f"cuda:{local}") if torch.cuda.is_available() else torch.device("cpu")
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)
        self.backend = None
        if self.size > 1:
            import torch.distributed as dist

            self.backend = "nccl" if torch.cuda.is_available() and dist.is_nccl_available() else "gloo"
            dist.init_process_group(self.backend)
            self.dist = dist

    @property
    def main(self):
        return self.rank == 0

    def any(self, flag):
        """True on every rank when it is true on one (a stop asked of one rank stops all at the same step)."""
        if self.size == 1:
            return bool(flag)
        t = torch.tensor([1.0 if flag else 0.0], device=self.device)
        self.dist.all_reduce(t, op=self.dist.ReduceOp.MAX)
        return bool(t.item() > 0)

    def mean(self, t):
        if self.size > 1:
            self.dist.all_reduce(t)
            t /= self.size
        return t

    def first(self, value):
        """Rank 0's value on every rank (one decision for all)."""
        if self.size == 1:
            return value
        t = torch.tensor([float(value)], dtype=torch.float64, device=self.device)
        self.dist.broadcast(t, 0)
        return t.item()

    def barrier(self):
        if self.size > 1:
            self.dist.barrier()

    def close(self):
        if self.size > 1:
            self.dist.destroy_process_group()


class NullSink:
    def emit(self, *_args, **_fields):
        return None


def write_checkpoint(run_dir, net, sgd, meta):
    """Atomic: a temporary file beside the target, renamed into place."""
    folder = os.path.join(run_dir, "checkpoints")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"step-{meta['step']:08d}.pt")
    tmp = f"{path}.tmp-{os.getpid()}-{os.urandom(4).hex()}"
    names = [name for name, _, learned, _ in net.named_dsod_tensors() if learned]
    state = {
        "format": CHECKPOINT_FORMAT,
        "version": 1,
        # JSON text: the file then holds only tensors, strings and ints, what torch.load(weights_only=True) accepts
        # (a checkpoint from elsewhere runs no code when read).
        "meta": json.dumps(meta),
        # Both in the tfjs engine's names and layouts (dsod_torch.weights).
        "weights": state_of(net),
        "optimizer": {name: to_tfjs_layout(h).cpu() for name, h in zip(names, sgd.history)},
        # The batch-norm sums as this engine holds them (scaled, CaffeBatchNorm): `weights` has them divided back,
        # which does not round-trip exactly in float32; a resumed run takes these, so it continues bit for bit.
        "scaled": {name: t.detach().cpu().clone() for name, t, _, scale in net.named_dsod_tensors() if scale != 1},
    }
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    write_bytes_atomic(os.path.join(run_dir, WEIGHTS_FILE), encode_weights(state["weights"], meta))
    return path, os.path.getsize(path)


def write_bytes_atomic(path, data):
    tmp = f"{path}.tmp-{os.getpid()}-{os.urandom(4).hex()}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def prune_checkpoints(run_dir, keep):
    """The last `keep` checkpoints stay (as the tfjs trainer keeps its last 3)."""
    folder = os.path.join(run_dir, "checkpoints")
    names = sorted(n for n in os.listdir(folder) if n.startswith("step-") and n.endswith(".pt"))
    for n in names[:-keep] if keep > 0 else []:
        os.unlink(os.path.join(folder, n))


class ResumeError(Exception):
    pass


def latest_checkpoint(run_dir):
    folder = os.path.join(run_dir, "checkpoints")
    names = sorted(n for n in os.listdir(folder) if n.startswith("step-") and n.endswith(".pt")) if os.path.isdir(folder) else []
    return os.path.join(folder, names[-1]) if names else None


def snapshot_stats(net):
    """A copy of every batch norm's running statistics (to evaluate with recalibrated ones, then put these back)."""
    return [(m, m.mean_ema.clone(), m.var_ema.clone(), m.factor.clone()) for m in net.modules() if isinstance(m, CaffeBatchNorm)]


def restore_stats(net, kept):
    with torch.no_grad():
        for m, mean, var, factor in kept:
            m.mean_ema.copy_(mean)
            m.var_ema.copy_(var)
            m.factor.copy_(factor)


def recalibrate(net, data, g, micro, batches, device):
    """engine/train/bn-calibration.ts: every running statistic reset and re-accumulated, with Caffe's update, over the
    first `batches` x `micro` training images (resized, in order, each once), so they depend only on the weights. On
    rank 0 alone: synchronized batch norm is off while it runs. Returns the images seen."""
    bns = [m for m in net.modules() if isinstance(m, CaffeBatchNorm)]
    syncs = [m.sync for m in bns]
    was_training = net.training
    images = 0
    try:
        with torch.no_grad():
            for m in bns:
                m.mean_ema.zero_()
                m.var_ema.zero_()
                m.factor.zero_()
                m.sync = None
            net.train()
            for b in data.calibration_batches(g, micro, batches):
                if b["size"]:
                    net(b["images"].to(device))
                    images += b["size"]
    finally:
        for m, sync in zip(bns, syncs):
            m.sync = sync
        net.train(was_training)
    return images


def resume_from(path, g, net, sgd):
    """Weights, momentum and meta of a checkpoint of this spec (its hash must be the graph's)."""
    try:
        c = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - whatever the unpickler refuses, the message says which file
        raise ResumeError(f"{path}: not a readable {CHECKPOINT_FORMAT} ({e.__class__.__name__})") from None
    if c.get("format") != CHECKPOINT_FORMAT or c.get("version") != 1:
        raise ResumeError(f"{path}: not a {CHECKPOINT_FORMAT} version 1")
    c["meta"] = json.loads(c["meta"])
    want, got = g["spec"]["hash"], c["meta"]["spec"]["hash"]
    if want is not None and got != want:
        raise ResumeError(f"{path} was written for another spec (hash {got}, this spec's is {want})")
    load_into(net, c["weights"])
    names = [name for name, _, learned, _ in net.named_dsod_tensors() if learned]
    with torch.no_grad():
        for name, t, _, scale in net.named_dsod_tensors():
            if scale != 1 and name in c.get("scaled", {}):
                t.copy_(c["scaled"][name])
        for name, h in zip(names, sgd.history):
            h.copy_(to_torch_layout(c["optimizer"][name]))
    return c["meta"]


class TrainOptionError(Exception):
    pass


class Limits:
    """When a run stops early and how it evaluates (the tfjs trainer's --max-steps, --minutes, --eval-every)."""

    def __init__(self, max_steps=None, minutes=None, eval_every=None, eval_dir=None, eval_images=None, events_file=True,
                 keep_checkpoints=3, init=None, calibration_batches=CALIBRATION_BATCHES):
        self.max_steps, self.minutes = max_steps, minutes
        # eval_dir: where the detections of the held-out split (the data index's test split) go; None: no evaluations.
        self.eval_every, self.eval_dir, self.eval_images = eval_every, eval_dir, eval_images
        self.events_file, self.keep_checkpoints = events_file, keep_checkpoints
        # init: a tfjs weights file to start a new run from (the bridge writes the tfjs engine's seeded initial
        # weights, so both engines start alike); calibration_batches: engine/train/bn-calibration.ts's count.
        self.init, self.calibration_batches = init, calibration_batches


def train(g, run_dir, spec_path, steps=None, batch=None, accumulate=None, resume=False, data=None, workers=None, limits=None,
          speed=None):
    """data: the dataset index (engine/torch/data-index.ts), synthetic data when None; limits: Limits (when to stop
    early, how to evaluate); speed: dsod_torch.speed.choose's options (precision, channels_last, compile_, sync_bn),
    its defaults when None."""
    t = g["spec"]["train"]
    batch = batch if batch is not None else t["batch"]
    accumulate = accumulate if accumulate is not None else t["accumulate"]
    seed = t["seed"]
    world = World()
    try:
        # Speed options (dsod_torch.speed): plan.report() is every choice with its reason, for the doctor event.
        plan = choose_speed(world.device, world_size=world.size, local_world_size=world.local_size, **(speed or {}))
        return _train(g, run_dir, spec_path, steps, batch, accumulate, resume, seed, world, plan, data, workers, limits or Limits())
    finally:
        world.close()


def micro_batch(data, batches, g, priors, first, micro, seed, sink):
    """(x, loc_t, labels) of one micro-batch: the loader's next (its new problems warned about once each), or the
    synthetic images from stream position `first`; None when the data ran out of usable images."""
    if data is None:
        return synthetic_images(g, priors, first, micro, seed)
    b = next(batches)
    for message in data.new_problems(b):
        sink.emit("log", level="warn", message=message)
    return (b["images"], b["loc_t"], b["labels_t"]) if b["size"] else None


def _train(g, run_dir, spec_path, steps, batch, accumulate, resume, seed, world, plan, data_path, workers, limits):
    t = g["spec"]["train"]
    eval_every = limits.eval_every if limits.eval_every is not None else t["checkpointEvery"]
    stop = {"signal": None}

    def on_signal(signum, _frame):
        stop["signal"] = signum

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    started = time.perf_counter()
    torch.manual_seed(seed)
    plan.apply_globals()
    net = plan.prepare(GraphNet(g, seed=seed).train().to(world.device))
    if plan.sync_bn:
        syncbn.enable(net)
    sgd = CaffeSgd(net.parameters(), t["momentum"], t["weightDecay"])
    priors = prior_boxes(g)
    step, before = 0, 0.0
    # The spec's schedule (--steps: its length), unless a --minutes budget fitted one: that decision is part of the run.
    schedule, fitted = schedule_of(t, steps), False
    path = latest_checkpoint(run_dir) if resume else None
    if limits.init and not path:
        load_into(net, read_weights_file(limits.init)[0])
    if path:
        meta = resume_from(path, g, net, sgd)
        step, before = meta["step"], meta["elapsedSec"]
        batch, accumulate = meta["batch"], meta["accumulate"]
        if meta.get("scheduleFitted") and meta.get("schedule"):
            schedule, fitted = meta["schedule"], True
        if plan.scaler and "lossScale" in meta:
            plan.scaler.scale = meta["lossScale"]
        # weights.dsodw is the resumed checkpoint's (after `dsod train --from` set later ones aside, it was a later one's).
        if world.main:
            write_bytes_atomic(os.path.join(run_dir, WEIGHTS_FILE), encode_weights(state_of(net), meta))
    # The spec's batch is the global one: every optimizer step sees `batch` images over all ranks and micro-batches.
    if accumulate < 1 or batch % (accumulate * world.size):
        raise TrainOptionError(f"the batch ({batch}) must be a multiple of accumulate ({accumulate}) x processes ({world.size})")
    micro = batch // (accumulate * world.size)
    data = TrainingData(data_path, g, priors, seed) if data_path else None
    # The loader's workers and pinning: speed.py chooses them (plan.loader, in the doctor's report); --workers overrides.
    workers = workers if workers is not None else plan.loader["num_workers"]
    # Only rank 0 writes the run folder and speaks.
    sink = EventSink(run_dir if limits.events_file else None) if world.main else NullSink()
    if world.main:
        os.makedirs(run_dir, exist_ok=True)
    held_out = None
    if limits.eval_dir and data and data.index["test"] and world.main:
        from .data import HeldOut

        held_out = HeldOut(data.index, g, data.decoder)
    sink.emit("doctor", **doctor_fields(world.device, world.size, world.backend, precision=plan.precision, speed=plan.report(),
                                        image_decoder=data.decoder if data else "synthetic"))
    model = net
    if world.size > 1:
        # Gradients averaged over ranks in backward. Batch-norm statistics per process, rank 0's broadcast at each
        # forward (DDP's broadcast_buffers): Caffe's multi-GPU behaviour; or, with --sync-bn, the whole batch's on
        # every rank (dsod_torch.syncbn), the same everywhere, so nothing to broadcast.
        model = torch.nn.parallel.DistributedDataParallel(net, device_ids=[world.device] if world.device.type == "cuda" else None,
                                                          broadcast_buffers=not plan.sync_bn)
    # no_sync() is DDP's; a compiled module does not have it.
    ddp = model
    model = plan.wrap(model)
    sink.emit("start", command="train", spec=spec_path, name=g["spec"]["name"], runDir=run_dir, step=step,
              steps=schedule["iterations"], batch=batch, accumulate=accumulate, resumed=path is not None,
              images={"train": data.images["train"] if data else 0, "test": data.images["test"] if data else 0})
    where = f"{world.size} processes ({world.backend})" if world.size > 1 else "one process"
    source = (f"{data.images['train']} training images ({data_path}), decoded by {data.decoder} in {workers} worker processes"
              if data else "synthetic data") + f" (seed {seed})"
    sink.emit("log", level="info", message=f"torch {torch.__version__} on {world.device}, {where}; {source}"
              + (f"; resumed from {path} at step {step}" if path else "") + f"; {plan.summary()}")
    for message in data.start_messages() if data else []:
        sink.emit("log", level="warn", message=message)
    # Loader step L = step x accumulate + k; its positions as the tfjs engine's, this rank's share of them.
    batches = data.batches(step * accumulate, batch // accumulate, world.rank * micro, micro, workers,
                           plan.loader["pin_memory"]) if data else None
    window = []
    clock = StepClock()
    decided = fitted
    budget = limits.minutes * 60 if limits.minutes is not None else None
    # What `dsod eval` and `dsod infer` need to redo this run's evaluations: its data, and its recalibration.
    source = data.index.get("source") if data else None
    run_record = {"calibration": {"batches": limits.calibration_batches if data else 0, "batchSize": micro}}
    if source:
        run_record["data"] = {k: source[k] for k in ("format", "root", "train", "test")}

    def elapsed():
        return before + time.perf_counter() - started

    def checkpoint(reason, recalibrated=False):
        # engine/train/checkpoint.ts CheckpointMeta (position: micro-batches of the stream consumed), and this engine's.
        meta = {"format": 1, "engine": "torch", "step": step, "position": step * accumulate, "seed": seed,
                "elapsedSec": elapsed(), "schedule": schedule, "scheduleFitted": fitted, "statsRecalibrated": recalibrated,
                "lossReference": None, "spec": {"name": g["spec"]["name"], "hash": g["spec"]["hash"]}, "batch": batch,
                "accumulate": accumulate, "augment": t["augment"], "processes": world.size, **run_record,
                "created": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")}
        if plan.scaler:
            meta["lossScale"] = plan.scaler.scale
        written, size = write_checkpoint(run_dir, net, sgd, meta)
        prune_checkpoints(run_dir, limits.keep_checkpoints)
        sink.emit("checkpoint", step=step, path=written, bytes=size, reason=reason)

    def evaluate(final):
        """Detections of the held-out images (periodic: the first --eval-images), handed to the bridge to score. A
        periodic one sees recalibrated batch-norm statistics, then training goes on with its own (as the tfjs engine);
        the final statistics were recalibrated for good before the last checkpoint."""
        from .infer import detections_document, write_json_atomic

        count = None if final else limits.eval_images
        kept = snapshot_stats(net) if not final and limits.calibration_batches > 0 else None
        if kept is not None:
            recalibrate(net, data, g, micro, limits.calibration_batches, world.device)
        skipped = []
        batches = held_out.batches(count, workers=workers, pin_memory=plan.loader["pin_memory"], skipped=skipped)
        doc = detections_document(net, g, batches, held_out.class_names, spec=spec_path, device=world.device)
        if kept is not None:
            restore_stats(net, kept)
        # Each image that could not be used: a warning (as the tfjs engine's evaluation gives), and listed for the
        # bridge, which leaves it out of the scoring, counts it (skippedImages) and applies the 5% rule.
        for p in skipped:
            sink.emit("log", level="warn", message=f"test data: {p['path']}: {p['message']} [{p['stage']}]")
        doc["skipped"] = skipped
        out = os.path.join(limits.eval_dir, f"detections-step-{step:08d}{'-final' if final else ''}.json")
        write_json_atomic(out, doc)
        sink.emit("detections", step=step, path=out, images=len(doc["images"]), final=final, elapsedSec=elapsed())

    def end_reason():
        if world.any(stop["signal"] is not None):
            return "stopped"
        if step >= schedule["iterations"]:
            return "completed"
        if limits.max_steps is not None and step >= limits.max_steps:
            return "step-limit"
        if limits.minutes is not None and world.any(time.perf_counter() - started >= limits.minutes * 60):
            return "time-limit"
        return None

    try:
        while end_reason() is None:
            t0 = time.perf_counter()
            lr = learning_rate(schedule, step)
            for p in net.parameters():
                p.grad = None
            parts = torch.zeros(3, device=world.device)
            for k in range(accumulate):
                first = (step * accumulate + k) * (batch // accumulate) + world.rank * micro
                xs = micro_batch(data, batches, g, priors, first, micro, seed, sink)
                if xs is None:
                    sink.emit("error", code="data", message="the training data ran out of readable images", where=None, fatal=True)
                    sink.emit("done", reason="failed", step=step, elapsedSec=time.perf_counter() - started, exitCode=1, metric=None)
                    return 1
                x, loc_t, labels = (t.to(world.device, non_blocking=True) for t in xs)
                # DDP reduces gradients on the last micro-batch only.
                sync = world.size == 1 or k == accumulate - 1
                with (contextlib.nullcontext() if sync else ddp.no_sync()):
                    loc, conf = plan.forward(model, x)
                    losses = multibox_loss(loc, conf, loc_t, labels)
                    plan.backward(losses[0] / accumulate)
                parts += torch.stack([l.detach() for l in losses]) / accumulate
            loss, loc_loss, conf_loss = world.mean(parts)
            if not torch.isfinite(loss):
                sink.emit("error", code="loss-not-finite", message=f"the loss is {loss.item()} at step {step + 1}", where=None, fatal=True)
                sink.emit("done", reason="failed", step=step, elapsedSec=time.perf_counter() - started, exitCode=1, metric=None)
                return 1
            # fp16: a step whose gradients overflowed is skipped (the loss scale halves).
            if plan.step_ok(sgd.params):
                sgd.step(lr)
            step += 1
            took = time.perf_counter() - t0
            window = (window + [took])[-10:]
            img_per_sec = batch * len(window) / sum(window)
            clock.record(took, step)
            if budget is not None and not decided and clock.steps >= FIT_AFTER_STEPS:
                # Once per process (and never again once a checkpoint recorded a fitted schedule); every rank takes
                # rank 0's decision.
                decided = True
                room = budget * 0.9 - (time.perf_counter() - started)
                reachable = step + max(0, int(world.first(room / clock.sec_per_step)))
                if reachable < schedule["iterations"]:
                    schedule, fitted = compress_schedule(schedule, reachable), True
                    sink.emit("log", level="info", message=f"--minutes {fmt_minutes(limits.minutes)}: at {clock.sec_per_step:.2f} s a step, "
                              f"{reachable} of the spec's {t['iterations']} steps fit; schedule compressed "
                              f"(milestones {', '.join(str(m) for m in schedule['milestones'])})")
            steps = schedule["iterations"]
            last = min(steps, limits.max_steps if limits.max_steps is not None else steps)
            sink.emit("progress", epoch=step * batch / data.images["train"] if data else 0, step=step, steps=steps, loss=loss.item(),
                      parts={"loc": loc_loss.item(), "conf": conf_loss.item()}, lr=lr, imgPerSec=img_per_sec,
                      etaSec=max(0, last - step) * batch / img_per_sec, elapsedSec=elapsed())
            # The interval checkpoint and periodic evaluation of this step; the last step's are the end's.
            if step < last and world.main:
                if step % t["checkpointEvery"] == 0:
                    checkpoint("interval")
                if held_out is not None and eval_every > 0 and step % eval_every == 0:
                    evaluate(False)
        reason = end_reason()
        stopped = reason == "stopped"
        signum = stop["signal"] or signal.SIGTERM
        if world.main:
            # The weights a run leaves carry statistics of those weights (not after a signal: stopping must be quick).
            recalibrated = bool(data) and not stopped and limits.calibration_batches > 0
            if recalibrated:
                images = recalibrate(net, data, g, micro, limits.calibration_batches, world.device)
                sink.emit("log", level="info", message=f"batch-norm statistics recomputed over {images} training images")
            checkpoint("signal" if stopped else "end" if reason == "completed" else "limit", recalibrated)
            # The final evaluation, on every held-out image (not after a signal: stopping must be quick).
            if held_out is not None and not stopped:
                evaluate(True)
        world.barrier()
        if stopped:
            code = 130 if signum == signal.SIGINT else 143
            sink.emit("done", reason="stopped", step=step, elapsedSec=time.perf_counter() - started, exitCode=code, metric=None)
            return code
        sink.emit("done", reason=reason, step=step, elapsedSec=time.perf_counter() - started, exitCode=0, metric=None)
        return 0
    finally:
        for s, h in previous.items():
            signal.signal(s, h)

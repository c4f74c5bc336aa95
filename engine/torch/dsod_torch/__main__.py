"""`python -m dsod_torch COMMAND ...` (PYTHONPATH: engine/torch). Commands:

  check GRAPH.json [--batch N]
      Build the network, run one forward pass on zeros (eval mode) checking every node's shape against the graph's,
      and print one JSON object: torch version, learned and stored parameter counts, every node's output shape,
      the heads' shapes.
  forward GRAPH.json --weights W --input X.dsodw --out Y.dsodw [--train] [--targets T.dsodw]
      Load tfjs-named weights (a .dsodw weights file or a tfjs .dsodckpt checkpoint), run the tensor named `input`
      (NCHW) through the network and write `loc` and `conf` in the weights encoding. --train: batch statistics.
      --targets: `loc_t` [N, P, 4] and `labels` [N, P] (0 background, -1 ignored); also writes `loss`, the
      MultiBox loss as [total, loc, conf].
  step GRAPH.json --weights W --input X.dsodw --targets T.dsodw --lr LR --out W2.dsodw
      One training step as the tfjs trainer takes it (batch statistics folded into the running ones, MultiBox loss,
      backward, Caffe's SGD with the spec's momentum and weight decay, fresh momentum) and write every parameter and
      running statistic afterwards, tfjs-named and laid out, plus `loss` [total, loc, conf].
  targets GRAPH.json --gt GT.dsodw --out T.dsodw
      The default boxes and one image's training targets: GT holds `boxes` [G, 4] (normalised corners) and `labels`
      [G] (1-based classes); writes `priors` [P, 4], `loc_t` [P, 4] and `labels` [P] (as float32).
  detect GRAPH.json --outputs Y.dsodw --out DETS.json
      Detections from network outputs (`loc` [N, P, 4], `conf` [N, P, C], as `forward` writes them), with the SSD
      settings: JSON, per image a list of {box (normalised corners), label, score}.
  train GRAPH.json --out RUNDIR [--spec FILE] [--steps N] [--batch B] [--accumulate K] [--resume]
        [--data DATA.json [--workers N]] [--max-steps N] [--minutes M] [--eval-every N] [--eval-dir DIR]
        [--eval-images N] [--no-events-file] [--init W.dsodw]
        [--precision auto|fp32|bf16|fp16] [--channels-last|--no-channels-last] [--compile] [--[no-]sync-bn]
      Training (dsod_torch/train.py): the engine's JSON-lines events on stdout and in RUNDIR/events.jsonl (not with
      --no-events-file: the bridge writes it), checkpoints (with RUNDIR/weights.dsodw) every checkpointEvery steps,
      at the end or on SIGINT/SIGTERM (exit 130/143); --resume continues exactly from the run's latest checkpoint.
      --data: the dataset index Node wrote (engine/torch/data-index.ts), read with N DataLoader worker processes
      (default: speed.py's choice); without it, synthetic data. The speed flags: dsod_torch/speed.py (auto when
      absent). --max-steps / --minutes end the run early (step-limit /
      time-limit; a schedule that cannot fit --minutes is compressed to fit, as the tfjs trainer does). --eval-dir
      DIR: every --eval-every steps (default the spec's checkpointEvery; 0: the end only) and at the end, the
      held-out split of --data is decoded here and the detections written to DIR, announced with a `detections`
      event (the bridge scores them).
  infer GRAPH.json --weights W (--inputs DIR | --data DATA.json [--images N] [--workers N]) --out DETS.json
        [--threshold T] [--spec FILE]
      Detections with tfjs weights (.dsodw or .dsodckpt), written as `dsod infer`'s detections document: on images
      Node prepared (--inputs: engine/torch/inputs.ts; `dsod infer --engine torch`), or on the held-out split of a
      data index, decoded here as a training's evaluations decode it (--data; `dsod eval --engine torch`), the images
      that could not be used listed in the document's `skipped` ({stage, path, message}).
  doctor
      The torch engine's doctor event (device, CUDA, precision, threads, what is missing with its fix), one JSON line.
  samples GRAPH.json --data DATA.json --out S.dsodw [--split train|test] [--first L] [--steps S] [--batch B]
        [--augment ssd|flip|none] [--workers N]
      The batches training (split train: loader steps L..L+S-1, augmented with the spec's preset or --augment) or
      evaluation (split test: every image once, resized) reads (dsod_torch/data.py), in the tfjs engine's layout:
      `images/S` [n, H, W, 3], `loc_t/S`, `labels_t/S`, and per sample `boxes/S/K`, `labels/S/K`, `difficult/S/K`;
      stdout: per batch its size, image ids, stream positions and the problems found.
  saved-bytes GRAPH.json [--batch N]
      The bytes autograd saves for the backward pass of one training step (synthetic batch, MultiBox loss), each
      storage once, weights left out (dsod_torch/saved.py): JSON {bytes, tensors, storages, byNode}. What core's
      training-memory model is checked against.
  launch --nproc N [--nnodes M --node-rank R --master-addr HOST --master-port PORT] train ...
      N processes of this machine training data-parallel (DDP, gloo on the CPU), with torchrun's environment
      (dsod_torch/launch.py); several machines with --nnodes etc.; global rank 0 writes the events and checkpoints.

Errors go to stderr as one line, exit status 2 (input) or 1.
"""
import argparse
import json
import sys

import torch

from .data import DataError
from .graph import GraphError, GraphNet, ShapeMismatch, load_graph
from .loss import multibox_loss
from .weights import WeightsError, decode_weights, encode_weights, load_into, read_weights_file, state_of


def cmd_check(a):
    g = load_graph(a.graph)
    net = GraphNet(g, seed=0).eval()
    learned, stored = net.count_params()
    c, h, w = (g["spec"]["input"][k] for k in ("channels", "height", "width"))
    with torch.no_grad():
        values, shapes = net.forward_nodes(torch.zeros(a.batch, c, h, w), check=True, keep=net.outputs)
        loc, conf = net.heads(values, a.batch)
    print(json.dumps({
        "torch": torch.__version__,
        "paramsLearned": learned,
        "paramsStored": stored,
        "shapes": shapes,
        "loc": list(loc.shape),
        "conf": list(conf.shape),
    }))
    return 0


def read_tensors(path):
    """A tensor file of the engine's weights format (name -> tensor)."""
    with open(path, "rb") as f:
        return decode_weights(f.read(), path)


def net_with_weights(a):
    """The graph's network with the tfjs engine's weights loaded, and the input batch to run it on."""
    g = load_graph(a.graph)
    net = GraphNet(g)
    weights, _ = read_weights_file(a.weights)
    load_into(net, weights)
    return g, net, read_tensors(a.input)["input"]


def cmd_forward(a):
    _, net, x = net_with_weights(a)
    net.train(a.train)
    with torch.no_grad():
        if a.train:
            for m in net.modules():
                if hasattr(m, "update_stats"):
                    m.update_stats = False
        loc, conf = net(x, check=True)
        out = {"loc": loc, "conf": conf}
        if a.targets:
            t = read_tensors(a.targets)
            out["loss"] = torch.stack(multibox_loss(loc, conf, t["loc_t"], t["labels"].round().long()))
    with open(a.out, "wb") as f:
        f.write(encode_weights(out))
    return 0


def cmd_step(a):
    from .train import CaffeSgd

    g, net, x = net_with_weights(a)
    t = read_tensors(a.targets)
    net.train()
    train = g["spec"]["train"]
    sgd = CaffeSgd(net.parameters(), train["momentum"], train["weightDecay"])
    loc, conf = net(x)
    parts = multibox_loss(loc, conf, t["loc_t"], t["labels"].round().long())
    parts[0].backward()
    sgd.step(a.lr)
    out = state_of(net)
    out["loss"] = torch.stack([p.detach() for p in parts])
    with open(a.out, "wb") as f:
        f.write(encode_weights(out))
    return 0


def cmd_targets(a):
    from .boxes import encode_targets, prior_boxes

    g = load_graph(a.graph)
    with open(a.gt, "rb") as f:
        gt = decode_weights(f.read(), a.gt)
    priors = prior_boxes(g)
    loc, labels = encode_targets(priors, gt["boxes"].reshape(-1, 4), gt["labels"].reshape(-1).round(), g["spec"]["priors"]["variances"])
    with open(a.out, "wb") as f:
        f.write(encode_weights({"priors": priors, "loc_t": loc, "labels": labels.float()}))
    return 0


def cmd_detect(a):
    from .boxes import prior_boxes
    from .detect import detect

    g = load_graph(a.graph)
    with open(a.outputs, "rb") as f:
        y = decode_weights(f.read(), a.outputs)
    dets = detect(y["loc"], y["conf"], prior_boxes(g), g["spec"]["priors"]["variances"])
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump([[{"box": b, "label": c, "score": s} for b, c, s in image] for image in dets], f)
    return 0


def cmd_samples(a):
    from .boxes import prior_boxes
    from .data import PositionBatches, Samples, evaluation_loader, find_decoder, load_index, loader

    g = load_graph(a.graph)
    s = g["spec"]
    split = load_index(a.data)[a.split]
    if split is None:
        raise DataError(f"{a.data} has no {a.split} split")
    decoder, priors = find_decoder(), prior_boxes(g)
    if a.split == "train":
        samples = Samples(split["records"], s["input"]["width"], s["input"]["height"], seed=s["train"]["seed"],
                          augment=a.augment or s["train"]["augment"], training=True, priors=priors,
                          variances=s["priors"]["variances"], decoder=decoder)
        batches = loader(samples, PositionBatches(a.first, a.batch, 0, a.batch, a.steps), a.workers)
    else:
        batches = evaluation_loader(split, g, a.batch, decoder, priors, a.workers)
    out, steps = {}, []
    for k, b in enumerate(batches):
        steps.append({"size": b["size"], "ids": b["ids"], "positions": b["positions"], "problems": [p["text"] for p in b["problems"]]})
        if b["size"]:
            out[f"images/{k}"] = b["images"].permute(0, 2, 3, 1)
            out[f"loc_t/{k}"] = b["loc_t"]
            out[f"labels_t/{k}"] = b["labels_t"].float()
        for j in range(b["size"]):
            out[f"boxes/{k}/{j}"] = b["boxes"][j]
            out[f"labels/{k}/{j}"] = b["labels"][j].float()
            out[f"difficult/{k}/{j}"] = b["difficult"][j].float()
    with open(a.out, "wb") as f:
        f.write(encode_weights(out))
    print(json.dumps({"steps": steps}))
    return 0


def cmd_train(a):
    from .speed import SpeedOptionError
    from .train import Limits, ResumeError, TrainOptionError, train

    limits = Limits(max_steps=a.max_steps, minutes=a.minutes, eval_every=a.eval_every, eval_dir=a.eval_dir,
                    eval_images=a.eval_images, events_file=not a.no_events_file, init=a.init)
    g = load_graph(a.graph)
    # --sync-bn / --no-sync-bn, else the spec's train.sync_bn (graph JSON of older specs: off).
    spec_sync = bool(g["spec"]["train"].get("syncBn", False))
    sync_bn = a.sync_bn if a.sync_bn is not None else spec_sync
    speed = {"precision": a.precision, "channels_last": a.channels_last, "compile_": a.compile, "sync_bn": sync_bn,
             "sync_bn_from": ("--sync-bn" if a.sync_bn else "--no-sync-bn") if a.sync_bn is not None else "the spec's train.sync_bn"}
    try:
        return train(g, a.out, a.spec or a.graph, steps=a.steps, batch=a.batch, accumulate=a.accumulate,
                     resume=a.resume, data=a.data, workers=a.workers, limits=limits, speed=speed)
    except ResumeError as e:
        print(f"dsod_torch: cannot resume: {e}", file=sys.stderr)
        return 2
    except (TrainOptionError, SpeedOptionError) as e:
        print(f"dsod_torch: {e}", file=sys.stderr)
        return 2


def cmd_saved_bytes(a):
    from .saved import saved_bytes

    print(json.dumps(saved_bytes(load_graph(a.graph), a.batch)))
    return 0


def add_speed_options(p):
    """The speed flags (dsod_torch/speed.py): absent = auto."""
    p.add_argument("--precision", choices=["auto", "fp32", "bf16", "fp16"], default="auto",
                   help="autocast precision (fp32 master weights); auto: bf16/fp16 on CUDA, fp32 on the CPU")
    p.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=None,
                   help="NHWC memory format; auto: on CUDA, and on the CPU with bf16")
    p.add_argument("--compile", action="store_true", help="torch.compile the network (PyTorch 2.0 and later)")
    p.add_argument("--sync-bn", action=argparse.BooleanOptionalAction, default=None,
                   help="batch statistics over all processes (DDP); default: the spec's train.sync_bn")


def cmd_infer(a):
    from .infer import EvalInputs, detections_document, write_json_atomic

    g = load_graph(a.graph)
    net = GraphNet(g)
    weights, _ = read_weights_file(a.weights)
    load_into(net, weights)
    if (a.inputs is None) == (a.data is None):
        raise DataError("infer takes --inputs DIR (images Node prepared) or --data DATA.json (its held-out split), one of them")
    if a.inputs is not None:
        inputs = EvalInputs(a.inputs)
        doc = detections_document(net, g, inputs.batches(), inputs.class_names, threshold=a.threshold, spec=a.spec, weights=a.weights)
    else:
        # The held-out split decoded here, as a training's evaluations decode it; `skipped`: the images left out.
        from .data import HeldOut, find_decoder, load_index

        index = load_index(a.data)
        if index["test"] is None:
            raise DataError(f"{a.data} has no test split")
        held_out, skipped = HeldOut(index, g, find_decoder()), []
        batches = held_out.batches(a.images, workers=a.workers, skipped=skipped)
        doc = detections_document(net, g, batches, held_out.class_names, threshold=a.threshold, spec=a.spec, weights=a.weights)
        doc["skipped"] = skipped
    write_json_atomic(a.out, doc)
    return 0


def cmd_doctor(_a):
    from .doctor import doctor_fields
    from .events import EventSink

    device = "cuda:0" if torch.cuda.is_available() else "cpu"
    EventSink().emit("doctor", **doctor_fields(device, image_decoder="node"))
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["launch"]:
        # Everything after the launcher's options is the rank's own command line: not for this parser.
        from .launch import USAGE, LaunchError, launch, parse_launch

        try:
            o, rest = parse_launch(argv[1:])
        except LaunchError as e:
            print(f"dsod_torch: {e}; usage: {USAGE}", file=sys.stderr)
            return 2
        return launch(o["nproc"], rest, o["nnodes"], o["node_rank"], o["master_addr"], o["master_port"])
    ap = argparse.ArgumentParser(
        prog="python -m dsod_torch",
        description="The PyTorch engine of DSOD Studio (engine/torch/README.md).",
        epilog=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="build the network, check shapes and parameter counts")
    p.add_argument("graph")
    p.add_argument("--batch", type=int, default=1)
    p.set_defaults(run=cmd_check)
    p = sub.add_parser("forward", help="run tfjs weights through the torch network")
    p.add_argument("graph")
    p.add_argument("--weights", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--train", action="store_true")
    p.add_argument("--targets")
    p.set_defaults(run=cmd_forward)
    p = sub.add_parser("step", help="one training step from tfjs weights; writes the weights after it")
    p.add_argument("graph")
    p.add_argument("--weights", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--targets", required=True)
    p.add_argument("--lr", type=float, required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(run=cmd_step)
    p = sub.add_parser("targets", help="default boxes and one image's matched, encoded targets")
    p.add_argument("graph")
    p.add_argument("--gt", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(run=cmd_targets)
    p = sub.add_parser("detect", help="detections (decode, softmax, per-class NMS) from network outputs")
    p.add_argument("graph")
    p.add_argument("--outputs", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(run=cmd_detect)
    p = sub.add_parser("train", help="train on a dataset index (--data) or synthetic data, emitting the engine's events")
    p.add_argument("graph")
    p.add_argument("--out", required=True)
    p.add_argument("--spec")
    p.add_argument("--steps", type=int)
    p.add_argument("--batch", type=int)
    p.add_argument("--accumulate", type=int)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--data", help="the dataset index (engine/torch/data-index.ts); without it, synthetic data")
    p.add_argument("--workers", type=int, help="DataLoader worker processes (0: in this process; default: speed.py's choice, in the doctor's report)")
    add_speed_options(p)
    p.add_argument("--max-steps", type=int)
    p.add_argument("--minutes", type=float)
    p.add_argument("--eval-every", type=int)
    p.add_argument("--eval-dir", help="evaluate the held-out split of --data; detections files go here")
    p.add_argument("--eval-images", type=int)
    p.add_argument("--no-events-file", action="store_true")
    p.add_argument("--init", help="a tfjs weights file (.dsodw) a new run starts from (the bridge: the tfjs engine's seeded initial weights)")
    p.set_defaults(run=cmd_train)
    p = sub.add_parser("infer", help="detections on prepared images, as dsod infer's document")
    p.add_argument("graph")
    p.add_argument("--weights", required=True)
    p.add_argument("--inputs", help="images Node prepared (engine/torch/inputs.ts)")
    p.add_argument("--data", help="a data index (engine/torch/data-index.ts): its held-out split, decoded here")
    p.add_argument("--images", type=int, help="with --data: the first N held-out images")
    p.add_argument("--workers", type=int, default=0, help="with --data: DataLoader worker processes decoding")
    p.add_argument("--out", required=True)
    p.add_argument("--threshold", type=float, default=0.0)
    p.add_argument("--spec")
    p.set_defaults(run=cmd_infer)
    p = sub.add_parser("doctor", help="the torch engine's doctor event")
    p.set_defaults(run=cmd_doctor)
    p = sub.add_parser("samples", help="the batches training or evaluation reads from a dataset index (for comparing engines)")
    p.add_argument("graph")
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--split", choices=("train", "test"), default="train")
    p.add_argument("--first", type=int, default=0)
    p.add_argument("--steps", type=int, default=1)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--augment", choices=("ssd", "flip", "none"))
    p.add_argument("--workers", type=int, default=0)
    p.set_defaults(run=cmd_samples)
    p = sub.add_parser("saved-bytes", help="bytes autograd saves for one training step's backward pass")
    p.add_argument("graph")
    p.add_argument("--batch", type=int, default=1)
    p.set_defaults(run=cmd_saved_bytes)
    a = ap.parse_args(argv)
    try:
        return a.run(a)
    except (GraphError, WeightsError, DataError, OSError) as e:
        print(f"dsod_torch: {e}", file=sys.stderr)
        return 2
    except ShapeMismatch as e:
        print(f"dsod_torch: shape mismatch: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

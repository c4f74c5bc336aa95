#!/usr/bin/env python3
"""DSOD300 training speed on a GPU (issue 12, Benchmarks; run by bench/gpu/run.sh): images/s of the torch engine's
training step (its speed plan on CUDA: bf16 autocast, or fp16 with loss scaling where the GPU has no bf16;
channels-last; cudnn.benchmark) against the plain eager float32 PyTorch baseline, each at batch 128 or the largest
that fits (halved on out-of-memory), the median of timed steps after warm-up, and peak GPU memory
(torch.cuda.max_memory_allocated). Writes a markdown table.

Each configuration runs in its own process (bench/torch_train.py), so one's out-of-memory or cached allocations do
not touch the next's, with a time limit so the whole stays under 8 minutes.

`--device cpu --graph TINY.json --batch 2 --steps 1 --warmup 1` checks the script on a machine without a GPU (the
test suite does: test/engine/torch-speed.test.ts).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
TRAIN = os.path.join(ROOT, "bench", "torch_train.py")

CONFIGS = [
    ("torch engine (its automatic speed plan)", ["--engine"]),
    ("eager fp32 baseline", []),
]


def run_config(a, extra):
    cmd = [sys.executable, TRAIN, a.graph, "--device", a.device, "--batch", str(a.batch), "--steps", str(a.steps),
           "--warmup", str(a.warmup), "--threads", str(a.threads), "--backoff", *extra]
    t0 = time.monotonic()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=a.limit)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {a.limit} s"}, time.monotonic() - t0
    if r.returncode != 0:
        tail = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": f"exit {r.returncode}: {tail[0][:200]}"}, time.monotonic() - t0
    return json.loads(r.stdout.strip().splitlines()[-1]), time.monotonic() - t0


def webgpu_column():
    """tfjs's WebGPU engine: only where the optional `webgpu` package is installed beside the project."""
    if shutil.which("node") is None:
        return "not available (no node)"
    probe = subprocess.run(["node", "-e", "require.resolve('webgpu')"], cwd=ROOT, capture_output=True)
    if probe.returncode != 0:
        return "not available (the webgpu package is not installed)"
    return "not measured (webgpu is installed; this script does not train tfjs yet)"


def table(a, results, device_name, torch_version, network):
    base = next((r for name, r, _ in results if name.startswith("eager") and "error" not in r), None)
    lines = [
        f"{network} training on {device_name} (torch {torch_version}); batch asked {a.batch}, "
        f"{a.warmup} warm-up + {a.steps} timed steps, median step.",
        "",
        "| configuration | batch | median img/s | mean img/s | vs eager fp32 | peak GPU memory | seconds |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r, secs in results:
        if "error" in r:
            lines.append(f"| {name} | - | {r['error']} | - | - | - | {secs:.0f} |")
            continue
        batch = f"{r['batch']}" + (f" (OOM at {', '.join(map(str, r['oomAt']))})" if r["oomAt"] else "")
        vs = f"{r['medianImgPerSec'] / base['medianImgPerSec']:.2f}x" if base else "-"
        peak = f"{r['peakMiB'] / 1024:.1f} GiB" if r["peakMiB"] is not None else "- (CPU)"
        lines.append(f"| {name} | {batch} | {r['medianImgPerSec']:.1f} | {r['imgPerSec']:.1f} | {vs} | {peak} | {secs:.0f} |")
    lines.append(f"| tfjs WebGPU | - | {webgpu_column()} | - | - | - | - |")
    engine = next((r for name, r, _ in results if name.startswith("torch engine") and "error" not in r), None)
    if engine and engine.get("speed"):
        s = engine["speed"]
        lines += ["", "Engine choices: " + "; ".join(f"{k} = {json.dumps(s[k]['value'])} ({s[k]['why']})"
                                                    for k in ("precision", "lossScaling", "channelsLast", "cudnnBenchmark", "compile"))]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--graph", default=os.path.join(HERE, "dsod300.graph.json"))
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--limit", type=int, default=200, help="seconds per configuration")
    ap.add_argument("--out", help="the markdown file (default: $OUT/gpu-bench.md, else bench/gpu/results.md)")
    a = ap.parse_args()
    out = a.out or os.path.join(os.environ.get("OUT") or HERE, "gpu-bench.md" if os.environ.get("OUT") else "results.md")
    import torch  # noqa: PLC0415 - only to name the device; the runs are separate processes

    if a.device.startswith("cuda") and not torch.cuda.is_available():
        print("gpu_bench: no CUDA device here (use --device cpu for a correctness run)", file=sys.stderr)
        return 2
    device_name = torch.cuda.get_device_name(torch.device(a.device)) if a.device.startswith("cuda") else "the CPU"
    results = []
    for name, extra in CONFIGS:
        r, secs = run_config(a, extra)
        results.append((name, r, secs))
        print(f"{name}: {json.dumps({k: r.get(k) for k in ('batch', 'medianImgPerSec', 'peakMiB', 'error') if k in r})} in {secs:.0f} s",
              file=sys.stderr)
    with open(a.graph, encoding="utf-8") as f:
        network = json.load(f)["spec"]["name"]
    text = table(a, results, device_name, torch.__version__, network)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = f"{out}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, out)
    print(text)
    return 0 if all("error" not in r for _, r, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())

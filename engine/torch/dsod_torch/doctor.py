"""The torch engine's doctor event (protocol/engine-events.ts DoctorEvent, engine "torch"): what it chose (device,
precision, processes, threads, who decodes images), with what (Python, torch, CUDA), and what is missing, each with
the command that fixes it. `python -m dsod_torch doctor` prints it alone (the bridge's eval and infer); a training
emits it first.
"""
import platform
import sys

import torch

CUDA_FIX = ("pip install torch --index-url https://download.pytorch.org/whl/cu121 (a CUDA build of PyTorch; "
            "it needs an NVIDIA driver: nvidia-smi must list the GPU)")
DRIVER_FIX = "install the NVIDIA driver (e.g. apt-get install nvidia-driver), then check that nvidia-smi lists the GPU"


def missing_pieces():
    """What keeps this torch off a GPU, with the fix: a CPU-only build, or a CUDA build that sees no device."""
    if torch.cuda.is_available():
        return []
    if torch.version.cuda is None:
        return [{"problem": f"no CUDA: torch {torch.__version__} is a CPU-only build, so training runs on the CPU",
                 "fix": CUDA_FIX}]
    return [{"problem": f"no GPU visible to torch {torch.__version__} (built with CUDA {torch.version.cuda}): training runs on the CPU",
             "fix": DRIVER_FIX}]


def choice_text(value):
    """A speed choice's value for people: on/off, "k=v, ..." for the loader's settings, else as it prints."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, dict):
        return ", ".join(f"{k}={choice_text(v)}" for k, v in value.items() if v is not None)
    return str(value)


def doctor_fields(device, world_size=1, distributed=None, precision="fp32", image_decoder="synthetic", requested="torch", speed=None):
    """The doctor event's fields (less v, time and type); speed: a training's speed.SpeedPlan.report()."""
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    where = f"{device}" + (f", {world_size} processes ({distributed})" if world_size > 1 else "")
    return {
        "chosen": f"torch-{torch.device(device).type}",
        "tfBackend": "none",
        "requested": requested,
        "reason": f"PyTorch {torch.__version__} on {where}" + ("" if gpus else " (no GPU)"),
        "attempts": [],
        "engine": "torch",
        "torch": {
            "python": sys.executable,
            "pythonVersion": platform.python_version(),
            "version": torch.__version__,
            "device": str(device),
            "cuda": torch.version.cuda,
            "gpus": gpus,
            "precision": precision,
            "worldSize": world_size,
            "distributed": distributed,
            "threads": torch.get_num_threads(),
            "imageDecoder": image_decoder,
            **({"choices": {k: {"value": choice_text(c["value"]), "why": c["why"]} for k, c in speed.items()}} if speed else {}),
        },
        "missing": missing_pieces(),
    }

"""Weights in the tfjs engine's encodings, so a network moves between the engines by parameter name:

- weights file (engine/model/weights.ts): "DSODW001", uint32 LE header length, UTF-8 JSON {names, shapes}, zero
  padding to a multiple of 4, every tensor's float32 LE values in header order;
- checkpoint (engine/train/checkpoint.ts): "DSODCK01", uint32 LE header length, JSON meta with weightsBytes and
  optimizerBytes, padding to 4, then a weights encoding of the model and one of the optimizer's momentum buffers.

Layouts: tfjs keeps convolution weights HWIO ([kh, kw, in, out]); torch keeps OIHW. Everything else is a vector
(factor has shape [1]) in both.
"""
import json
import struct

import torch

WEIGHTS_MAGIC = b"DSODW001"
CHECKPOINT_MAGIC = b"DSODCK01"


class WeightsError(Exception):
    pass


def _align4(n):
    return (n + 3) & ~3


def decode_weights(data, where="weights"):
    """{name: float32 tensor in the file's layout}, in file order."""
    if data[:8] != WEIGHTS_MAGIC:
        raise WeightsError(f"{where}: not a DSOD weights encoding (bad magic)")
    (length,) = struct.unpack_from("<I", data, 8)
    header = json.loads(data[12 : 12 + length].decode("utf-8"))
    at = _align4(12 + length)
    out = {}
    for name, shape in zip(header["names"], header["shapes"]):
        count = 1
        for d in shape:
            count *= d
        end = at + 4 * count
        if end > len(data):
            raise WeightsError(f"{where}: truncated at {name}")
        t = torch.frombuffer(bytearray(data[at:end]), dtype=torch.float32) if count else torch.zeros(0)
        out[name] = t.reshape(shape)
        at = end
    if at != len(data):
        raise WeightsError(f"{where}: {len(data) - at} trailing bytes")
    return out


def encode_weights(tensors, meta=None):
    """The weights encoding of {name: tensor} (in the tfjs layout already). meta: a checkpoint's meta, carried in the
    header (engine/train/checkpoint.ts weightsFileMeta: how Node learns a torch run's step and data)."""
    names = list(tensors)
    fields = {"names": names, "shapes": [list(tensors[n].shape) for n in names]}
    if meta is not None:
        fields["meta"] = meta
    header = json.dumps(fields, separators=(",", ":")).encode()
    start = _align4(12 + len(header))
    parts = [WEIGHTS_MAGIC, struct.pack("<I", len(header)), header, b"\0" * (start - 12 - len(header))]
    for n in names:
        parts.append(tensors[n].detach().to(torch.float32).contiguous().cpu().numpy().astype("<f4").tobytes())
    return b"".join(parts)


def read_weights_file(path):
    """The model weights of a weights file (.dsodw) or a tfjs checkpoint (.dsodckpt), and the checkpoint's meta."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] == CHECKPOINT_MAGIC:
        (length,) = struct.unpack_from("<I", data, 8)
        meta = json.loads(data[12 : 12 + length].decode("utf-8"))
        start = _align4(12 + length)
        return decode_weights(data[start : start + meta["weightsBytes"]], path), meta
    if data[:8] == WEIGHTS_MAGIC:
        return decode_weights(data, path), None
    raise WeightsError(f"{path} is neither a DSOD checkpoint (.dsodckpt) nor a weights file (.dsodw)")


def to_torch_layout(t):
    return t.permute(3, 2, 0, 1) if t.dim() == 4 else t  # HWIO -> OIHW


def to_tfjs_layout(t):
    return t.permute(2, 3, 1, 0) if t.dim() == 4 else t  # OIHW -> HWIO


def load_into(net, weights):
    """Copy tfjs-named weights into a GraphNet; every name and shape must match (nothing is half-loaded)."""
    problems = []
    targets = list(net.named_dsod_tensors())
    known = {name for name, _, _, _ in targets}
    for name, t, _, _ in targets:
        w = weights.get(name)
        if w is None:
            problems.append(f"missing {name}")
        elif tuple(to_torch_layout(w).shape) != tuple(t.shape):
            problems.append(f"{name}: shape {list(w.shape)} does not fit {list(to_tfjs_layout(t).shape)}")
    problems += [f"unknown {n}" for n in weights if n not in known]
    if problems:
        more = "; ..." if len(problems) > 8 else ""
        raise WeightsError(f"weights do not fit this network ({len(problems)} problems): {'; '.join(problems[:8])}{more}")
    with torch.no_grad():
        for name, t, _, scale in targets:
            t.copy_(to_torch_layout(weights[name]) * scale if scale != 1 else to_torch_layout(weights[name]))


def state_of(net):
    """{name: tensor in the tfjs layout} of every parameter and running statistic."""
    out = {}
    for name, t, _, scale in net.named_dsod_tensors():
        v = to_tfjs_layout(t.detach()).cpu()
        out[name] = v / scale if scale != 1 else v.clone()
    return out

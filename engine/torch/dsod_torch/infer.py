"""Detections written as `dsod infer`'s detections document (engine/cli/infer.ts, read back by
engine/eval/detections-file.ts), so the one TypeScript evaluator scores both engines. The images come in batches:
during training, the held-out split of the run's data index, decoded here (data.py HeldOut); for the one-shot
`dsod eval|infer --engine torch`, prepared by Node (EvalInputs below).

Node's prepared images are decoded and resized as the tfjs engine's evaluation does them (engine/torch/inputs.ts): a
folder with `inputs.dsodw` (the weights encoding, one tensor `input` [N, H, W, 3], NHWC, the network's input values)
and `images.json` ({version: 1, images: [{image, width, height}], classNames}). Boxes go back to each image's pixels
with the tfjs engine's rounding (JavaScript's Math.round: half up).
"""
import json
import math
import os

import torch

from .boxes import prior_boxes
from .detect import detect
from .weights import decode_weights

INPUTS_FILE = "inputs.dsodw"
IMAGES_FILE = "images.json"


class EvalInputs:
    """The prepared images of a folder (read once; a periodic evaluation takes the first `count`)."""

    def __init__(self, folder):
        with open(os.path.join(folder, IMAGES_FILE), encoding="utf-8") as f:
            doc = json.load(f)
        if doc.get("version") != 1:
            raise ValueError(f"{folder}/{IMAGES_FILE}: version {doc.get('version')!r} is not 1")
        self.images = doc["images"]
        self.class_names = doc["classNames"]
        path = os.path.join(folder, INPUTS_FILE)
        with open(path, "rb") as f:
            x = decode_weights(f.read(), path)["input"]
        if x.shape[0] != len(self.images):
            raise ValueError(f"{path}: {x.shape[0]} images, {IMAGES_FILE} lists {len(self.images)}")
        self.input = x.permute(0, 3, 1, 2).contiguous()  # NHWC -> NCHW

    def __len__(self):
        return len(self.images)

    def batches(self, count=None, batch=8):
        """(images [n, 3, H, W], [{image, width, height}]) of the first `count` images (all by default)."""
        n = len(self) if count is None else min(count, len(self))
        for start in range(0, n, batch):
            end = min(n, start + batch)
            yield self.input[start:end], self.images[start:end]


def js_round(x, digits):
    f = 10 ** digits
    return math.floor(x * f + 0.5) / f


@torch.no_grad()
def detections_document(net, g, batches, class_names, threshold=0.0, spec=None, weights=None, device="cpu"):
    """dsod infer's document of `batches` ((images, their {image, width, height}) pairs), the network in eval mode."""
    was_training = net.training
    net.eval()
    try:
        priors = prior_boxes(g)
        variances = g["spec"]["priors"]["variances"]
        images = []
        for x, infos in batches:
            loc, conf = net(x.to(device))
            for im, found in zip(infos, detect(loc.float().cpu(), conf.float().cpu(), priors, variances)):
                w, h = im["width"], im["height"]
                images.append({
                    "image": im["image"],
                    "width": w,
                    "height": h,
                    "detections": [{
                        "label": c,
                        "name": class_names[c] if c < len(class_names) else f"class{c}",
                        "score": js_round(s, 4),
                        "box": [js_round(b[0] * w, 1), js_round(b[1] * h, 1), js_round(b[2] * w, 1), js_round(b[3] * h, 1)],
                        "boxNormalized": [js_round(v, 5) for v in b],
                    } for b, c, s in found if s >= threshold],
                })
        return {"spec": spec, "weights": weights, "threshold": threshold, "images": images}
    finally:
        net.train(was_training)


def write_json_atomic(path, doc):
    """A temporary file beside the target, renamed into place: a reader sees the whole document or none."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}-{os.urandom(4).hex()}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(doc, f, separators=(",", ":"))
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise

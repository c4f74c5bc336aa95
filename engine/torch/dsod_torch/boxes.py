"""Default boxes, matching and box coding, as the tfjs engine does them (core/priors.ts, engine/boxes/), so both
engines train on the same targets:

- prior_boxes: Caffe's PriorBox over every scale of the graph (scale, row, column, box order), corners normalised
  to the image; the feature-map sizes come from the graph's nodes, the sizes, ratios and steps from spec.priors;
- match_priors: Caffe SSD's MatchBBox (PER_PREDICTION, threshold 0.5): a bipartite pass that gives every ground
  truth its best free prior (highest IoU first; ties to the lower prior, then the lower ground truth), then every
  prior still free takes the ground truth it overlaps most when that IoU reaches the threshold. IoUs are rounded to
  float32, as the tfjs engine stores them;
- encode: CENTER_SIZE coding with the variances in the targets.
Arithmetic is float64 rounded to float32 where the tfjs engine rounds (it computes in JavaScript doubles).
"""
import math

import torch

MIN_OVERLAP = 1e-6


def expand_aspect_ratios(ratios, flip):
    out = [1.0]
    for r in ratios:
        if not r > 0 or any(abs(a - r) < 1e-6 for a in out):
            continue
        out.append(float(r))
        if flip:
            out.append(1 / r)
    return out


def prior_boxes(g):
    """[P, 4] float32 corners, in the order the heads' outputs come (docs/graph-json.md)."""
    pr = g["spec"]["priors"]
    inp = g["spec"]["input"]
    iw, ih = inp["width"], inp["height"]
    boxes = []

    def put(cx, cy, w, h):
        b = [(cx - w / 2) / iw, (cy - h / 2) / ih, (cx + w / 2) / iw, (cy + h / 2) / ih]
        boxes.append([min(max(v, 0.0), 1.0) for v in b] if pr["clip"] else b)

    for i, s in enumerate(g["scales"]):
        _, fh, fw = g["nodes"][s["feature"]]["shape"]
        step = pr["steps"][i] if i < len(pr["steps"]) else None
        step_w = step if step is not None else iw / fw
        step_h = step if step is not None else ih / fh
        mn = pr["minSizes"][i]
        mx = pr["maxSizes"][i] if i < len(pr["maxSizes"]) else None
        ratios = expand_aspect_ratios(pr["aspectRatios"][i] if i < len(pr["aspectRatios"]) else [], pr["flip"])
        for y in range(fh):
            for x in range(fw):
                cx = (x + pr["offset"]) * step_w
                cy = (y + pr["offset"]) * step_h
                put(cx, cy, mn, mn)
                if mx is not None:
                    side = math.sqrt(mn * mx)
                    put(cx, cy, side, side)
                for r in ratios:
                    if abs(r - 1) < 1e-6:
                        continue
                    put(cx, cy, mn * math.sqrt(r), mn / math.sqrt(r))
    return torch.tensor(boxes, dtype=torch.float64).to(torch.float32).reshape(-1, 4)


def iou_matrix(a, b):
    """[P, G] IoUs (float64 arithmetic on the given values, rounded to float32); 0 where boxes do not overlap."""
    a, b = a.double(), b.double()
    iw = torch.minimum(a[:, None, 2], b[None, :, 2]) - torch.maximum(a[:, None, 0], b[None, :, 0])
    ih = torch.minimum(a[:, None, 3], b[None, :, 3]) - torch.maximum(a[:, None, 1], b[None, :, 1])
    inter = iw * ih
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    iou = inter / (area_a[:, None] + area_b[None, :] - inter)
    return torch.where((iw > 0) & (ih > 0), iou, torch.zeros_like(iou)).to(torch.float32)


def match_priors(priors, gt, threshold=0.5):
    """Per prior: the matched ground-truth index or -1."""
    P, G = priors.shape[0], gt.shape[0]
    match = torch.full((P,), -1, dtype=torch.long)
    if G == 0:
        return match
    iou = iou_matrix(priors, gt)
    # 1. Bipartite: the pair of highest IoU among free priors and free ground truths, G times at most; the flattened
    # argmax takes the first maximum in row-major order: the lower prior, then the lower ground truth.
    work = torch.where(iou > MIN_OVERLAP, iou, torch.full_like(iou, -1.0))
    for _ in range(G):
        k = int(torch.argmax(work))
        if work.view(-1)[k] <= MIN_OVERLAP:
            break
        i, j = divmod(k, G)
        match[i] = j
        work[i, :] = -1
        work[:, j] = -1
    # 2. Per prediction: a free prior takes its first best ground truth at or above the threshold.
    best, best_j = iou.max(1)  # the first maximum: the lower ground-truth index
    take = (match < 0) & (best > MIN_OVERLAP) & (best >= threshold)
    match[take] = best_j[take]
    return match


def encode(priors, boxes, variances):
    """CENTER_SIZE offsets of corner `boxes` against `priors` (same length), [N, 4] float32."""
    p, g = priors.double(), boxes.double()
    pw, ph = p[:, 2] - p[:, 0], p[:, 3] - p[:, 1]
    px, py = (p[:, 0] + p[:, 2]) / 2, (p[:, 1] + p[:, 3]) / 2
    gw, gh = g[:, 2] - g[:, 0], g[:, 3] - g[:, 1]
    gx, gy = (g[:, 0] + g[:, 2]) / 2, (g[:, 1] + g[:, 3]) / 2
    v = variances
    return torch.stack(
        [(gx - px) / pw / v[0], (gy - py) / ph / v[1], torch.log(gw / pw) / v[2], torch.log(gh / ph) / v[3]], 1
    ).to(torch.float32)


def encode_targets(priors, boxes, labels, variances, threshold=0.5):
    """(loc [P, 4], labels [P]) for one image: `boxes` [G, 4] normalised corners, `labels` [G] 1-based classes."""
    P = priors.shape[0]
    m = match_priors(priors, boxes, threshold)
    loc = torch.zeros(P, 4)
    out = torch.zeros(P, dtype=torch.long)
    pos = m >= 0
    if pos.any():
        out[pos] = labels.long()[m[pos]]
        loc[pos] = encode(priors[pos], boxes[m[pos]], variances)
    return loc, out

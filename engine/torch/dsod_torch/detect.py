"""From network outputs to detections, as the tfjs engine's engine/boxes/detect-arrays.ts (Caffe SSD's
DetectionOutput for DSOD300_pascal.py): CENTER_SIZE decoding against the default boxes, softmax, then per class
(background excluded) the scores above the confidence threshold, best first (ties: lower prior first), at most top_k,
greedy NMS that drops a box at IoU >= the threshold with a kept one; finally the best keep_top_k over all classes
(a stable sort: equal scores keep class order). Boxes are clipped to the image after NMS.
Arithmetic: float64 on the float32 outputs, boxes and scores rounded to float32 (the tfjs engine computes in
JavaScript doubles and stores Float32Arrays), IoUs in float64 on those float32 boxes.
"""
import torch

SSD_DETECT = {"nms_threshold": 0.45, "top_k": 400, "keep_top_k": 200, "confidence_threshold": 0.01}


def decode(priors, loc, variances):
    p, l = priors.double(), loc.double()
    pw, ph = p[:, 2] - p[:, 0], p[:, 3] - p[:, 1]
    cx = l[:, 0] * variances[0] * pw + (p[:, 0] + pw / 2)
    cy = l[:, 1] * variances[1] * ph + (p[:, 1] + ph / 2)
    hw = torch.exp(l[:, 2] * variances[2]) * pw * 0.5
    hh = torch.exp(l[:, 3] * variances[3]) * ph * 0.5
    return torch.stack([cx - hw, cy - hh, cx + hw, cy + hh], 1).to(torch.float32)


def iou_square(b):
    """[K, K] IoUs of boxes with each other; empty boxes overlap nothing (tf.image's rule)."""
    b = b.double()
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    iw = torch.minimum(b[:, None, 2], b[None, :, 2]) - torch.maximum(b[:, None, 0], b[None, :, 0])
    ih = torch.minimum(b[:, None, 3], b[None, :, 3]) - torch.maximum(b[:, None, 1], b[None, :, 1])
    inter = iw * ih
    iou = inter / (area[:, None] + area[None, :] - inter)
    ok = (iw > 0) & (ih > 0) & (area[:, None] > 0) & (area[None, :] > 0)
    return torch.where(ok, iou, torch.zeros_like(iou))


def detect(loc, conf, priors, variances, nms_threshold=0.45, top_k=400, keep_top_k=200, confidence_threshold=0.01, clip=True):
    """loc [N, P, 4], conf [N, P, C] logits, priors [P, 4] -> per image a list of (box [4 floats], label, score)."""
    out = []
    for n in range(loc.shape[0]):
        boxes = decode(priors, loc[n], variances)
        scores = torch.softmax(conf[n].double(), -1).to(torch.float32)
        found = []
        for c in range(1, scores.shape[1]):
            s = scores[:, c]
            cand = torch.nonzero(s > confidence_threshold).flatten()
            if cand.numel() == 0:
                continue
            order = torch.sort(s[cand], descending=True, stable=True).indices
            cand = cand[order][:top_k]
            if nms_threshold < 1:
                iou = iou_square(boxes[cand])
                suppressed = torch.zeros(cand.numel(), dtype=torch.bool)
                kept = []
                for i in range(cand.numel()):
                    if suppressed[i]:
                        continue
                    kept.append(i)
                    suppressed |= iou[i] >= nms_threshold
                cand = cand[kept]
            b = boxes[cand].clamp(0, 1) if clip else boxes[cand]
            found += [(b[k].tolist(), c, float(s[cand[k]])) for k in range(cand.numel())]
        found.sort(key=lambda d: -d[2])  # stable: equal scores keep class order
        out.append(found[:keep_top_k] if keep_top_k >= 0 else found)
    return out

"""engine/data/augment.ts in Python: SSD's training augmentation (photometric distortion -> zoom-out expansion with
the mean -> a crop from SSD's samplers -> horizontal flip -> resize), drawn from rng.py in the same order, so one seed
gives the tfjs engine's sample.

Same arithmetic, same result: the TypeScript computes in doubles and stores float32 at fixed points (the boxes, the
horizontal tap weights, the rendered pixels, every distortion step); this port computes the same expressions in
float64 (torch tensors for the pixels, one vectorised op per TypeScript expression, in its order) and rounds to
float32 at the same points. On the same decoded pixels the samples agree to the last bit or within float32 rounding
(test/engine/torch-data.test.ts).

Images are uint8 tensors [H, W, 3] (RGB); samples float32 [H, W, 3] like the tfjs batches (data.py makes them CHW).
"""
import math
from array import array

import torch

# DSOD/SSD's Caffe transform: mean_value [104, 117, 123] in BGR order (RGB here), no scaling.
CAFFE_NORMALIZATION = {"mean": (123.0, 117.0, 104.0), "scale": 1.0}

SSD_DISTORT = {
    "brightnessProb": 0.5, "brightnessDelta": 32.0,
    "contrastProb": 0.5, "contrastLower": 0.5, "contrastUpper": 1.5,
    "saturationProb": 0.5, "saturationLower": 0.5, "saturationUpper": 1.5,
    "hueProb": 0.5, "hueDelta": 18.0,
}
SSD_EXPAND = {"prob": 0.5, "maxRatio": 4.0}


def _crop_with(**c):
    return {"minScale": 0.3, "maxScale": 1.0, "minAspect": 0.5, "maxAspect": 2.0, "maxTrials": 50, "maxSample": 1,
            "minJaccard": None, "maxJaccard": None, **c}


SSD_SAMPLERS = (
    _crop_with(minScale=1.0, maxScale=1.0, minAspect=1.0, maxAspect=1.0, maxTrials=1),
    _crop_with(minJaccard=0.1),
    _crop_with(minJaccard=0.3),
    _crop_with(minJaccard=0.5),
    _crop_with(minJaccard=0.7),
    _crop_with(minJaccard=0.9),
    _crop_with(maxJaccard=1.0),
)


def preset_options(preset):
    """engine/train/augment.ts augmentOptions: the spec's `train.augment` as options of augment_sample."""
    if preset == "ssd":
        return {"distort": SSD_DISTORT, "expand": SSD_EXPAND, "samplers": SSD_SAMPLERS, "flipProb": 0.5}
    if preset == "flip":
        return {"distort": None, "expand": None, "samplers": None, "flipProb": 0.5}
    if preset == "none":
        return {"distort": None, "expand": None, "samplers": None, "flipProb": 0.0}
    raise ValueError(f"unknown augmentation preset {preset!r} (ssd, flip, none)")


def f32(values):
    """Doubles rounded to float32 and back (a Float32Array store and load)."""
    return array("f", values).tolist()


class Annotations:
    """Ground truth of one image: `boxes` float32 values, 4 a box (a flat list), `labels`, `difficult` (lists)."""

    __slots__ = ("boxes", "labels", "difficult")

    def __init__(self, boxes, labels, difficult):
        self.boxes, self.labels, self.difficult = boxes, labels, difficult


def _jaccard(a, b, k):
    iw = min(a[2], b[k + 2]) - max(a[0], b[k])
    ih = min(a[3], b[k + 3]) - max(a[1], b[k + 1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[k + 2] - b[k]) * (b[k + 3] - b[k + 1]) - inter)


def sample_crop(s, rng):
    """Caffe's SampleBBox."""
    scale = rng.uniform(s["minScale"], s["maxScale"])
    min_ar = max(s["minAspect"], scale * scale)
    max_ar = min(s["maxAspect"], 1 / (scale * scale))
    ar = rng.uniform(min_ar, max_ar)
    w = min(1.0, scale * math.sqrt(ar))
    h = min(1.0, scale / math.sqrt(ar))
    x = rng.uniform(0, 1 - w)
    y = rng.uniform(0, 1 - h)
    return [x, y, x + w, y + h]


def satisfies_constraint(crop, boxes, s):
    """Caffe's SatisfySampleConstraint: some box meets every jaccard bound the sampler sets."""
    lo, hi = s.get("minJaccard"), s.get("maxJaccard")
    if lo is None and hi is None:
        return True
    for k in range(0, len(boxes), 4):
        j = _jaccard(crop, boxes, k)
        if lo is not None and j < lo:
            continue
        if hi is not None and j > hi:
            continue
        return True
    return False


def choose_crop(boxes, samplers, rng):
    """Caffe's GenerateBatchSamples, then one of the samples at random (the whole image when none qualifies)."""
    found = []
    for s in samplers:
        n, t = 0, 0
        while t < s["maxTrials"] and n < s["maxSample"]:
            c = sample_crop(s, rng)
            if satisfies_constraint(c, boxes, s):
                found.append(c)
                n += 1
            t += 1
    return found[int(rng.next() * len(found))] if found else [0.0, 0.0, 1.0, 1.0]


def _clamp01(x):
    return 0.0 if x < 0 else 1.0 if x > 1 else x


def crop_annotations(a, crop):
    """Boxes whose centre lies in `crop`, in the crop's frame, clipped to it (SSD's emit constraint CENTER)."""
    x0, y0, x1, y1 = crop
    w, h = x1 - x0, y1 - y0
    boxes, labels, difficult = [], [], []
    for i in range(len(a.labels)):
        b = a.boxes[4 * i: 4 * i + 4]
        cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
        if cx < x0 or cx > x1 or cy < y0 or cy > y1:
            continue
        nb = [_clamp01((b[0] - x0) / w), _clamp01((b[1] - y0) / h), _clamp01((b[2] - x0) / w), _clamp01((b[3] - y0) / h)]
        if nb[2] <= nb[0] or nb[3] <= nb[1]:
            continue
        boxes.extend(nb)
        labels.append(a.labels[i])
        difficult.append(a.difficult[i])
    return Annotations(f32(boxes), labels, difficult)


def plan_distortion(d, rng):
    """Caffe's ApplyDistort decisions: (contrast_first, brightness, contrast, saturation, hue degrees), None = off."""
    contrast_first = rng.next() > 0.5
    brightness = rng.uniform(-d["brightnessDelta"], d["brightnessDelta"]) if rng.chance(d["brightnessProb"]) else None
    contrast = rng.uniform(d["contrastLower"], d["contrastUpper"]) if rng.chance(d["contrastProb"]) else None
    saturation = rng.uniform(d["saturationLower"], d["saturationUpper"]) if rng.chance(d["saturationProb"]) else None
    hue = 2 * rng.uniform(-d["hueDelta"], d["hueDelta"]) if rng.chance(d["hueProb"]) else None
    return contrast_first, brightness, contrast, saturation, hue


def augment_sample(src, ann, rng, o):
    """Randomly augment a decoded image (uint8 [SH, SW, 3]) and its boxes into float32 [H, W, 3] and Annotations.
    `o`: width, height, and preset_options' distort / expand / samplers / flipProb; normalization (default Caffe's)."""
    distort, expand, samplers = o.get("distort"), o.get("expand"), o.get("samplers")
    plan = plan_distortion(distort, rng) if distort else None
    canvas = [0.0, 0.0, 1.0, 1.0]
    if expand and expand["maxRatio"] > 1 and rng.chance(expand["prob"]):
        r = rng.uniform(1, expand["maxRatio"])
        ox = rng.uniform(0, r - 1)
        oy = rng.uniform(0, r - 1)
        canvas = [-ox, -oy, r - ox, r - oy]
    cw, ch = canvas[2] - canvas[0], canvas[3] - canvas[1]
    b = ann.boxes
    in_canvas = []
    for k in range(0, len(b), 4):
        in_canvas += [(b[k] - canvas[0]) / cw, (b[k + 1] - canvas[1]) / ch, (b[k + 2] - canvas[0]) / cw, (b[k + 3] - canvas[1]) / ch]
    in_canvas = f32(in_canvas)
    crop = choose_crop(in_canvas, samplers, rng) if samplers else [0.0, 0.0, 1.0, 1.0]
    out = crop_annotations(Annotations(in_canvas, ann.labels, ann.difficult), crop)
    flip = rng.chance(o.get("flipProb", 0.5))
    if flip:
        bx = out.boxes
        for k in range(0, len(bx), 4):
            bx[k], bx[k + 2] = 1 - bx[k + 2], 1 - bx[k]
        out.boxes = f32(bx)
    region = [canvas[0] + crop[0] * cw, canvas[1] + crop[1] * ch, canvas[0] + crop[2] * cw, canvas[1] + crop[3] * ch]
    norm = o.get("normalization") or CAFFE_NORMALIZATION
    image, inside = render_region(src, region, flip, o["width"], o["height"], norm["mean"])
    if plan:
        image = apply_distortion(image, inside, plan)
    return normalize(image, norm), out


def resize_sample(src, ann, o):
    """Test-time input: the whole image resized (SSD's WARP), boxes unchanged."""
    norm = o.get("normalization") or CAFFE_NORMALIZATION
    image, _ = render_region(src, [0.0, 0.0, 1.0, 1.0], False, o["width"], o["height"], norm["mean"])
    return normalize(image, norm), Annotations(list(ann.boxes), list(ann.labels), list(ann.difficult))


def _taps(lo, extent, n, k, size, flip):
    """Per output index and sub-sample a in 0..k-1 (a list of k): the two source indices, the weight (float64), and
    whether the sample lies in the image; also whether each output index's centre does (renderRegion's loops)."""
    j = torch.arange(n, dtype=torch.float64)
    jj = (n - 1 - j) if flip else j
    taps = []
    for a in range(k):
        u = lo + ((jj + (a + 0.5) / k) / n) * extent
        valid = (u >= 0) & (u <= 1)
        p = (u * size - 0.5).clamp(min=0).clamp(max=size - 1)
        p0 = torch.floor(p)
        i0 = p0.long()
        i1 = (i0 + 1).clamp(max=size - 1)
        taps.append((i0.where(valid, torch.zeros_like(i0)), i1.where(valid, torch.zeros_like(i1)), p - p0, valid))
    uc = lo + ((jj + 0.5) / n) * extent
    return taps, (uc >= 0) & (uc <= 1)


def render_region(src, region, flip, W, H, fill):
    """Sample `region` (normalised source frame; it may reach past the image, where `fill` shows) into float32
    [H, W, 3] (0..255), mirrored when `flip`: bilinear, k x k taps a pixel (k <= 4) when shrinking more than 2x.
    Returns it and, per pixel, whether its centre lies in the image (the pixels distortion applies to)."""
    SH, SW = src.shape[0], src.shape[1]
    rw, rh = region[2] - region[0], region[3] - region[1]
    kx = min(4, max(1, math.ceil((rw * SW) / W / 2)))
    ky = min(4, max(1, math.ceil((rh * SH) / H / 2)))
    cols, col_in = _taps(region[0], rw, W, kx, SW, flip)
    rows, row_in = _taps(region[1], rh, H, ky, SH, False)
    flat = src.reshape(-1, 3).double()  # bytes are exact in float64; converted once, not once a tap
    fill_t = torch.tensor(list(fill), dtype=torch.float64)
    inside = row_in[:, None] & col_in[None, :]

    def tap(r, c, wy):
        r0, r1, _, rv = r
        c0, c1, wx, cv = c
        # The horizontal weight is stored float32 (a Float32Array); the vertical one too, except in the one-tap path.
        wx = wx.float().double()[None, :, None]
        w = wy[:, None, None]
        w00, w01, w10, w11 = (1 - wx) * (1 - w), wx * (1 - w), (1 - wx) * w, wx * w
        top, bottom = (r0 * SW)[:, None], (r1 * SW)[:, None]

        def at(rows, cols):  # the pixels of (row, column) pairs
            return flat.index_select(0, (rows + cols[None, :]).view(-1)).view(H, W, 3)

        # a*w00 + b*w01 + c*w10 + d*w11, left to right, in place on the fresh gathers (the same roundings).
        v = at(top, c0).mul_(w00).add_(at(top, c1).mul_(w01)).add_(at(bottom, c0).mul_(w10)).add_(at(bottom, c1).mul_(w11))
        valid = rv[:, None] & cv[None, :]
        return v if bool(valid.all()) else torch.where(valid[:, :, None], v, fill_t)

    if kx == 1 and ky == 1:
        out = tap(rows[0], cols[0], rows[0][2])
    else:
        out = None
        for r in rows:
            wy = r[2].float().double()
            for c in cols:
                v = tap(r, c, wy)
                out = v if out is None else out.add_(v)
        out = out.div_(kx * ky)
    return out.to(torch.float32), inside


def _ramp(x):
    """max(0, min(k, 4 - k, 1)) with k = x mod 6, for x in [0, 12)."""
    k = torch.where(x >= 6, x - 6, x)
    return torch.minimum(k, 4 - k).clamp(0, 1)  # k < 4 - k ? k : 4 - k, then m >= 1 ? 1 : m > 0 ? m : 0


def _hsv(img, mask, sat, hue):
    x = img.double()
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    mx = torch.maximum(torch.maximum(r, g), b)
    mn = torch.minimum(torch.minimum(r, g), b)
    d = mx - mn
    change = mask & (mx > 0) & (d > 0)  # grey: no hue, and saturation scaling changes nothing
    dd = torch.where(change, d, torch.ones_like(d))
    mxd = torch.where(change, mx, torch.ones_like(mx))
    s = ((dd / mxd) * sat).clamp(max=1)
    h = torch.where(mx == r, (g - b) / dd, torch.where(mx == g, 2 + (b - r) / dd, 4 + (r - g) / dd))
    h = h * 60 + hue
    h = torch.where(h < 0, h + 360, torch.where(h >= 360, h - 360, h))
    vs = mx * s
    hp = h / 60
    rgb = torch.stack([mx - vs * _ramp(5 + hp), mx - vs * _ramp(3 + hp), mx - vs * _ramp(1 + hp)], -1).float()
    return torch.where(change[..., None], rgb, img)


def apply_distortion(img, mask, plan):
    """Apply a plan to the pixels in `mask` (0..255, float32; each step clips and stores float32, as the TypeScript)."""
    contrast_first, brightness, contrast, saturation, hue = plan
    m = mask[..., None]

    every = bool(mask.all())

    def affine(x, alpha, beta):
        y = (x.double() * alpha + beta).clamp(0, 255).float()
        return y if every else torch.where(m, y, x)

    def hsv(x):
        if saturation is None and hue is None:
            return x
        return _hsv(x, mask, 1.0 if saturation is None else saturation, 0.0 if hue is None else hue)

    if brightness is not None:
        img = affine(img, 1.0, brightness)
    if contrast_first:
        if contrast is not None:
            img = affine(img, contrast, 0.0)
        img = hsv(img)
    else:
        img = hsv(img)
        if contrast is not None:
            img = affine(img, contrast, 0.0)
    return img


def normalize(img, n):
    """(pixel - mean) * scale per RGB channel, float32."""
    mean = torch.tensor(list(n["mean"]), dtype=torch.float64)
    return ((img.double() - mean) * n["scale"]).float()

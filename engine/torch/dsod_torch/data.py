"""The torch engine's data: the dataset index Node wrote (engine/torch/data-index.ts, RUNDIR/data.json), images decoded
in DataLoader worker processes (Pillow, else torchvision.io), augmented as the tfjs engine augments them (augment.py,
rng.py) and matched to the default boxes (boxes.py).

Batches are the tfjs engine's (engine/data/batches.ts BatchLoader): sample k of loader step L is stream position
p = L x B + k; its image is permutation(epoch)[p mod n] (a seeded shuffle per epoch of the images that have objects),
its augmentation draws from its own generator, derive_seed(seed, 12, p). In training an image that cannot be used (it
does not decode, or its size is not its annotation's) is replaced by the next one in the permutation and reported once
as a warning; when none is left the batch is empty and training fails with code `data`. So a batch is a function of
(seed, position) alone: resuming, several workers or several processes change nothing.

Nothing here parses a dataset or judges its paths: Node did (one reader, with file:line errors and paths kept inside
the dataset's folder); the index is trusted as the run folder's own file.
"""
import json
import os
import sys

import torch

from .augment import Annotations, augment_sample, f32, preset_options, resize_sample
from .boxes import encode_targets
from .rng import STREAM_AUGMENT, STREAM_ORDER, Rng, derive_seed, shuffle_in_place

INDEX_FORMAT = "dsod-data-index"
INDEX_VERSION = 1
# Decoded images kept in memory, over all worker processes (batches.ts DEFAULT_CACHE).
CACHE_BYTES = 512 * 1024 * 1024


class DataError(Exception):
    """The index or the decoders cannot be used: nothing was trained."""


def find_decoder():
    """'pillow' or 'torchvision' (the first importable), else DataError with the command that fixes it."""
    try:
        import PIL.Image  # noqa: F401

        return "pillow"
    except ImportError:
        pass
    try:
        import torchvision.io  # noqa: F401

        return "torchvision"
    except ImportError:
        pass
    raise DataError(
        f"decoding the dataset's images needs Pillow or torchvision in {sys.executable}, which has neither: "
        "`apt-get install python3-pil` on Debian (or `bash scripts/torch-setup.sh`), or `pip install pillow`"
    )


def _inside(sw, sh, max_side):
    """sharp's resize(max_side, max_side, fit inside): the longer side becomes max_side, the aspect ratio kept."""
    f = max(sw / max_side, sh / max_side)
    return max(1, round(sw / f)), max(1, round(sh / f))


def decode_image(path, decoder, max_side=None):
    """(uint8 [H, W, 3] RGB, (stored width, stored height)); shrunk so the longer side is at most max_side, as the tfjs
    engine decodes (engine/data/image.ts; both filter with Lanczos, the shrunk pixels agree closely, not exactly).
    EXIF orientation is not applied (the boxes refer to the stored pixels). Raises on a missing, truncated or corrupt
    file."""
    if decoder == "pillow":
        from PIL import Image

        with Image.open(path) as im:
            im.load()  # a truncated file raises here (ImageFile.LOAD_TRUNCATED_IMAGES stays False)
            size = im.size
            rgb = im if im.mode == "RGB" else im.convert("RGB")
        if max_side and max(size) > max_side:
            rgb = rgb.resize(_inside(*size, max_side), getattr(Image, "Resampling", Image).LANCZOS)
        w, h = rgb.size
        return torch.frombuffer(bytearray(rgb.tobytes()), dtype=torch.uint8).reshape(h, w, 3), size
    from torchvision.io import ImageReadMode, decode_image as tv_decode, read_file

    x = tv_decode(read_file(path), mode=ImageReadMode.RGB)
    size = (x.shape[2], x.shape[1])
    if max_side and max(size) > max_side:
        nw, nh = _inside(*size, max_side)
        x = torch.nn.functional.interpolate(x[None].float(), size=(nh, nw), mode="bilinear", antialias=True, align_corners=False)[0]
        x = x.round().clamp(0, 255).to(torch.uint8)
    return x.permute(1, 2, 0).contiguous(), size


class Record:
    __slots__ = ("id", "image", "width", "height", "source", "boxes", "labels", "difficult")


def _records(split, where):
    out = []
    for i, it in enumerate(split.get("items", [])):
        try:
            r = Record()
            r.id, r.image, r.source = str(it["id"]), str(it["image"]), str(it.get("source", ""))
            r.width, r.height = it["width"], it["height"]
            boxes = [float(v) for b in it["boxes"] for v in b]
            r.labels = [int(v) for v in it["labels"]]
            r.difficult = [int(v) for v in it["difficult"]]
            if len(boxes) != 4 * len(r.labels) or len(r.difficult) != len(r.labels) or not os.path.isabs(r.image):
                raise ValueError("boxes, labels and difficult differ in length, or the image path is not absolute")
            r.boxes = f32(boxes)  # recordAnnotations: a Float32Array
        except (KeyError, TypeError, ValueError) as e:
            raise DataError(f"{where}.items[{i}]: not an item of a {INDEX_FORMAT} ({e})") from None
        out.append(r)
    return out


def load_index(path):
    """The index as {classes, train: {records, report, root}, test: ... or None}; DataError names what is wrong."""
    try:
        with open(path, encoding="utf-8") as f:
            ix = json.load(f)
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read the dataset index {path}: {e}") from None
    if not isinstance(ix, dict) or ix.get("format") != INDEX_FORMAT:
        raise DataError(f"{path} is not a {INDEX_FORMAT} (engine/torch/data-index.ts writes one)")
    if ix.get("version") != INDEX_VERSION:
        raise DataError(f"{path}: {INDEX_FORMAT} version {ix.get('version')}; this engine reads version {INDEX_VERSION}")
    # source: where the images came from (engine/data/source.ts DataSource), recorded in the checkpoints' meta.
    out = {"classes": ix.get("classes"), "train": None, "test": None, "source": ix.get("source")}
    for which in ("train", "test"):
        s = ix.get(which)
        if s is None:
            continue
        out[which] = {"root": s.get("root"), "report": s.get("report") or {}, "records": _records(s, f"{path}: {which}")}
    if out["train"] is None and out["test"] is None:
        raise DataError(f"{path} has neither a train nor a test split")
    return out


def report_message(split, what):
    """The tfjs engine's warning about what loading skipped (training-run.ts reportProblems), or None."""
    r = split["report"]
    p = r.get("problems") or []
    if not p:
        return None
    shown = "\n  ".join(q.get("text") or q.get("message", "") for q in p[:10])
    more = f"\n  ... and {len(p) - 10} more" if len(p) > 10 else ""
    return (f"{what} data: skipped {r.get('skippedImages', 0)} images and {r.get('skippedObjects', 0)} objects "
            f"({len(p)} problems):\n  {shown}{more}")


class Samples(torch.utils.data.Dataset):
    """Stream position -> one sample, as BatchLoader prepares it (training: shuffled, augmented, images without
    objects left out; evaluation: in order, resized, every image). Each worker process has its own copy: the images
    it found unusable (each reported once by it: the main process keeps one report an image) and its share of the
    decoded-image cache."""

    def __init__(self, records, width, height, seed=0, augment="ssd", training=True, priors=None, variances=None,
                 decoder="pillow", max_side=None, cache_bytes=CACHE_BYTES):
        self.training = training
        self.records = [r for r in records if r.labels] if training else list(records)
        self.width, self.height, self.seed = width, height, seed
        self.options = {**preset_options(augment), "width": width, "height": height} if training else {"width": width, "height": height}
        self.priors, self.variances = priors, variances
        self.decoder = decoder
        self.max_side = max_side if max_side is not None else 2 * max(width, height)
        self.cache_total = self.cache_bytes = cache_bytes
        self.cache, self.cache_used = {}, 0
        self.bad, self.pending = set(), []
        self.permutations = {}

    def __len__(self):
        return len(self.records)

    def permutation(self, epoch):
        p = self.permutations.get(epoch)
        if p is None:
            idx = list(range(len(self.records)))
            p = shuffle_in_place(idx, Rng(derive_seed(self.seed, STREAM_ORDER, epoch))) if self.training else idx
            self.permutations = {e: q for e, q in self.permutations.items() if e >= epoch - 1}
            self.permutations[epoch] = p
        return p

    def load(self, index):
        hit = self.cache.get(index)
        if hit is not None:
            return hit
        r = self.records[index]
        try:
            img, (sw, sh) = decode_image(r.image, self.decoder, self.max_side)
            # The boxes are fractions of the size the annotation states: an image of another size would get wrong boxes.
            if (sw, sh) != (r.width, r.height):
                message = f"the annotation gives its size as {r.width}x{r.height} ({r.source}), the image is {sw}x{sh}: skipped"
                img = None
        except Exception as e:  # noqa: BLE001 - whatever the decoder raises, the image is skipped with its reason
            message, img = f"unreadable image, skipped: {e}", None
        if img is None:
            self.bad.add(index)
            self.pending.append({"stage": "image", "path": r.image, "message": message, "text": f"{r.image}: {message} [image]"})
            return None
        if self.cache_used + img.numel() <= self.cache_bytes:
            self.cache[index] = img
            self.cache_used += img.numel()
        return img

    def pick(self, position):
        """(record index, decoded image) at a stream position; in training an unusable one is replaced by the next."""
        n = len(self.records)
        if n == 0:
            return None
        perm = self.permutation(position // n)
        for t in range(n if self.training else 1):
            index = perm[(position + t) % n]
            # In evaluation an unusable image is tried (and reported) again at each pass, as the tfjs engine's
            # evaluation reports it at each evaluation: every pass counts its own skipped images.
            if index in self.bad and self.training:
                continue
            img = self.load(index)
            if img is not None:
                return index, img
        return None

    def __getitem__(self, position):
        picked = self.pick(position)
        problems, self.pending = self.pending, []
        sample = {"position": position, "problems": problems, "image": None}
        if picked is None:
            return sample
        index, src = picked
        r = self.records[index]
        ann = Annotations(r.boxes, r.labels, r.difficult)
        if self.training:
            image, out = augment_sample(src, ann, Rng(derive_seed(self.seed, STREAM_AUGMENT, position)), self.options)
        else:
            image, out = resize_sample(src, ann, self.options)
        boxes = torch.tensor(out.boxes, dtype=torch.float32).reshape(-1, 4)
        labels = torch.tensor(out.labels, dtype=torch.long)
        sample.update(index=index, id=r.id, image=image.permute(2, 0, 1).contiguous(), boxes=boxes, labels=labels,
                      difficult=torch.tensor(out.difficult, dtype=torch.uint8))
        if self.priors is not None:
            sample["loc_t"], sample["labels_t"] = encode_targets(self.priors, boxes, labels, self.variances)
        return sample


def collate(samples):
    """A batch: the usable samples stacked (images [n, 3, H, W], loc_t [n, P, 4], labels_t [n, P]), their boxes,
    and the problems found while preparing it."""
    ok = [s for s in samples if s["image"] is not None]
    batch = {
        "size": len(ok),
        "positions": [s["position"] for s in ok],
        "indices": [s["index"] for s in ok],
        "ids": [s["id"] for s in ok],
        "problems": [p for s in samples for p in s["problems"]],
        "boxes": [s["boxes"] for s in ok],
        "labels": [s["labels"] for s in ok],
        "difficult": [s["difficult"] for s in ok],
    }
    if ok:
        batch["images"] = torch.stack([s["image"] for s in ok])
        if "loc_t" in ok[0]:
            batch["loc_t"] = torch.stack([s["loc_t"] for s in ok])
            batch["labels_t"] = torch.stack([s["labels_t"] for s in ok])
    return batch


class PositionBatches:
    """The positions of loader steps first, first + 1, ... (`steps` of them, or without end): step L reads positions
    L x stride + offset .. + count - 1. One process: stride = count = the micro-batch, offset 0 (BatchLoader's
    batchSize); rank r of R: stride = the micro-batch of all ranks, offset = r x count."""

    def __init__(self, first, stride, offset, count, steps=None, limit=None):
        self.first, self.stride, self.offset, self.count, self.steps, self.limit = first, stride, offset, count, steps, limit

    def __iter__(self):
        step = self.first
        while self.steps is None or step < self.first + self.steps:
            lo = step * self.stride + self.offset
            hi = lo + self.count if self.limit is None else min(lo + self.count, self.limit)
            yield list(range(lo, hi))
            step += 1

    def __len__(self):
        if self.steps is None:
            raise TypeError("an endless stream of batches has no length")
        return self.steps


def _worker_init(_):
    torch.set_num_threads(1)  # the processes share the CPUs; one decode and augmentation each


def loader(samples, batches, workers=0, pin_memory=False):
    """A DataLoader over `samples` in the order `batches` gives, with `workers` processes (0: in this one)."""
    # Each worker process holds its own copy of the cache: the budget is shared out.
    samples.cache_bytes = samples.cache_total // max(1, workers)
    return torch.utils.data.DataLoader(samples, batch_sampler=batches, num_workers=workers, collate_fn=collate,
                                       pin_memory=pin_memory, worker_init_fn=_worker_init if workers > 0 else None)


def evaluation_loader(split, g, batch, decoder, priors=None, workers=0, pin_memory=False):
    """A split's images once, in order, resized to the input (BatchLoader with augment false; the last batch short):
    batches with `images` [n, 3, H, W], `ids`, `boxes`, `labels`, `difficult` (and targets with `priors`)."""
    s = g["spec"]
    samples = Samples(split["records"], s["input"]["width"], s["input"]["height"], training=False, priors=priors,
                      variances=s["priors"]["variances"], decoder=decoder)
    n = len(samples)
    return loader(samples, PositionBatches(0, batch, 0, batch, -(-n // batch), n), workers, pin_memory)


class HeldOut:
    """The held-out split of a data index, for the evaluations of a training: decoded here, in order, resized to the
    input as the tfjs engine's evaluation does (BatchLoader with augment false). One Samples kept across evaluations,
    so its decoded-image cache serves the next one (in this process; worker processes get a copy each pass)."""

    def __init__(self, index, g, decoder):
        s = g["spec"]
        self.records = index["test"]["records"]
        self.class_names = index["classes"]
        self.samples = Samples(self.records, s["input"]["width"], s["input"]["height"], training=False, decoder=decoder)

    def __len__(self):
        return len(self.records)

    def batches(self, count=None, batch=8, workers=0, pin_memory=False, skipped=None):
        """(images [n, 3, H, W], [{image, width, height}]) of the first `count` images (all by default); each image
        that cannot be used is left out and appended to `skipped` as {stage, path, message} (engine/data DataProblem)."""
        n = len(self) if count is None else min(count, len(self))
        if n == 0:
            return
        for b in loader(self.samples, PositionBatches(0, batch, 0, batch, -(-n // batch), n), workers, pin_memory):
            if skipped is not None:
                skipped.extend({"stage": p["stage"], "path": p["path"], "message": p["message"]} for p in b["problems"])
            if b["size"]:
                infos = [{"image": self.records[i].image, "width": self.records[i].width, "height": self.records[i].height}
                         for i in b["indices"]]
                yield b["images"], infos


class TrainingData:
    """What train.py needs: the index, the training samples, their batches from a step on, the problems to warn
    about once each."""

    def __init__(self, path, g, priors, seed):
        self.index = load_index(path)
        if self.index["train"] is None:
            raise DataError(f"{path} has no train split (an index written for an evaluation alone)")
        self.decoder = find_decoder()
        s = g["spec"]
        classes = s["classes"]["count"]
        names = self.index["classes"]
        if not isinstance(names, list) or len(names) != classes:
            raise DataError(f"{path} has {len(names) if isinstance(names, list) else 'no'} classes, the spec {classes} (background included)")
        inp = s["input"]
        self.samples = Samples(self.index["train"]["records"], inp["width"], inp["height"], seed=seed,
                               augment=s["train"]["augment"], training=True, priors=priors,
                               variances=s["priors"]["variances"], decoder=self.decoder)
        if len(self.samples) == 0:
            raise DataError(f"{path}: no training images with objects")
        test = self.index["test"]
        self.images = {"train": len(self.samples), "test": len(test["records"]) if test else 0}
        self.reported = set()

    def start_messages(self):
        """The warnings the tfjs engine gives before training: what loading skipped."""
        out = []
        for which, what in (("train", "training"), ("test", "test")):
            if self.index[which]:
                m = report_message(self.index[which], what)
                if m:
                    out.append(m)
        return out

    def batches(self, first, stride, offset, count, workers, pin_memory):
        return iter(loader(self.samples, PositionBatches(first, stride, offset, count), workers, pin_memory))

    def calibration_batches(self, g, batch, steps):
        """The first min(steps x batch, n) training images, resized, in order, each once (BatchLoader with augment
        false and `steps`, as the tfjs engine recalibrates batch norm); in this process."""
        s = g["spec"]
        samples = Samples(self.index["train"]["records"], s["input"]["width"], s["input"]["height"], training=False, decoder=self.decoder)
        n = len(samples)
        return iter(loader(samples, PositionBatches(0, batch, 0, batch, min(steps, -(-n // batch)), n)))

    def new_problems(self, batch):
        """The batch's problems not reported yet, as the tfjs engine's warning lines."""
        out = []
        for p in batch["problems"]:
            if p["path"] not in self.reported:
                self.reported.add(p["path"])
                out.append(f"training data: {p['text']}")
        return out

    def epoch(self, position):
        return position // len(self.samples)

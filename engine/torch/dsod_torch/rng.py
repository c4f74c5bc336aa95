"""engine/data/rng.ts in Python, draw for draw: mulberry32 and deriveSeed give the same numbers as the tfjs engine, so
a seed picks the same images in the same order and the same augmentation for each (augment.py, data.py).

JavaScript's Math.imul and >>> are 32-bit operations on the bit patterns; here every value is kept as an unsigned
32-bit int (& 0xFFFFFFFF), which has the same bits. The floats are Python's doubles, as JavaScript's numbers are.
"""
M32 = 0xFFFFFFFF
STREAM_ORDER = 11
STREAM_AUGMENT = 12


def _imul(a, b):
    return (a * b) & M32


class Rng:
    """createRng(seed): next() uniform in [0, 1), uniform(lo, hi), int(lo, hi) (both ends), chance(p), pick(xs)."""

    __slots__ = ("s",)

    def __init__(self, seed):
        self.s = seed & M32

    def next(self):
        s = (self.s + 0x6D2B79F5) & M32
        self.s = s
        t = _imul(s ^ (s >> 15), s | 1)
        # JavaScript: t ^= t + Math.imul(...): the sum is exact, then ToInt32 keeps its low 32 bits.
        t ^= (t + _imul(t ^ (t >> 7), t | 61)) & M32
        return (t ^ (t >> 14)) / 4294967296

    def uniform(self, lo, hi):
        return lo + (hi - lo) * self.next()

    def int(self, lo, hi):
        return lo + int(self.next() * (hi - lo + 1))

    def chance(self, p):
        return self.next() < p

    def pick(self, xs):
        return xs[int(self.next() * len(xs))]


def derive_seed(seed, stream, index):
    """deriveSeed: a seed for item `index` of stream `stream` (murmur3's finaliser)."""
    h = (seed & M32) ^ _imul((stream + 1) & M32, 0x9E3779B1) ^ _imul((index + 1) & M32, 0x85EBCA77)
    h ^= h >> 16
    h = _imul(h, 0x85EBCA6B)
    h ^= h >> 13
    h = _imul(h, 0xC2B2AE35)
    h ^= h >> 16
    return h


def shuffle_in_place(xs, rng):
    """Fisher-Yates with the given generator (shuffleInPlace)."""
    for i in range(len(xs) - 1, 0, -1):
        j = int(rng.next() * (i + 1))
        xs[i], xs[j] = xs[j], xs[i]
    return xs

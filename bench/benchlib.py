"""Helpers the benchmark scripts share (they run as `python bench/<script>.py`)."""
import sys


def log(*args):
    """Progress goes to stderr; stdout carries only the JSON figures."""
    print(*args, file=sys.stderr, flush=True)


def percentile(values, p):
    """The p-th percentile (nearest rank) of a list of numbers."""
    values = sorted(values)
    return values[min(len(values) - 1, int(round((len(values) - 1) * p / 100.0)))]


def synthetic(size):
    """The peer benchmark's RGB test pattern (shared/peer/bench_tiles.py), as a vips image."""
    import pyvips
    xyz = pyvips.Image.xyz(size, size)
    x, y = xyz[0], xyz[1]
    noise = pyvips.Image.gaussnoise(size, size, sigma=8, mean=0, seed=42)
    r = ((x ^ y) & 255) * 0.6 + noise
    g = ((x * 0.25 + y * 0.5) % 256) * 0.8 + noise
    b = ((x * 0.03 + y * 0.07) % 256) * 0.7 + noise * 0.5
    return r.bandjoin([g, b]).cast('uchar')

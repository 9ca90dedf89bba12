"""Independent, reproducible random streams: one per (seed, stage, key...)."""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, *keys: int | str) -> np.random.Generator:
    """A generator that depends only on the seed and the keys, so stages never disturb each other."""
    words = [int(seed)] + [zlib.crc32(k.encode()) if isinstance(k, str) else int(k) for k in keys]
    return np.random.default_rng(words)

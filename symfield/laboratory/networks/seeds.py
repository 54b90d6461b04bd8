"""Explicit random streams for sampled networks (no global numpy state anywhere).

Every random number is addressed by a *key* below one root ``SeedSequence``: layer ``l`` of a
network draws its bias from key ``(l, 0)`` and its weights from key ``(l, 1)``, the weight rows
being split into fixed blocks of ``BLOCK_ROWS`` rows with keys ``(l, 1, block)``. So the numbers
of a layer depend only on the seed, the layer number and that layer's shape: an eager network
and a lazy one agree exactly, and the thread count never changes a single number.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Union

import numpy as np

from ...errors import InvalidValueError, quoted
from ...processes import available_cpus

SeedLike = Union[int, np.integer, np.random.SeedSequence, np.random.Generator]

#: Rows per independently seeded weight block (part of the stream definition: changing it
#: changes every network).
BLOCK_ROWS = 128

# Below this many entries a thread pool costs more than it saves.
_PARALLEL_MIN_ENTRIES = 1 << 19


def as_seed_sequence(seed: SeedLike) -> np.random.SeedSequence:
    """The root ``SeedSequence`` for an int, a ``SeedSequence`` or a ``Generator``.

    A ``SeedSequence`` is used as is (never mutated), so the same object always gives the same
    numbers. A ``Generator`` is advanced by one small draw: two calls with one generator give
    two independent streams, and two fresh generators with equal seeds give equal streams.
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        words = seed.integers(0, 2**64, size=4, dtype=np.uint64, endpoint=False)
        return np.random.SeedSequence([int(w) for w in words])
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise InvalidValueError(
            f"seed must be a non-negative int, a numpy.random.SeedSequence or a "
            f"numpy.random.Generator, not {type(seed).__name__} {quoted(seed)} (an explicit seed "
            f"keeps sampled networks reproducible)"
        )
    if seed < 0:
        raise InvalidValueError(f"seed must be non-negative, got {seed}")
    return np.random.SeedSequence(int(seed))


def child_sequence(parent: np.random.SeedSequence, *key: int) -> np.random.SeedSequence:
    """The stream at ``parent.spawn_key + key``; equal to ``parent.spawn()`` children, but
    addressed by key and without mutating ``parent``."""
    return np.random.SeedSequence(
        entropy=parent.entropy,
        spawn_key=(*parent.spawn_key, *key),
        pool_size=parent.pool_size,
    )


def scaled_normal_matrix(shape: tuple[int, int], stream: np.random.SeedSequence,
                         scale: float) -> np.ndarray:
    """A C-contiguous float64 matrix of i.i.d. N(0, scale^2) entries.

    Row blocks are seeded independently so that they can be filled in parallel threads
    (numpy releases the GIL while filling); the result does not depend on the thread count.
    """
    rows, cols = shape
    out = np.empty((rows, cols), dtype=np.float64)
    n_blocks = -(-rows // BLOCK_ROWS)

    def fill(block: int) -> None:
        view = out[block * BLOCK_ROWS:(block + 1) * BLOCK_ROWS]
        np.random.default_rng(child_sequence(stream, block)).standard_normal(out=view)
        view *= scale  # scale while the block is still in cache

    workers = min(available_cpus(), n_blocks)
    if workers > 1 and rows * cols >= _PARALLEL_MIN_ENTRIES:
        # A pool per call (not a module-level one) stays correct after os.fork().
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(fill, range(n_blocks)))
    else:
        for block in range(n_blocks):
            fill(block)
    return out


def scaled_normal_vector(size: int, stream: np.random.SeedSequence, scale: float) -> np.ndarray:
    """A float64 vector of i.i.d. N(0, scale^2) entries."""
    out = np.random.default_rng(stream).standard_normal(size)
    out *= scale
    return out

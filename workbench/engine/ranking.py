"""Ranking scores per sample, ties broken at random, and counting how often each rank occurs.

The common case (no two positive scores can be equal) sorts one int64 key per score: the
score's bits, order-reversed, with the column index in the low bits. numpy sorts such keys
with SIMD several times faster than `argsort` sorts floats, and the order comes back from the
keys themselves. Keys equal but for those low bits (scores within 2^-(52 - log2 n) of each
other, relatively: never met in practice) are ordered by column, which for continuous draws is
as arbitrary as argsort's own order among equal keys; otherwise the ranks are argsort's.
"""

from __future__ import annotations

import numpy as np


def rank_order(scores: np.ndarray, rng: np.random.Generator, check_ties: bool = True,
               key: np.ndarray | None = None) -> np.ndarray:
    """Per row, the column indices from best to worst score; equal scores in random order.

    Zero scores (failed initiatives, the common tie) get random keys that sort below every
    positive score; rows with equal positive scores are re-sorted with a random secondary key.
    check_ties=False skips that search, for callers that know no two positive scores can be
    equal (continuous draws coincide with probability ~0). Every row has one initiative per rank.
    key: a C-contiguous float64 array of the scores' shape to hold the sort keys (else one is
    allocated); without tie checks the order returned is that array's memory.
    """
    if not check_ties:
        return _sorted_order(scores, rng, key)
    # Row-contiguous sort keys, safe to modify: a new array, or the caller's scratch.
    key = np.negative(scores, order="C") if key is None else np.negative(scores, out=key)
    _randomize(key, key == 0, rng, np.float64)
    order = np.argsort(key, axis=1)
    ordered = np.take_along_axis(key, order, axis=1)
    tied_rows = np.flatnonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1))
    if tied_rows.size:
        sub = key[tied_rows]
        order[tied_rows] = np.lexsort((rng.random(sub.shape), sub), axis=-1)
    return order


def _randomize(key: np.ndarray, where: np.ndarray, rng: np.random.Generator, dtype) -> None:
    """key[where] = uniforms in [0, 1), drawn in row-major order and read as `dtype` (their bits
    as int64 sort as the numbers do); through flat indices, twice as fast as a boolean mask."""
    at = np.flatnonzero(where)
    if at.size:
        key.put(at, rng.random(at.size).view(dtype))


def _sorted_order(scores: np.ndarray, rng: np.random.Generator, key: np.ndarray | None) -> np.ndarray:
    """`rank_order` without tie checks, by sorting int64 keys (see the module's docstring).

    Scores are >= 0, so their bits read as int64 grow with them and the bits' complement falls:
    the best score gets the smallest key, a zero -1. Zeros get the same random numbers as
    `rank_order`'s float keys, in the same order, whose bits (>= 0) sort below every positive
    score's key and among themselves as the numbers do.
    """
    rows, n = scores.shape
    keys = np.empty((rows, n), np.int64) if key is None else key.view(np.int64)
    np.invert(scores.view(np.int64), out=keys)
    _randomize(keys, keys == -1, rng, np.int64)
    low = (1 << max(1, (n - 1).bit_length())) - 1  # room for a column index
    keys &= ~low
    keys |= np.arange(n)
    keys.sort(axis=1)
    keys &= low
    return keys


def rank_counts(order: np.ndarray, ranks: int | None = None, overwrite: bool = False) -> np.ndarray:
    """counts[i, r]: in how many rows initiative i holds rank r (0-based), for the first `ranks`
    ranks (all of them by default): n x ranks, so a large portfolio need not hold an n x n matrix.
    overwrite: the order is not needed afterwards, so its memory may hold the temporary."""
    rows, n = order.shape
    ranks = n if ranks is None else min(ranks, n)
    if overwrite:
        flat = order[:, :ranks]
        flat *= ranks
    else:
        flat = order[:, :ranks] * ranks  # a new array, extended in place
    flat += np.arange(ranks)
    return np.bincount(flat.ravel(), minlength=n * ranks).reshape(n, ranks)


def rank_sums(order: np.ndarray) -> np.ndarray:
    """Per initiative (column), the sum over rows of its 1-based rank: the numerator of its mean rank."""
    rows, n = order.shape
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, n + 1)[None, :], axis=1)
    return ranks.sum(axis=0)

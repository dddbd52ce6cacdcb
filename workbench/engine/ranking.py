"""Ranking scores per sample, ties broken at random, and counting how often each rank occurs."""

from __future__ import annotations

import numpy as np


def rank_order(scores: np.ndarray, rng: np.random.Generator, check_ties: bool = True) -> np.ndarray:
    """Per row, the column indices from best to worst score; equal scores in random order.

    Zero scores (failed initiatives, the common tie) get random keys that sort below every
    positive score; rows with equal positive scores are re-sorted with a random secondary key.
    check_ties=False skips that search, for callers that know no two positive scores can be
    equal (continuous draws coincide with probability ~0). Every row has one initiative per rank.
    """
    key = np.negative(scores, order="C")  # a new, row-contiguous array: safe to modify
    zero = key == 0
    if zero.any():
        key[zero] = rng.random(int(zero.sum()))
    order = np.argsort(key, axis=1)
    if not check_ties:
        return order
    ordered = np.take_along_axis(key, order, axis=1)
    tied_rows = np.flatnonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1))
    if tied_rows.size:
        sub = key[tied_rows]
        order[tied_rows] = np.lexsort((rng.random(sub.shape), sub), axis=-1)
    return order


def rank_counts(order: np.ndarray, ranks: int | None = None) -> np.ndarray:
    """counts[i, r]: in how many rows initiative i holds rank r (0-based), for the first `ranks`
    ranks (all of them by default): n x ranks, so a large portfolio need not hold an n x n matrix."""
    rows, n = order.shape
    ranks = n if ranks is None else min(ranks, n)
    flat = order[:, :ranks] * ranks  # a new array, extended in place
    flat += np.arange(ranks)
    return np.bincount(flat.ravel(), minlength=n * ranks).reshape(n, ranks)


def rank_sums(order: np.ndarray) -> np.ndarray:
    """Per initiative (column), the sum over rows of its 1-based rank: the numerator of its mean rank."""
    rows, n = order.shape
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, n + 1)[None, :], axis=1)
    return ranks.sum(axis=0)

"""Uniform sample designs: independent Monte Carlo, Latin hypercube and scrambled Sobol'.

The engine asks for (rows x dims) uniforms per batch; each batch of `lhs` or `sobol` is an
independent randomization, so the spread between batches gives an honest Monte Carlo error
for quasi-random methods too.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import qmc

METHODS = ("mc", "lhs", "sobol")
SOBOL_MAX_DIMS = 21201  # the direction numbers shipped with scipy


class Design:
    """A stream of uniforms in [0, 1)^dims for one replicate; `next(rows)` continues it."""

    def __init__(self, method: str, dims: int, rng: np.random.Generator):
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
        self.method, self.dims, self.rng = method, dims, rng
        self._sobol = None
        if method == "sobol" and dims:
            if dims > SOBOL_MAX_DIMS:
                raise ValueError(f"sobol supports at most {SOBOL_MAX_DIMS} uncertain inputs, got {dims}")
            self._sobol = qmc.Sobol(dims, scramble=True, seed=rng)

    def next(self, rows: int) -> np.ndarray:
        if self.dims == 0:
            return np.empty((rows, 0))
        if self.method == "mc":
            return self.rng.random((rows, self.dims))
        if self.method == "lhs":
            return qmc.LatinHypercube(self.dims, seed=self.rng).random(rows)
        return self._sobol.random(rows)

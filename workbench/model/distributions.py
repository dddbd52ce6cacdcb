"""Probability distributions of estimates: vectorized draws, inverse CDFs and moments.

Each family is a stateless class whose methods take parameter *arrays* (one entry per
initiative column) so the engine can sample a whole factor of a portfolio in one call.
`draw` uses numpy's native generators (fast, for plain Monte Carlo); `draw_into` fills one
initiative's row in place with the very numbers `draw` gives (the engine reuses its buffers);
`ppf` maps uniforms through the inverse CDF (for Latin hypercube, Sobol' and the Gaussian copula);
`cdf` is its exact inverse, P(X <= x), for any real x (0 below the support, 1 above it): the
calibration measures read it at actuals (the probability integral transform).
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

Z95 = float(special.ndtri(0.95))  # 1.6449: a 90% interval spans +-Z95 standard deviations


class Family:
    """Interface of a distribution family; parameters are broadcastable arrays."""

    name: str = ""
    params: tuple[str, ...] = ()
    open_below: bool = False  # True when the lower end of the support is never reached (lognormal)

    @staticmethod
    def draw(rng: np.random.Generator, shape: tuple[int, int], *p: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @classmethod
    def draw_into(cls, rng: np.random.Generator, out: np.ndarray, *p: float) -> None:
        """Fill the 1-d array `out` with draws for scalar parameters `p`: the same numbers, in the
        same order, as `draw` gives for them (row by row, a block draw is one such call per row)."""
        out[...] = cls.draw(rng, out.shape, *p)

    @staticmethod
    def ppf(u: np.ndarray, *p: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def cdf(x: np.ndarray, *p: np.ndarray) -> np.ndarray:
        """P(X <= x), elementwise over broadcast x and parameters."""
        raise NotImplementedError

    @staticmethod
    def mean(*p: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def support(*p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    @classmethod
    def median(cls, *p: np.ndarray) -> np.ndarray:
        return cls.ppf(np.asarray(0.5), *p)


class Point(Family):
    name, params = "point", ("value",)

    @staticmethod
    def draw(rng, shape, v):
        return np.broadcast_to(v, shape).astype(float)

    @staticmethod
    def ppf(u, v):
        return np.broadcast_to(v, np.broadcast_shapes(np.shape(u), np.shape(v))).astype(float)

    @staticmethod
    def cdf(x, v):
        return (np.asarray(x, float) >= v).astype(float)  # a step at the value

    @staticmethod
    def mean(v):
        return np.asarray(v, float)

    @staticmethod
    def support(v):
        return np.asarray(v, float), np.asarray(v, float)


class LogNormal(Family):
    """log X ~ Normal(mu, sigma); `a..b` puts a and b on the 5th and 95th percentiles."""

    name, params = "lognormal", ("mu", "sigma")
    open_below = True

    @staticmethod
    def draw(rng, shape, mu, sigma):
        return rng.lognormal(mu, sigma, shape)

    @staticmethod
    def draw_into(rng, out, mu, sigma):
        # numpy's lognormal is exp(mu + sigma * z) on its standard normal z: same numbers, no temporaries
        rng.standard_normal(out=out)
        out *= sigma
        out += mu
        np.exp(out, out=out)

    @staticmethod
    def ppf(u, mu, sigma):
        return np.exp(mu + sigma * special.ndtri(u))

    @staticmethod
    def cdf(x, mu, sigma):
        x = np.asarray(x, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (np.log(np.where(x > 0, x, 1.0)) - mu) / sigma
        return np.where(x > 0, special.ndtr(z), 0.0)

    @staticmethod
    def mean(mu, sigma):
        return np.exp(mu + sigma**2 / 2)

    @staticmethod
    def support(mu, sigma):
        return np.zeros_like(np.asarray(mu, float)), np.full_like(np.asarray(mu, float), np.inf)


class LogitNormal(Family):
    """logit X ~ Normal(mu, sigma): the analogue of `a..b` for a probability in (0, 1)."""

    name, params = "logitnormal", ("mu", "sigma")
    open_below = True

    @staticmethod
    def draw(rng, shape, mu, sigma):
        return special.expit(rng.normal(mu, sigma, shape))

    @staticmethod
    def draw_into(rng, out, mu, sigma):
        rng.standard_normal(out=out)  # numpy's normal is mu + sigma * z
        out *= sigma
        out += mu
        special.expit(out, out=out)

    @staticmethod
    def ppf(u, mu, sigma):
        return special.expit(mu + sigma * special.ndtri(u))

    @staticmethod
    def cdf(x, mu, sigma):
        x = np.asarray(x, float)
        inside = (x > 0) & (x < 1)
        z = (special.logit(np.where(inside, x, 0.5)) - mu) / sigma
        return np.where(inside, special.ndtr(z), np.where(x >= 1, 1.0, 0.0))

    @staticmethod
    def mean(mu, sigma):
        # No closed form; Gauss-Hermite quadrature is exact to ~1e-12 for these smooth integrands.
        x, w = special.roots_hermitenorm(64)
        mu, sigma = np.asarray(mu, float), np.asarray(sigma, float)
        vals = special.expit(mu[..., None] + sigma[..., None] * x)
        return (vals * w).sum(-1) / w.sum()

    @staticmethod
    def support(mu, sigma):
        return np.zeros_like(np.asarray(mu, float)), np.ones_like(np.asarray(mu, float))


class Normal(Family):
    """Normal(mean, sd) truncated to [lo, hi]; bounds are only set where the mass cut off is tiny."""

    name, params = "normal", ("mean", "sd", "lo", "hi")

    @staticmethod
    def draw(rng, shape, m, s, lo, hi):
        return Normal.ppf(rng.random(shape), m, s, lo, hi)

    @staticmethod
    def draw_into(rng, out, m, s, lo, hi):
        a, b = special.ndtr((lo - m) / s), special.ndtr((hi - m) / s)
        rng.random(out=out)  # then `ppf`, step by step in place
        out *= b - a
        out += a
        special.ndtri(out, out=out)
        out *= s
        out += m

    @staticmethod
    def ppf(u, m, s, lo, hi):
        a, b = special.ndtr((lo - m) / s), special.ndtr((hi - m) / s)
        return m + s * special.ndtri(a + u * (b - a))

    @staticmethod
    def cdf(x, m, s, lo, hi):
        a, b = special.ndtr((lo - m) / s), special.ndtr((hi - m) / s)
        return np.clip((special.ndtr((np.asarray(x, float) - m) / s) - a) / (b - a), 0.0, 1.0)

    @staticmethod
    def mean(m, s, lo, hi):
        return stats.truncnorm.mean((lo - m) / s, (hi - m) / s, loc=m, scale=s)

    @staticmethod
    def support(m, s, lo, hi):
        return np.asarray(lo, float), np.asarray(hi, float)


class Pert(Family):
    """Beta-PERT on [lo, hi] with the given mode (lambda = 4)."""

    name, params = "pert", ("lo", "mode", "hi")

    @staticmethod
    def shape_params(lo, mode, hi):
        width = hi - lo
        return 1 + 4 * (mode - lo) / width, 1 + 4 * (hi - mode) / width

    @staticmethod
    def draw(rng, shape, lo, mode, hi):
        a, b = Pert.shape_params(lo, mode, hi)
        return lo + (hi - lo) * rng.beta(a, b, shape)

    @staticmethod
    def draw_into(rng, out, lo, mode, hi):
        a, b = Pert.shape_params(lo, mode, hi)
        np.multiply(rng.beta(a, b, out.shape), hi - lo, out=out)
        out += lo

    @staticmethod
    def ppf(u, lo, mode, hi):
        a, b = Pert.shape_params(lo, mode, hi)
        return lo + (hi - lo) * special.betaincinv(a, b, u)

    @staticmethod
    def cdf(x, lo, mode, hi):
        a, b = Pert.shape_params(lo, mode, hi)
        return special.betainc(a, b, np.clip((np.asarray(x, float) - lo) / (hi - lo), 0.0, 1.0))

    @staticmethod
    def mean(lo, mode, hi):
        return (lo + 4 * mode + hi) / 6

    @staticmethod
    def support(lo, mode, hi):
        return np.asarray(lo, float), np.asarray(hi, float)


class Triangular(Family):
    name, params = "tri", ("lo", "mode", "hi")

    @staticmethod
    def draw(rng, shape, lo, mode, hi):
        return rng.triangular(lo, mode, hi, shape)

    @staticmethod
    def ppf(u, lo, mode, hi):
        width = hi - lo
        c = (mode - lo) / width
        left = lo + np.sqrt(u * width * (mode - lo))
        right = hi - np.sqrt((1 - u) * width * (hi - mode))
        return np.where(u < c, left, right)

    @staticmethod
    def cdf(x, lo, mode, hi):
        x = np.clip(np.asarray(x, float), lo, hi)
        width = hi - lo
        with np.errstate(divide="ignore", invalid="ignore"):  # mode at an end: that side's branch is unused
            left = (x - lo) ** 2 / (width * (mode - lo))
            right = 1 - (hi - x) ** 2 / (width * (hi - mode))
        return np.where(x <= lo, 0.0, np.where(x < mode, left, np.where(x >= hi, 1.0, right)))

    @staticmethod
    def mean(lo, mode, hi):
        return (lo + mode + hi) / 3

    @staticmethod
    def support(lo, mode, hi):
        return np.asarray(lo, float), np.asarray(hi, float)


class Uniform(Family):
    name, params = "uniform", ("lo", "hi")

    @staticmethod
    def draw(rng, shape, lo, hi):
        return rng.uniform(lo, hi, shape)

    @staticmethod
    def draw_into(rng, out, lo, hi):
        rng.random(out=out)  # numpy's uniform is lo + (hi - lo) * u
        out *= hi - lo
        out += lo

    @staticmethod
    def ppf(u, lo, hi):
        return lo + u * (hi - lo)

    @staticmethod
    def cdf(x, lo, hi):
        return np.clip((np.asarray(x, float) - lo) / (hi - lo), 0.0, 1.0)

    @staticmethod
    def mean(lo, hi):
        return (np.asarray(lo, float) + hi) / 2

    @staticmethod
    def support(lo, hi):
        return np.asarray(lo, float), np.asarray(hi, float)


class Beta(Family):
    name, params = "beta", ("a", "b")

    @staticmethod
    def draw(rng, shape, a, b):
        return rng.beta(a, b, shape)

    @staticmethod
    def ppf(u, a, b):
        return special.betaincinv(a, b, u)

    @staticmethod
    def cdf(x, a, b):
        return special.betainc(a, b, np.clip(np.asarray(x, float), 0.0, 1.0))

    @staticmethod
    def mean(a, b):
        return np.asarray(a, float) / (np.asarray(a, float) + b)

    @staticmethod
    def support(a, b):
        return np.zeros_like(np.asarray(a, float)), np.ones_like(np.asarray(a, float))


FAMILIES: dict[str, type[Family]] = {
    f.name: f for f in (Point, LogNormal, LogitNormal, Normal, Pert, Triangular, Uniform, Beta)
}

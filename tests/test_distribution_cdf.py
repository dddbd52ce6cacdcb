"""Every distribution family's cdf against scipy.stats' independent implementation, and cdf(ppf(u)) == u."""

import numpy as np
import pytest
from scipy import special, stats

from workbench.model.distributions import (
    FAMILIES,
    Beta,
    LogitNormal,
    LogNormal,
    Normal,
    Pert,
    Point,
    Triangular,
    Uniform,
)
from workbench.model.estimates import parse_estimate

U = np.array([1e-9, 0.001, 0.05, 0.2, 0.5, 0.77, 0.95, 0.999, 1 - 1e-9])

# (family, parameters, the same distribution in scipy.stats, points to evaluate at incl. outside the support)
CASES = [
    (LogNormal, (1.2, 0.7), stats.lognorm(s=0.7, scale=np.exp(1.2)), [-1, 0, 0.5, 3.3, 10, 80]),
    (Normal, (5.0, 2.0, 0.0, np.inf), stats.truncnorm(a=-2.5, b=np.inf, loc=5, scale=2), [-1, 0, 1, 5, 8.9, 20]),
    (Normal, (0.5, 0.2, 0.0, 1.0), stats.truncnorm(a=-2.5, b=2.5, loc=0.5, scale=0.2), [-0.1, 0.02, 0.5, 0.9, 1.2]),
    (Normal, (3.0, 1.0, -np.inf, np.inf), stats.norm(3, 1), [-2, 0, 3, 4.5]),
    (Pert, (2.0, 3.0, 10.0), stats.beta(1 + 4 * 1 / 8, 1 + 4 * 7 / 8, loc=2, scale=8), [0, 2, 2.5, 4, 9.9, 12]),
    (Pert, (0.0, 0.0, 1.0), stats.beta(1, 5, loc=0, scale=1), [-1, 0, 0.1, 0.9, 1, 2]),
    (Triangular, (1.0, 4.0, 6.0), stats.triang(c=0.6, loc=1, scale=5), [0, 1, 2, 4, 5, 6, 7]),
    (Triangular, (1.0, 1.0, 6.0), stats.triang(c=0.0, loc=1, scale=5), [0, 1, 2, 5, 6, 7]),
    (Triangular, (1.0, 6.0, 6.0), stats.triang(c=1.0, loc=1, scale=5), [0, 1, 2, 5, 6, 7]),
    (Uniform, (-3.0, 5.0), stats.uniform(-3, 8), [-4, -3, 0, 4.9, 5, 6]),
    (Beta, (2.0, 5.0), stats.beta(2, 5), [-0.5, 0, 0.1, 0.6, 1, 1.5]),
    (Beta, (0.5, 0.5), stats.beta(0.5, 0.5), [0, 0.01, 0.5, 0.99, 1]),
]


@pytest.mark.parametrize("family, params, ref, xs", CASES, ids=lambda c: getattr(c, "name", None))
def test_cdf_matches_scipy(family, params, ref, xs):
    x = np.array(xs, float)
    np.testing.assert_allclose(family.cdf(x, *params), ref.cdf(x), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("family, params, ref, xs", CASES, ids=lambda c: getattr(c, "name", None))
def test_cdf_inverts_ppf(family, params, ref, xs):
    np.testing.assert_allclose(family.cdf(family.ppf(U, *params), *params), U, rtol=1e-7, atol=1e-12)


def test_logitnormal_cdf_is_the_normal_cdf_of_the_logit():
    mu, sigma = 1.0, 0.6
    x = np.array([-0.2, 0.0, 0.3, 0.7, 0.9, 1.0, 1.3])
    inside = (x > 0) & (x < 1)
    expected = np.where(inside, stats.norm(mu, sigma).cdf(special.logit(np.clip(x, 1e-300, 1 - 1e-16))),
                        (x >= 1).astype(float))
    np.testing.assert_allclose(LogitNormal.cdf(x, mu, sigma), expected, rtol=1e-12)
    np.testing.assert_allclose(LogitNormal.cdf(LogitNormal.ppf(U, mu, sigma), mu, sigma), U, rtol=1e-7, atol=1e-12)
    # A brute-force check from draws (independent of the formula): within 4 binomial se.
    draws = LogitNormal.draw(np.random.default_rng(3), (200_000,), mu, sigma)
    for q in (0.5, 0.75, 0.9):
        p = LogitNormal.cdf(q, mu, sigma)
        assert abs(np.mean(draws <= q) - p) < 4 * np.sqrt(p * (1 - p) / draws.size)


def test_point_cdf_is_a_step_at_the_value():
    np.testing.assert_array_equal(Point.cdf(np.array([1.9, 2.0, 2.1]), 2.0), [0.0, 1.0, 1.0])


def test_cdf_vectorizes_over_parameter_arrays():
    mu, sigma = np.array([0.0, 1.0, 2.0]), np.array([0.5, 1.0, 0.2])
    x = np.array([1.0, 2.0, 7.0])
    expected = [stats.lognorm(s=s, scale=np.exp(m)).cdf(v) for m, s, v in zip(mu, sigma, x)]
    np.testing.assert_allclose(LogNormal.cdf(x, mu, sigma), expected, rtol=1e-12)


def test_every_family_has_a_cdf():
    for family in FAMILIES.values():
        assert "cdf" in vars(family), family.name


@pytest.mark.parametrize("text, factor", [("200..800", "reach"), ("60%..90%", "confidence"), ("pert(1, 2, 5)", "effort"),
                                          ("tri(1, 2, 5)", "effort"), ("uniform(1, 3)", "effort"),
                                          ("normal(10, 2)", "effort"), ("beta(2, 3)", "confidence"), ("high", "impact")])
def test_estimate_cdf_inverts_estimate_ppf(text, factor):
    est = parse_estimate(text, factor)
    if est.is_point:
        assert est.cdf(est.median() - 1e-9) == 0.0 and est.cdf(est.median()) == 1.0
    else:
        np.testing.assert_allclose(est.cdf(est.ppf(U[1:-1])), U[1:-1], rtol=1e-7)
        assert est.cdf(est.median()) == pytest.approx(0.5, abs=1e-9)

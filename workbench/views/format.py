"""The one way numbers are written for people, and the one meaning of "±".

Every "±" the package shows (CLI, reports, dashboard, scenario comparisons) is a 95% Monte
Carlo half-width; each view says so once (`PM_NOTE`). Programs get standard errors instead,
in JSON fields named `*_se`.
"""

from __future__ import annotations

import math

Z95 = 1.959964  # a normal 95% half-width in standard errors
PM_NOTE = "± is a 95% Monte Carlo half-width."


def number(x: float | None) -> str:
    """Compact, readable numbers: 12,345 / 123 / 4.56 / 0.012; "–" for a missing one."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    ax = abs(x)
    if float(x).is_integer() and ax < 1e15:
        return f"{int(x):,}"
    if ax >= 100:
        return f"{x:,.0f}"
    if ax >= 10:
        return f"{x:.1f}"
    if ax >= 1:
        return f"{x:.3g}"
    return f"{x:.2g}"


def exact(x: float) -> str:
    """A figure in a message, to two decimals without trailing zeros: "10.51", "40", "1,200.5"."""
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def half_width(se: float) -> float:
    """The 95% half-width of a normal estimate with standard error `se`."""
    return Z95 * se


def pm(value: float | None, half: float | None = None, *, digits: int | None = None) -> str:
    """A value with its 95% half-width when there is one: "40,360 ± 192", "0.46 ± 0.01"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"

    def fmt(x: float) -> str:
        return f"{x:.{digits}f}" if digits is not None else number(round(x, 12) if abs(x) >= 100 else x)

    if half is None or (isinstance(half, float) and math.isnan(half)):
        return fmt(value)
    return f"{fmt(value)} ± {fmt(half)}"


def probability(p: float | None, half: float | None = None, samples: int | None = None) -> str:
    """A probability with its 95% half-width ("0.462 ± 0.007"). At exactly 0 or 1 from `samples`
    draws the half-width says nothing, so the rule of three bounds it instead."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    if samples and p <= 0:
        return f"0 (below {3 / samples:.1g})"
    if samples and p >= 1:
        return f"1 (above {1 - 3 / samples:.4g})"
    if half is None and samples:
        half = Z95 * math.sqrt(p * (1 - p) / samples)
    return f"{p:.3f}" if half is None else f"{p:.3f} ± {half:.3f}"


def percent(p: float | None, half: float | None = None) -> str:
    """A probability as a percentage with its 95% half-width: "55% ± 1.6%"."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return f"{p:.0%}" if half is None else f"{p:.0%} ± {half:.1%}"


def binomial_half_width(p: float, samples: int) -> float:
    """95% half-width of a proportion p estimated from `samples` independent draws."""
    return Z95 * math.sqrt(max(p * (1 - p), 0.0) / samples)


def amount(x: float | None, unit: str) -> str:
    """A quantity with its unit: "40,454 value points", "12 person-months"."""
    return f"{number(x)} {unit}".rstrip()

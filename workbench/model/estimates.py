"""The estimate-cell grammar: parse `2.5k`, `200..800`, `pert(1, 2, 4)`, `high`, ... into distributions.

Grammar (case-insensitive, whitespace ignored):

    cell   := call | atom ['..' atom]
    call   := NAME '(' atom {',' atom} ')'       NAME in pert, tri, uniform, normal, beta
    atom   := ['-'] NUMBER [k|m|b|%] | WORD      WORD is an impact or confidence word

A range `a..b` is a 90% interval (5th and 95th percentiles): lognormal for reach, impact and
effort, logit-normal for confidence (which must stay inside 0..100%). Parsing is a hand-written
tokenizer and recursive descent: nothing from a cell is ever evaluated as code.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
from scipy import special

from ..errors import clip, lookalike_problem, quote
from ..limits import MAX_MESSAGE_VALUE
from .distributions import FAMILIES, Z95, Family

FACTORS = ("reach", "impact", "confidence", "effort")

IMPACT_WORDS = {"massive": 3.0, "high": 2.0, "medium": 1.0, "low": 0.5, "minimal": 0.25}
CONFIDENCE_WORDS = {"high": 1.0, "medium": 0.8, "low": 0.5}
WORDS = {"impact": IMPACT_WORDS, "confidence": CONFIDENCE_WORDS}

SUFFIXES = {"k": 1e3, "m": 1e6, "b": 1e9, "bn": 1e9, "%": 0.01}
FUNCTIONS = {"pert": ("pert", ("min", "mode", "max")), "tri": ("tri", ("min", "mode", "max")),
             "triangular": ("tri", ("min", "mode", "max")), "uniform": ("uniform", ("a", "b")),
             "normal": ("normal", ("mean", "sd")), "beta": ("beta", ("a", "b"))}
# Mass a truncated normal may lose at a factor's bound before we refuse it.
NORMAL_TAIL_TOLERANCE = 1e-6
# Larger numbers make the inverse CDFs overflow (tri squares its widths); no real estimate needs them.
MAX_NUMBER = 1e100

EXPECTED = ("a number (500, 2.5k, 1.2M, 80%), a 90% range (200..800), "
            "or pert(min, mode, max), tri(min, mode, max), uniform(a, b), normal(mean, sd), beta(a, b)")


class EstimateError(ValueError):
    """A cell that is not a valid estimate; the message says what was expected."""


@dataclass(frozen=True)
class Estimate:
    """One uncertain quantity: a distribution family, its parameters and the text it came from."""

    family: str
    params: tuple[float, ...]
    text: str = ""

    @property
    def dist(self) -> type[Family]:
        return FAMILIES[self.family]

    @property
    def is_point(self) -> bool:
        return self.family == "point"

    def median(self) -> float:
        return float(self.dist.median(*self.params))

    def mean(self) -> float:
        return float(self.dist.mean(*self.params))

    def ppf(self, u) -> np.ndarray:
        return self.dist.ppf(np.asarray(u, float), *self.params)

    def cdf(self, x) -> np.ndarray:  # P(X <= x): the probability integral transform of an actual
        return self.dist.cdf(np.asarray(x, float), *self.params)

    def support(self) -> tuple[float, float]:
        lo, hi = self.dist.support(*self.params)
        return float(lo), float(hi)

    def __str__(self) -> str:
        return self.text or f"{self.family}{self.params}"


def number_text(value: float, whole: bool = False) -> str:
    """The exact, shortest text of a number, which parses back to the same float (never `:g`, which
    turns 1234567 into 1.23457e+06): whole numbers without ".0", others as `repr`.

    whole: a number that becomes an id or a text cell (an .xlsx id typed as 12345678901234568) is
    written with all its digits, also from 1e16 up, where `repr` switches to 1.2345678901234568e+16.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    value = float(value)
    if value.is_integer() and (abs(value) < 1e16 or (whole and abs(value) < MAX_NUMBER)):
        return str(int(value))
    return repr(value)


def shown_number(value: int | float) -> str:
    """A number as a message shows it: quoted, or "a 401-digit number" for an integer too long to quote
    (str() of a huge int is slow, and refused beyond 4,300 digits)."""
    if isinstance(value, int) and not isinstance(value, bool) and not abs(value) < 10**MAX_MESSAGE_VALUE:
        return f"a {int(math.log10(abs(value))) + 1}-digit number"
    return quote(value)


def number_problem(value: int | float) -> str | None:
    """Why a typed number (an .xlsx or YAML cell, a JSON setting) cannot be used, or None: it must be
    finite and below 1e100 (`MAX_NUMBER`), as any number written in text must be. The one check
    estimates, settings and the portfolio validator share."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value!r} is not a finite number"
    # abs() first: exact for ints of any size, so float() cannot overflow; then as the text would parse.
    if not (abs(value) < MAX_NUMBER and abs(float(value)) < MAX_NUMBER):
        return f"{shown_number(value)} is too large; numbers must be below 1e100"
    return None


def point(value: float) -> Estimate:
    return Estimate("point", (float(value),), number_text(value))


def lognormal_interval(lo: float, hi: float, text: str = "") -> Estimate:
    """Lognormal with `lo` and `hi` on its 5th and 95th percentiles."""
    mu = (math.log(lo) + math.log(hi)) / 2
    sigma = (math.log(hi) - math.log(lo)) / (2 * Z95)
    return Estimate("lognormal", (mu, sigma), text or f"{number_text(lo)}..{number_text(hi)}")


def _logitnormal_interval(lo: float, hi: float, text: str) -> Estimate:
    mu = (special.logit(lo) + special.logit(hi)) / 2
    sigma = (special.logit(hi) - special.logit(lo)) / (2 * Z95)
    return Estimate("logitnormal", (float(mu), float(sigma)), text)


# --- tokenizer ---------------------------------------------------------------------------
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<range>\.\.)
      | (?P<number>(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?)(?:\s*(?P<suffix>%)|(?P<mult>bn|[kmb])(?![a-z_]))?
      | (?P<word>[a-z_][a-z_']*)
      | (?P<punct>[(),\-])
    )""",
    re.VERBOSE | re.IGNORECASE,
)


@dataclass
class _Tok:
    kind: str  # number, word, range, or the punctuation character itself
    value: object
    text: str


def _tokenize(text: str) -> list[_Tok]:
    lookalike = lookalike_problem(text)
    if lookalike:
        raise EstimateError(lookalike)
    tokens, pos = [], 0
    stripped = text.rstrip()
    while pos < len(stripped):
        m = _TOKEN.match(stripped, pos)
        if not m or m.end() == pos:
            bad = stripped[pos:].lstrip()[:1]
            hint = " (write numbers without thousands separators or decimal commas)" if bad == "," else ""
            raise EstimateError(f"unexpected character {bad!r}{hint}; expected {EXPECTED}")
        pos = m.end()
        if m["range"]:
            tokens.append(_Tok("range", None, ".."))
        elif m["number"]:
            value = float(m["number"])
            scale = m["suffix"] or m["mult"]
            if scale:
                value *= SUFFIXES[scale.lower()]
            if not value < MAX_NUMBER:  # also catches inf (1e999)
                raise EstimateError(f"{quote(m.group(0).strip())} is too large; numbers must be below 1e100")
            tokens.append(_Tok("number", value, m.group(0).strip()))
        elif m["word"]:
            tokens.append(_Tok("word", m["word"].lower(), m["word"]))
        else:
            tokens.append(_Tok(m["punct"], None, m["punct"]))
    return tokens


# --- parser ------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str, factor: str | None):
        self.text, self.factor = text, factor
        self.tokens = _tokenize(text)
        self.i = 0

    def peek(self, kind: str | None = None) -> _Tok | None:
        tok = self.tokens[self.i] if self.i < len(self.tokens) else None
        return tok if tok is not None and (kind is None or tok.kind == kind) else None

    def take(self, kind: str, expected: str) -> _Tok:
        tok = self.peek(kind)
        if tok is None:
            found = self.peek()
            where = f"found {quote(found.text)}" if found else "the cell ends"
            raise EstimateError(f"expected {expected} but {where}")
        self.i += 1
        return tok

    def atom(self) -> float:
        negative = self.peek("-") is not None
        if negative:
            self.i += 1
        tok = self.peek()
        if tok is not None and tok.kind == "number":
            self.i += 1
            return -tok.value if negative else tok.value
        if tok is not None and tok.kind == "word" and not negative:
            self.i += 1
            return self.word(tok.value)
        raise EstimateError(f"expected a number but found {quote(tok.text)}" if tok else "expected a number")

    def word(self, word: str) -> float:
        vocabulary = WORDS.get(self.factor, {})
        if word in vocabulary:
            return vocabulary[word]
        if vocabulary:
            words = ", ".join(f"{w} ({v:g})" for w, v in vocabulary.items())
            raise EstimateError(f"unknown {self.factor} word {quote(word)}; expected a number or one of {words}")
        raise EstimateError(f"{quote(word)} is not a number; expected {EXPECTED}")

    def cell(self) -> Estimate:
        if not self.tokens:
            raise EstimateError(f"the cell is empty; expected {EXPECTED}")
        first = self.peek()
        if first.kind == "word" and self.i + 1 < len(self.tokens) and self.tokens[1].kind == "(":
            est = self.call(first.value)
        else:
            lo = self.atom()
            if self.peek("range"):
                self.i += 1
                est = self.range(lo, self.atom())
            else:
                est = Estimate("point", (lo,), self.text.strip())
        rest = self.peek()
        if rest is not None:
            raise EstimateError(self.trailing_hint(rest))
        return est

    def trailing_hint(self, rest: _Tok) -> str:
        kinds = [t.kind for t in self.tokens]
        if kinds == ["number", "-", "number"]:
            a, b = clip(self.tokens[0].text), clip(self.tokens[2].text)
            digits = re.match(r"\d+(\.\d+)?", b)  # '2-4k' means 2k to 4k, '50-80%' 50% to 80%: the high end's scale
            scaled = digits and b != digits[0] and re.fullmatch(r"\d+(\.\d+)?", a) and float(a) < float(digits[0])
            if scaled and self.factor == "effort" and b[digits.end():] == "m":  # '2-3m': months, not millions
                b = digits[0]
            a += b[digits.end():] if scaled else ""
            if self.tokens[0].value < self.tokens[2].value or scaled:
                return f"{quote(self.text.strip())} is not an estimate; for a 90% range write {a}..{b}"
            return (f"{quote(self.text.strip())} is not an estimate; a 90% range is written low..high with the "
                    f"low end first (e.g. {b}..{a})")
        if rest.kind == ",":
            return (f"{quote(self.text.strip())} contains a comma; write numbers without thousands separators "
                    f"or decimal commas (1200 or 1.2k, not 1,200; 2.5, not 2,5)")
        if rest.kind == "word" and rest.value == "to":
            return f"for a 90% range write low..high (e.g. 200..800), not {quote(self.text.strip())}"
        return f"unexpected {quote(rest.text)} after the estimate; expected {EXPECTED}"

    def call(self, name: str) -> Estimate:
        if name not in FUNCTIONS:
            known = ", ".join(f"{k}()" for k in ("pert", "tri", "uniform", "normal", "beta"))
            raise EstimateError(f"unknown distribution {quote(name)}; expected one of {known}")
        family, arg_names = FUNCTIONS[name]
        signature = f"{name}({', '.join(arg_names)})"
        self.i += 2  # NAME and '('
        args = []
        while True:
            if self.peek(")") and not args:
                break
            try:
                args.append(self.atom())
            except EstimateError as e:
                raise EstimateError(f"{signature}: {e}") from None
            if self.peek(","):
                self.i += 1
                continue
            break
        self.take(")", f"')' to close {signature}")
        if len(args) != len(arg_names):
            raise EstimateError(f"{signature} takes {len(arg_names)} numbers, got {len(args)}")
        return _make(family, args, signature, self.text.strip())

    def range(self, lo: float, hi: float) -> Estimate:
        text = self.text.strip()
        if not lo < hi:
            raise EstimateError(f"range {quote(text)}: the low end must be below the high end (got {lo:g} >= {hi:g})")
        if self.factor == "confidence":
            if not (0 < lo and hi < 1):
                raise EstimateError(
                    f"confidence range {quote(text)} (= {lo * 100:g}%..{hi * 100:g}%) "
                    f"must lie strictly inside 0%..100% "
                    f"(it is a logit-normal 90% interval); use pert(min, mode, max) or uniform(a, b) "
                    f"to reach 0% or 100%"
                )
            return _logitnormal_interval(lo, hi, text)
        if lo <= 0:
            raise EstimateError(
                f"range {quote(text)}: the low end must be > 0 (a range is a lognormal 90% interval); "
                f"for a range that includes 0 use uniform({lo:g}, {hi:g}) or pert({lo:g}, mode, {hi:g})"
            )
        return lognormal_interval(lo, hi, text)


def _make(family: str, args: list[float], signature: str, text: str) -> Estimate:
    if family in ("pert", "tri"):
        lo, mode, hi = args
        if not lo < hi:
            raise EstimateError(f"{signature}: min must be below max (got min {lo:g}, max {hi:g})")
        if not lo <= mode <= hi:
            raise EstimateError(f"{signature}: mode must lie between min and max (got {lo:g}, {mode:g}, {hi:g})")
        return Estimate(family, (lo, mode, hi), text)
    if family == "uniform":
        lo, hi = args
        if not lo < hi:
            raise EstimateError(f"{signature}: a must be below b (got {lo:g}, {hi:g})")
        return Estimate(family, (lo, hi), text)
    if family == "normal":
        mean, sd = args
        if not sd > 0:
            raise EstimateError(f"{signature}: sd must be > 0 (got {sd:g})")
        return Estimate(family, (mean, sd, -math.inf, math.inf), text)
    a, b = args  # beta
    if not (a > 0 and b > 0):
        raise EstimateError(f"{signature}: a and b must be > 0 (got {a:g}, {b:g})")
    return Estimate(family, (a, b), text)


# --- validation against the factor's domain ------------------------------------------------
_BOUNDS = {  # factor: (lower bound, lower bound allowed?, upper bound)
    "reach": (0.0, True, math.inf),
    "impact": (0.0, True, math.inf),
    "confidence": (0.0, False, 1.0),
    "effort": (0.0, False, math.inf),
}
_DOMAIN = {
    "reach": "reach must be >= 0",
    "impact": "impact must be >= 0",
    "confidence": "confidence must be > 0% and <= 100%",
    "effort": "effort must be > 0",
}


def _validate(est: Estimate, factor: str) -> Estimate:
    lo_bound, lo_inclusive, hi_bound = _BOUNDS[factor]
    domain = _DOMAIN[factor]
    if est.family == "normal":
        return _check_computable(_truncate_normal(est, factor), factor)
    lo, hi = est.support()
    if est.is_point:
        value = lo
        ok = (value >= lo_bound if lo_inclusive else value > lo_bound) and value <= hi_bound
        if not ok:
            hint, got = "", f"{value:g}"
            if factor == "confidence" and "%" in est.text:
                got = f"{value * 100:g}%"
            elif factor == "confidence" and 1 < value <= 100:
                hint = f"; write {value:g}% or {value / 100:g}"
            raise EstimateError(f"{domain} (got {got}){hint}")
        return est
    # A continuous distribution may touch a bound (P = 0 there) except effort, where values
    # near 0 make 1/effort explode: effort needs its whole support strictly above 0.
    strict_low = factor == "effort" and not est.dist.open_below
    if lo < lo_bound or (strict_low and lo <= lo_bound) or hi > hi_bound:
        what = f"{quote(est.text)} can take values from {lo:g} to {hi:g}"
        raise EstimateError(f"{domain} for every value the estimate can take, but {what}")
    return _check_computable(est, factor)


# The simulation clips its uniforms to [1e-12, 1 - 1e-12]; the inverse CDF must stay finite
# (and effort above 0) over that whole range, or scores become inf or nan.
_EDGE_U = np.array([1e-12, 0.5, 1 - 1e-12])


def _check_computable(est: Estimate, factor: str | None) -> Estimate:
    with np.errstate(all="ignore"):
        values = est.ppf(_EDGE_U)
        mean = est.mean()
    if not (np.all(np.isfinite(values)) and math.isfinite(mean)):
        raise EstimateError(f"{quote(est.text)} is too extreme to compute with: its values or its mean overflow "
                            f"floating point; use a narrower estimate or other units")
    if factor == "effort" and not np.all(values > 0):
        raise EstimateError(f"{_DOMAIN[factor]}, but {quote(est.text)} has values that round to 0; "
                            f"use a narrower estimate or other units")
    return est


def _truncate_normal(est: Estimate, factor: str) -> Estimate:
    mean, sd, _, _ = est.params
    lo_bound, _, hi_bound = _BOUNDS[factor]
    tail = special.ndtr((lo_bound - mean) / sd) + special.ndtr((mean - hi_bound) / sd)
    if tail > NORMAL_TAIL_TOLERANCE:
        raise EstimateError(f"{_DOMAIN[factor]}, but {quote(est.text)} puts {tail:.2%} of its mass outside; "
                            + _normal_suggestion(factor, mean, sd))
    return Estimate("normal", (mean, sd, lo_bound, hi_bound), est.text)


def _normal_suggestion(factor: str, mean: float, sd: float) -> str:
    if factor == "confidence":
        return "use beta(a, b), pert(min, mode, max) or a range like 60%..90%"
    if mean > 0:
        lo = max(mean - Z95 * sd, mean / 4)
        hi = mean + Z95 * sd
        return f"use a range such as {_round(lo)}..{_round(hi)} (lognormal, always positive) or pert(min, mode, max)"
    return "use a range low..high with low > 0 (lognormal) or pert(min, mode, max)"


def _round(x: float) -> str:
    return f"{float(f'{x:.2g}'):g}"


def parse_estimate(text: object, factor: str | None) -> Estimate:
    """Parse one cell into an `Estimate` for `factor`, or raise `EstimateError` saying what was expected.

    factor None parses a generic quantity: no factor words, no domain check (only that the
    distribution is computable), so `uniform(-3.14, 3.14)` or `normal(0, 1)` are kept as written.
    """
    if factor is not None and factor not in FACTORS:
        raise ValueError(f"unknown factor {factor!r}; expected one of {', '.join(FACTORS)}")
    if isinstance(text, bool):
        raise EstimateError(f"{text!r} is not a number; expected {EXPECTED}")
    if isinstance(text, (int, float)):  # a number cell (.xlsx, YAML): the checks of a typed number
        return _checked(_number_cell(text), factor)
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise EstimateError(f"{quote(text)} is not an estimate; expected {EXPECTED}")
    return _checked(_Parser(text, factor).cell(), factor)


def _number_cell(value: int | float) -> Estimate:
    """A point estimate from a number cell, with the cap and finiteness a typed number gets, and the
    number's exact text (a saved file gives back the same estimate)."""
    problem = number_problem(value)
    if problem:
        raise EstimateError(f"{problem}; expected {EXPECTED}" if "finite" in problem else problem)
    return Estimate("point", (float(value),), number_text(value))


def _checked(est: Estimate, factor: str | None) -> Estimate:
    return _check_computable(est, None) if factor is None else _validate(est, factor)

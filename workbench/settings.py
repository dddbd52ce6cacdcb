"""`Settings`: one description of an analysis, and the one validator every front end uses.

The CLI's flags, a `--settings FILE.json`, a report template's papermill parameters and the
dashboard's controls all become a `Settings` through `Settings.from_mapping`, so a value is
read, checked and explained the same way wherever it came from. The JSON keys are the CLI's
long option names with underscores (`budget`, `capacities`, `seed`, `lam`, ...).

`Settings.for_portfolio(portfolio)` then checks what depends on the portfolio (team and theme
names, matched case-insensitively and spelled as in the file; top k; edited initiatives) and
resolves the defaults that depend on it (top k = min(5, initiatives)), and refuses work beyond
`workbench.limits` (samples x initiatives, scenarios x initiatives, held draws) before any draw.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from . import limits
from . import setting_values as read
from .engine.sample import METHODS
from .engine.simulation import CONFIDENCE_MODES, DEFAULT_SPREAD, QMC_REPLICATES
from .errors import InputError, Problem, did_you_mean, quote
from .io.table import read_bytes
from .model.estimates import EstimateError, parse_estimate
from .model.portfolio import Portfolio
from .planning.constraints import BUDGET_COLUMNS
from .planning.optimization import OBJECTIVES

# Option names whose setting is named otherwise (mappings in the plural; lambda is a Python keyword).
_ALIASES = {"lambda": "lam", "capacity": "capacities", "theme_share": "theme_shares"}
OVERRIDES = ("in", "out")  # force an initiative into every plan, or out of it
ROADMAPS = ("optimal", "greedy", "yours")  # which roadmap `workbench roadmap` shows


@dataclass(frozen=True)
class Settings:
    """Everything that decides an analysis's numbers besides the portfolio itself.

    Immutable and hashable (a cache key); mappings are kept as sorted tuples of pairs and given
    back as dicts by `capacity`, `theme_share`, `spread_mapping` and `override`.
    edits: (initiative id, factor, estimate text) triples replacing the portfolio's estimates.
    overrides: (initiative id, "in" | "out") pairs: a MoSCoW must / won't for this analysis.
    """

    budget: float | None = None
    budget_column: str = "effort"
    capacities: tuple[tuple[str, float], ...] = ()
    theme_shares: tuple[tuple[str, tuple[float, float]], ...] = ()
    max_count: int | None = None
    effort_quantile: float = 0.5
    objective: str = "mean"
    alpha: float = 0.1
    lam: float = 1.0
    confidence_mode: str = "success"
    spread: tuple[tuple[float, float], ...] = tuple(sorted(DEFAULT_SPREAD.items()))
    method: str = "mc"
    samples: int = 20_000
    scenarios: int = 1_000
    seed: int = 2026
    top_k: int | None = None
    precision: float | None = None
    max_samples: int = 10_000_000
    frontier_points: int | None = None  # a cap on the frontier's solves; None: the complete frontier
    time_limit: float = 60.0
    plan: tuple[str, ...] = ()
    budget_range: str | None = None
    split: str | None = None
    value_unit: str = "value points"
    edits: tuple[tuple[str, str, str], ...] = ()
    overrides: tuple[tuple[str, str], ...] = ()
    # The roadmap across quarters (`workbench.roadmap`); capacities and budget are a quarter's.
    quarters: str | None = None  # FIRST:LAST; None: four quarters from the report's (or the next) quarter
    capacity_table: tuple[tuple[str, str, float], ...] = ()  # (team, quarter, person-months) that differ
    tail_quarters: int = 4
    discount: float = 0.0  # per quarter
    plan_column: str | None = None  # the column of the user's own roadmap; None: planned_quarter
    roadmap: str = "optimal"  # the roadmap shown: optimal, greedy or yours
    starts: tuple[tuple[str, str], ...] = ()  # (initiative id, quarter) forced starts
    earliest_starts: tuple[tuple[str, str], ...] = ()  # (initiative id, quarter) earliest starts
    # Learning from actuals: the calibration.json whose corrections every analysis applies (absolute path).
    calibration: str | None = None

    def __post_init__(self):
        # Dicts and lists are accepted and stored as sorted tuples, so equal settings compare
        # (and hash) equal however they were written.
        for name in ("capacities", "theme_shares", "spread", "overrides", "starts", "earliest_starts"):
            value = getattr(self, name)
            items = value.items() if isinstance(value, dict) else value
            pairs = ((k, tuple(v) if isinstance(v, list) else v) for k, v in items)
            object.__setattr__(self, name, tuple(sorted(pairs, key=lambda kv: kv[0])))
        edits = {(i, f): (i, f, text) for i, f, text in self.edits}  # one per estimate, the last
        object.__setattr__(self, "edits", tuple(sorted(edits.values())))
        object.__setattr__(self, "plan", tuple(self.plan))
        object.__setattr__(self, "capacity_table", tuple(sorted(tuple(row) for row in self.capacity_table)))

    # --- reading ---------------------------------------------------------------------------

    @classmethod
    def from_mapping(cls, values: dict[str, Any], base: Settings | None = None,
                     source: str | None = None) -> Settings:
        """Settings from raw values (text from a command line or papermill, numbers and lists
        from JSON or widgets) over `base`; every problem is reported at once (InputError)."""
        problems, parsed = [], {}
        for key, raw in values.items():
            if key not in FIELDS:
                hint = f"; did you mean {_ALIASES[key]!r}?" if key in _ALIASES else did_you_mean(key, FIELDS)
                problems.append(Problem(f"unknown setting {quote(key)}{hint}", file=source))
                continue
            if raw is None and FIELDS[key].optional:
                parsed[key] = None
                continue
            try:
                parsed[key] = FIELDS[key].parse(raw)
            except ValueError as exc:
                problems.append(Problem(f"{key}: {exc}", file=source))
                continue
            if FIELDS[key].check and (message := FIELDS[key].check(parsed[key])):
                problems.append(Problem(f"{key}: {message}", file=source))
        if problems:
            raise InputError(problems)
        settings = replace(base or cls(), **parsed)
        problems = [Problem(p, file=source) for p in settings.problems()]  # a base built by hand
        if problems:
            raise InputError(problems)
        return settings

    @classmethod
    def from_json(cls, path: str | Path, base: Settings | None = None) -> Settings:
        """Settings from a JSON file written by `to_json` (or by hand): an object of settings."""
        path = Path(path)
        raw = read_bytes(path)  # within limits.MAX_FILE_BYTES, refused unread when larger
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise InputError(Problem(f"not UTF-8 text (byte {exc.start})", file=str(path))) from None
        except json.JSONDecodeError as exc:
            raise InputError(Problem(f"not valid JSON: {exc.msg}", file=str(path), line=exc.lineno)) from None
        if not isinstance(data, dict):
            raise InputError(Problem("expected a JSON object of settings such as {\"budget\": 40}", file=str(path)))
        data.pop("workbench", None)  # the version stamp `to_json` writes
        return cls.from_mapping(data, base, source=str(path))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data; `Settings.from_mapping(s.to_dict()) == s`."""
        out = asdict(self)
        out["capacities"] = dict(self.capacities)
        out["theme_shares"] = {k: list(v) for k, v in self.theme_shares}
        out["spread"] = {f"{c:g}": f for c, f in self.spread}
        out["plan"] = list(self.plan)
        out["edits"] = [{"id": i, "factor": f, "estimate": t} for i, f, t in self.edits]
        out["overrides"] = dict(self.overrides)
        out["capacity_table"] = [{"team": t, "quarter": q, "capacity": c} for t, q, c in self.capacity_table]
        out["starts"] = dict(self.starts)
        out["earliest_starts"] = dict(self.earliest_starts)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    # --- derived views -----------------------------------------------------------------------

    @property
    def capacity(self) -> dict[str, float]:
        return dict(self.capacities)

    @property
    def theme_share(self) -> dict[str, tuple[float, float]]:
        return dict(self.theme_shares)

    @property
    def spread_mapping(self) -> dict[float, float]:
        return dict(self.spread)

    @property
    def override(self) -> dict[str, str]:
        return dict(self.overrides)

    def change(self, **changes) -> Settings:
        """A copy with some settings changed, validated like any other input (InputError)."""
        return Settings.from_mapping(changes, self)

    def with_edit(self, id_: str, factor: str, text: str | None) -> Settings:
        """Set (or, with text None, drop) the edit of one estimate."""
        kept = tuple(e for e in self.edits if (e[0], e[1]) != (id_, factor))
        return replace(self, edits=kept if text is None else (*kept, (id_, factor, text.strip())))

    def with_start(self, id_: str, quarter: str | None, *, earliest: bool = False) -> Settings:
        """Force an initiative to start in a quarter (earliest=True: not before it), or (None) drop it."""
        name = "earliest_starts" if earliest else "starts"
        kept = tuple(o for o in getattr(self, name) if o[0] != id_)
        if quarter is not None:
            kept = (*kept, (id_, read.quarter_text(quarter)))
        return replace(self, **{name: kept})

    def with_override(self, id_: str, override: str | None) -> Settings:
        """Force an initiative "in" or "out" of every plan, or (None) back to its MoSCoW."""
        kept = tuple(o for o in self.overrides if o[0] != id_)
        return replace(self, overrides=kept if override is None else (*kept, (id_, override)))

    # --- checking ----------------------------------------------------------------------------

    def problems(self) -> list[str]:
        """What is wrong with the settings on their own (see `for_portfolio` for the rest)."""
        out = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and FIELDS[f.name].optional:
                continue
            message = FIELDS[f.name].check(value) if FIELDS[f.name].check else None
            if message:
                out.append(f"{f.name}: {message}")
        return out

    def for_portfolio(self, portfolio: Portfolio, *, need_budget: bool = False, plan: bool | None = None) -> Settings:
        """These settings checked against a portfolio and completed: names spelled as in the
        file, top k resolved. Raises InputError listing every problem.

        plan: whether a plan will be chosen (default: need_budget); with a budget, the limits on the
        draws a plan holds (scenarios and samples x initiatives) are checked too."""
        problems = [Problem(p) for p in self.problems()]
        if need_budget and self.budget is None:
            problems.append(Problem("budget: a budget is needed to choose a plan, e.g. --budget 40 "
                                    "(person-months)"))
        n = len(portfolio)
        planning = (need_budget if plan is None else plan) and (need_budget or self.budget is not None)
        top_k = min(5, n) if self.top_k is None else self.top_k
        problems += [Problem(p) for p in self.work_problems(n, planning, top_k)]
        if top_k > n:
            problems.append(Problem(f"top_k: {top_k} is more than the {n} initiatives of the portfolio"))
        teams = sorted({ini.team for ini in portfolio if ini.team})
        themes = sorted({ini.theme for ini in portfolio if ini.theme})
        capacities = read.match_names("capacities", "team", self.capacities, teams, problems)
        theme_shares = read.match_names("theme_shares", "theme", self.theme_shares, themes, problems)
        split = read.match_split(self.split, teams, themes, problems) if self.split else self.split
        ids = set(portfolio.ids)
        for id_, factor, text in self.edits:
            if id_ not in ids:
                problems.append(Problem(f"edits: unknown initiative {quote(id_)}{did_you_mean(id_, ids)}"))
            elif (message := check_estimate(text, factor)) is not None:
                problems.append(Problem(f"edits: {id_} {factor} {quote(text)}: {message}"))
        for id_, _ in self.overrides:
            if id_ not in ids:
                problems.append(Problem(f"overrides: unknown initiative {quote(id_)}{did_you_mean(id_, ids)}"))
        for id_ in self.plan:
            if id_ not in ids:
                problems.append(Problem(f"plan: unknown initiative {quote(id_)}{did_you_mean(id_, ids)}"))
        for name in ("starts", "earliest_starts"):
            given: dict[str, str] = {}
            for id_, quarter in getattr(self, name):
                if id_ not in ids:
                    problems.append(Problem(f"{name}: unknown initiative {quote(id_)}{did_you_mean(id_, ids)}"))
                elif id_ in given:
                    problems.append(Problem(f"{name}: {quote(id_)} is given twice ({given[id_]} and {quarter}); "
                                            "give it once"))
                given[id_] = quarter
        table = self.capacity_table
        if table:
            by_lower = {t.lower(): t for t in teams}
            for team, _, _ in table:
                if team.strip().lower() not in by_lower:
                    problems.append(Problem(f"capacity_table: no initiative belongs to team {quote(team)}"
                                            f"{did_you_mean(team, teams)} (teams: {', '.join(teams) or 'none'})"))
            table = tuple(sorted((by_lower[t.strip().lower()], q, c) for t, q, c in table
                                 if t.strip().lower() in by_lower))
        if problems:
            raise InputError(problems)
        return replace(self, top_k=top_k, capacities=capacities, theme_shares=theme_shares, split=split,
                       capacity_table=table)

    def work_problems(self, n: int, plan: bool, top_k: int = 5) -> list[str]:
        """What these settings would draw or hold beyond `workbench.limits` for n initiatives."""
        out = []
        # Ranks counted: n x top k, once per replicate (sobol and lhs run QMC_REPLICATES of them).
        reps = 1 if self.method == "mc" else QMC_REPLICATES
        if n * n > limits.MAX_RANK_MATRIX and reps * top_k * n > limits.MAX_RANK_MATRIX:
            each = f" x {reps} replicates ({self.method})" if reps > 1 else ""
            out.append(_over("top_k", f"P(top {top_k:,}) counts {top_k:,} ranks x {n:,} initiatives{each}",
                             reps * top_k * n, limits.MAX_RANK_MATRIX, "MAX_RANK_MATRIX",
                             f"--top-k {max(1, limits.MAX_RANK_MATRIX // (n * reps)):,} or fewer"))
        if self.samples * n > limits.MAX_DRAWS:
            out.append(_over("samples", f"{self.samples:,} samples x {n:,} initiatives", self.samples * n,
                             limits.MAX_DRAWS, "MAX_DRAWS", f"--samples {limits.MAX_DRAWS // n:,} or fewer"))
        if plan and self.samples * n > limits.MAX_HELD_VALUES:  # a plan is valued on draws held in memory
            out.append(_over("samples", f"a plan holds {self.samples:,} samples x {n:,} initiatives in memory",
                             self.samples * n, limits.MAX_HELD_VALUES, "MAX_HELD_VALUES",
                             f"--samples {limits.MAX_HELD_VALUES // n:,} or fewer"))
        if plan and self.scenarios * n > limits.MAX_SCENARIO_VALUES:
            out.append(_over("scenarios", f"{self.scenarios:,} scenarios x {n:,} initiatives", self.scenarios * n,
                             limits.MAX_SCENARIO_VALUES, "MAX_SCENARIO_VALUES",
                             f"--scenarios {limits.MAX_SCENARIO_VALUES // n:,} or fewer"))
        return out


def _over(setting: str, what: str, value: int, limit: int, name: str, fix: str) -> str:
    return f"{setting}: {what} = {value:,} values, over the limit of {limit:,} (limits.{name}); use {fix}"


def check_estimate(text: str, factor: str) -> str | None:
    """None when `text` is a valid estimate of `factor`, else the message saying what is expected."""
    try:
        parse_estimate(text, factor)
    except EstimateError as exc:
        return str(exc)
    return None


def load_settings(path: str | Path | None = None, **overrides) -> Settings:
    """Settings from a JSON file (if any), with `overrides` (raw values) on top."""
    base = Settings.from_json(path) if path else Settings()
    return Settings.from_mapping(overrides, base) if overrides else base


# --- the declarative part: how each setting is read and what it must be ----------------------------


@dataclass(frozen=True)
class Field:
    """How one setting is read from text or JSON (`parse`), and what it must be (`check`)."""

    parse: Callable[[Any], Any]
    check: Callable[[Any], str | None] | None = None
    optional: bool = False  # None is a valid value (no limit, not set)


def _at_least(low: float, what: str = "") -> Callable[[Any], str | None]:
    return lambda v: None if v >= low else f"must be at least {low:g}{what}, got {v:g}"


def _positive(v: float) -> str | None:
    return None if v > 0 else f"must be > 0, got {v:g}"


def _at_most(high: int, name: str) -> Callable[[Any], str | None]:
    return lambda v: None if v <= high else f"{v:,} is over the limit of {high:,} (limits.{name})"


def _between(low: int, high: int, name: str) -> Callable[[Any], str | None]:
    return lambda v: _at_least(low)(v) or _at_most(high, name)(v)


def _entries(pairs: tuple) -> str | None:
    if len(pairs) > limits.MAX_CAPACITY_ENTRIES:
        return (f"{len(pairs):,} entries, over the limit of {limits.MAX_CAPACITY_ENTRIES:,} "
                "(limits.MAX_CAPACITY_ENTRIES)")
    return None


def _check_capacities(pairs: tuple) -> str | None:
    if message := _entries(pairs):
        return message
    bad = [f"{k}={v:g}" for k, v in pairs if v < 0]
    return f"a capacity must be >= 0, got {', '.join(bad)}" if bad else None


def _check_shares(pairs: tuple) -> str | None:
    if message := _entries(pairs):
        return message
    bad = [f"{k}={lo:g}:{hi:g}" for k, (lo, hi) in pairs if not 0 <= lo <= hi <= 1]
    return f"a share must be LO:HI with 0 <= LO <= HI <= 1, got {', '.join(bad)}" if bad else None


def _check_spread(pairs: tuple) -> str | None:
    if not pairs or any(not 0 <= c <= 1 or not f >= 1 for c, f in pairs):
        return "needs confidence levels in [0, 1] with factors >= 1 (×/÷ of the 90% interval), e.g. {\"0.8\": 1.5}"
    return None


def _check_budget_range(text: str) -> str | None:
    from .sensitivity.sweeps import budget_range  # the sweep owns the A:B:STEP grammar

    try:
        budget_range(text)
    except InputError as exc:
        return "; ".join(p.message for p in exc.problems)
    return None


def _check_calibration(path: str | None) -> str | None:
    """The calibration file must load without problems (`calibration.load_calibration`, cached)."""
    if path is None:
        return None
    from .calibration.calibration_file import load_calibration  # only when a calibration is given

    try:
        load_calibration(path)
    except InputError as exc:
        return "; ".join(str(p) for p in exc.problems)
    except OSError as exc:
        return f"cannot read {quote(path)}: {exc.strerror or exc}"
    return None


FIELDS: dict[str, Field] = {
    "budget": Field(read.amount, _positive, optional=True),
    "budget_column": Field(read.choice(BUDGET_COLUMNS)),
    "capacities": Field(read.pairs(read.amount, "Payments=12,Growth=8"), _check_capacities),
    "theme_shares": Field(read.pairs(read.share, "Growth=0.3:0.6"), _check_shares),
    "max_count": Field(read.whole, _at_least(1), optional=True),
    "effort_quantile": Field(read.fraction, lambda v: None if 0 < v < 1 else
                             f"must be between 0 and 1 (e.g. 0.5 or 0.8), got {v:g}"),
    "objective": Field(read.choice(OBJECTIVES)),
    "alpha": Field(read.fraction, lambda v: None if 0 < v <= 1 else
                   f"must be in (0, 1], e.g. 0.1 for the worst 10% of scenarios; got {v:g}"),
    "lam": Field(read.amount, lambda v: None if v >= 0 else f"the weight of CVaR must be >= 0, got {v:g}"),
    "confidence_mode": Field(read.choice(CONFIDENCE_MODES)),
    "spread": Field(read.pairs(read.amount, "0.8=1.5,0.5=3"), _check_spread),
    "method": Field(read.choice(METHODS)),
    "samples": Field(read.whole, _between(100, limits.MAX_DRAWS, "MAX_DRAWS")),
    "scenarios": Field(read.whole, _between(10, limits.MAX_SCENARIO_VALUES, "MAX_SCENARIO_VALUES")),
    "seed": Field(read.whole, _at_least(0)),
    "top_k": Field(read.whole, _at_least(1), optional=True),
    "precision": Field(read.fraction, lambda v: None if 0 < v < 0.5 else
                       f"a probability half-width between 0 and 0.5 (e.g. 0.01), got {v:g}", optional=True),
    "max_samples": Field(read.whole, _between(100, limits.MAX_DRAWS, "MAX_DRAWS")),
    "frontier_points": Field(read.whole, _between(2, limits.MAX_SWEEP_POINTS, "MAX_SWEEP_POINTS"), optional=True),
    "time_limit": Field(read.amount, _positive),
    "plan": Field(read.ids),
    "budget_range": Field(read.text, _check_budget_range, optional=True),
    "split": Field(read.text, lambda v: None if v else "name a theme or team", optional=True),
    "value_unit": Field(read.text, lambda v: None if 0 < len(v) <= 60 else "needs 1 to 60 characters"),
    "edits": Field(read.edits),
    "overrides": Field(read.pairs(read.choice(OVERRIDES), "checkout=in", limits.MAX_INITIATIVES, "MAX_INITIATIVES"),
                       None),
}
FIELDS.update({
    "quarters": Field(read.horizon, optional=True),
    "capacity_table": Field(read.capacity_rows, lambda rows: next(
        (f"a capacity must be >= 0, got {t} {q} = {c:g}" for t, q, c in rows if c < 0), None)),
    "tail_quarters": Field(read.whole, _between(0, 40, "MAX_HORIZON")),
    "discount": Field(read.fraction, lambda v: None if 0 <= v < 1 else
                      f"a discount rate a quarter between 0 and 1 (e.g. 0.02 or 2%), got {v:g}"),
    "plan_column": Field(read.text, lambda v: None if v else "name the column of your roadmap's start quarters",
                         optional=True),
    "roadmap": Field(read.choice(ROADMAPS)),
    "starts": Field(read.pairs(read.quarter_text, "checkout=2027Q2", limits.MAX_INITIATIVES, "MAX_INITIATIVES")),
    "earliest_starts": Field(read.pairs(read.quarter_text, "checkout=2027Q2", limits.MAX_INITIATIVES,
                                        "MAX_INITIATIVES")),
})
FIELDS["calibration"] = Field(read.file_path, _check_calibration, optional=True)
# Spread keys are confidence levels: read them as fractions too ("80%" or "0.8").
FIELDS["spread"] = Field(lambda v: tuple((read.fraction(k), f) for k, f in read.pairs(read.amount, "0.8=1.5,0.5=3")(v)),
                         _check_spread)
assert set(FIELDS) == {f.name for f in fields(Settings)}, "every setting needs a Field"

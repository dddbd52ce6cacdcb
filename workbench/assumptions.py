"""The assumptions of a strategy session: budget, capacities, risk preference, sampling and edits.

`Assumptions` is plain, hashable data shared by the dashboard, saved scenarios and reports.
`apply_assumptions` turns a portfolio and its assumptions into the portfolio the engine runs on;
`check_estimate` validates one edited cell and returns a message instead of raising.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace

from .errors import InputError, Problem
from .estimates import FACTORS, EstimateError, parse_estimate
from .optimization import OBJECTIVES
from .portfolio import Portfolio
from .simulation import CONFIDENCE_MODES, DEFAULT_SPREAD

OVERRIDES = ("in", "out")  # force an initiative into every plan, or out of it


@dataclass(frozen=True)
class Assumptions:
    """Everything a strategy session can change, as immutable data (usable as a cache key).

    edits: (initiative id, factor, estimate text) triples replacing the portfolio's estimates.
    overrides: (initiative id, "in" | "out") pairs, a MoSCoW must / won't for this session.
    """

    budget: float
    capacities: tuple[tuple[str, float], ...] = ()
    confidence_mode: str = "success"
    objective: str = "mean"
    alpha: float = 0.1
    lam: float = 1.0
    samples: int = 20_000
    seed: int = 2026
    spread: tuple[tuple[float, float], ...] = tuple(sorted(DEFAULT_SPREAD.items()))
    top_k: int = 5
    edits: tuple[tuple[str, str, str], ...] = ()
    overrides: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self):
        # Dicts and lists are accepted and stored as sorted tuples, so equal assumptions compare
        # (and hash) equal however they were written.
        for name in ("capacities", "spread"):
            value = getattr(self, name)
            items = value.items() if isinstance(value, dict) else value
            object.__setattr__(self, name, tuple(sorted(((k, v) for k, v in items), key=lambda kv: kv[0])))
        # One edit per (initiative, factor) and one override per initiative, the last one written.
        edits = {(i, f): (i, f, text) for i, f, text in self.edits}
        object.__setattr__(self, "edits", tuple(sorted(edits.values())))
        object.__setattr__(self, "overrides", tuple(sorted(dict(map(tuple, self.overrides)).items())))

    @classmethod
    def default_for(cls, portfolio: Portfolio, **changes) -> "Assumptions":
        """Half the portfolio's total median effort as the budget, no capacities, defaults elsewhere."""
        total = sum(ini.effort.median() for ini in portfolio)
        changes.setdefault("top_k", min(5, len(portfolio)))
        changes.setdefault("budget", float(max(1, round(total / 2))))
        return cls(**changes)

    @property
    def capacity(self) -> dict[str, float]:
        return dict(self.capacities)

    @property
    def spread_mapping(self) -> dict[float, float]:
        return dict(self.spread)

    def change(self, **changes) -> "Assumptions":
        """A copy with some fields changed; dicts are accepted for capacities and spread."""
        return replace(self, **changes)

    def with_edit(self, id_: str, factor: str, text: str | None) -> "Assumptions":
        """Set (or, with text None, drop) the edit of one estimate."""
        kept = tuple(e for e in self.edits if (e[0], e[1]) != (id_, factor))
        return replace(self, edits=kept if text is None else (*kept, (id_, factor, text.strip())))

    def with_override(self, id_: str, override: str | None) -> "Assumptions":
        """Force an initiative "in" or "out" of every plan, or (None) back to its MoSCoW."""
        kept = tuple(o for o in self.overrides if o[0] != id_)
        return replace(self, overrides=kept if override is None else (*kept, (id_, override)))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> "Assumptions":
        return cls(**json.loads(text))


def check_estimate(text: str, factor: str) -> str | None:
    """None when `text` is a valid estimate of `factor`, else the message saying what is expected."""
    try:
        parse_estimate(text, factor)
    except EstimateError as exc:
        return str(exc)
    return None


def check_assumptions(portfolio: Portfolio, a: Assumptions) -> list[Problem]:
    """Every problem with the assumptions, each naming the setting, the value and what was expected."""
    problems = []

    def bad(message: str) -> None:
        problems.append(Problem(message))

    if not a.budget > 0:
        bad(f"budget must be > 0, got {a.budget:g}")
    teams = {ini.team for ini in portfolio if ini.team}
    for team, cap in a.capacities:
        if team not in teams:
            bad(f"capacity for unknown team {team!r}; teams are {', '.join(sorted(teams)) or 'none'}")
        elif not cap >= 0:
            bad(f"capacity of {team} must be >= 0, got {cap:g}")
    if a.confidence_mode not in CONFIDENCE_MODES:
        bad(f"confidence mode {a.confidence_mode!r}: expected one of {', '.join(CONFIDENCE_MODES)}")
    if a.objective not in OBJECTIVES:
        bad(f"objective {a.objective!r}: expected one of {', '.join(OBJECTIVES)}")
    if not 0 < a.alpha <= 1:
        bad(f"alpha must be in (0, 1], e.g. 0.1 for the worst 10% of scenarios; got {a.alpha:g}")
    if not a.lam >= 0:
        bad(f"lambda must be >= 0, got {a.lam:g}")
    if not (isinstance(a.samples, int) and a.samples >= 100):
        bad(f"samples must be a whole number of at least 100, got {a.samples!r}")
    if not (isinstance(a.seed, int) and a.seed >= 0):
        bad(f"seed must be a whole number >= 0, got {a.seed!r}")
    if not 1 <= a.top_k <= len(portfolio):
        bad(f"top k must be between 1 and {len(portfolio)}, got {a.top_k}")
    if not a.spread or any(not f >= 1 or not 0 <= c <= 1 for c, f in a.spread):
        bad("the spread mapping needs confidence levels in [0, 1] with factors >= 1 (x/÷ of the 90% interval)")
    ids = set(portfolio.ids)
    for id_, factor, text in a.edits:
        if id_ not in ids:
            bad(f"edit of unknown initiative {id_!r}")
        elif factor not in FACTORS:
            bad(f"{id_}: unknown factor {factor!r}; expected one of {', '.join(FACTORS)}")
        elif (message := check_estimate(text, factor)) is not None:
            bad(f"{id_} {factor} {text!r}: {message}")
    for id_, override in a.overrides:
        if id_ not in ids:
            bad(f"override of unknown initiative {id_!r}")
        elif override not in OVERRIDES:
            bad(f"{id_}: override {override!r}; expected one of {', '.join(OVERRIDES)}")
    return problems


def apply_assumptions(portfolio: Portfolio, a: Assumptions) -> Portfolio:
    """The portfolio with the edits and overrides applied; raises InputError listing every problem."""
    problems = check_assumptions(portfolio, a)
    if problems:
        raise InputError(problems)
    edits: dict[str, dict] = {}
    for id_, factor, text in a.edits:
        edits.setdefault(id_, {})[factor] = parse_estimate(text, factor)
    for id_, override in a.overrides:
        edits.setdefault(id_, {})["moscow"] = "must" if override == "in" else "won't"
    if not edits:
        return portfolio
    return portfolio.with_initiatives(replace(ini, **edits[ini.id]) if ini.id in edits else ini
                                      for ini in portfolio)

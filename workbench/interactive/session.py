"""Saved scenarios of a strategy session: name a set of settings, compare two, export one.

    book = ScenarioBook(engine)
    book.save("base", settings); book.save("lean", settings.change(budget=30))
    diff = book.compare("base", "lean")        # plans, values, rank changes, what differs
    book.export("lean", "lean.yaml")           # the portfolio as the scenario sees it + lean.settings.json
    book.report("lean", "reports", quarter="2026Q4")  # the quarterly report of that scenario

An exported scenario is self-contained and reproduces the session's numbers exactly: the file
holds the portfolio with the scenario's edits and overrides applied, `<stem>.settings.json` the
rest of its settings (without the edits and overrides, already in the file). The same pipeline
draws the same samples from them (draws are keyed by seed, purpose and initiative ids), so
`workbench report quarterly --portfolio lean.yaml --settings lean.settings.json` funds the same
initiatives with the same expected value as the session, digit for digit.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..io import correlations_path, save_portfolio, write_atomic
from ..model.portfolio import Portfolio
from ..pipeline import LiveEngine, Outcome, apply_settings
from ..planning.plans import objective_terms
from ..settings import Settings
from ..views.format import evaluated_on_sentence, half_width

_NAME = re.compile(r"\S(.{0,58}\S)?")
DIFFERENCE = "second − first"  # the sign convention of the comparison's difference column
DIFFERENCE_PM = "± (second − first)"
# Column labels of the comparison tables: a scenario named like one would overwrite it.
_RESERVED = {"id", "name", "initiative", "change", "metric", "difference", "setting", "moves up by",
             DIFFERENCE, DIFFERENCE_PM}
# Settings compared one by one in `compare`; mappings and the edits are compared item by item.
_MAPPINGS = {"capacities", "theme_shares", "spread", "edits", "overrides"}


@dataclass
class ScenarioComparison:
    """Two saved scenarios side by side; columns are the scenario names.

    values: metric x (first, ± first, second, ± second, DIFFERENCE, DIFFERENCE_PM). Every ± is a
    95% Monte Carlo half-width. The difference's is paired scenario by scenario when both
    scenarios have as many samples (with the same seed they share their draws, so this is the
    error that matters); otherwise sqrt(h1² + h2²), right for independent runs.
    """

    names: tuple[str, str]
    top_k: int  # of the second scenario; the ranks table's P(top k) uses it for both
    errors: tuple[str | None, str | None]  # why a scenario has no plan (infeasible, solver limit)
    settings: pd.DataFrame  # setting, first, second: only what differs
    values: pd.DataFrame
    plans: pd.DataFrame  # initiatives funded in either, with what changed
    ranks: pd.DataFrame  # expected rank and P(top k) ± 95% in both, largest movers first
    paired: bool  # whether the differences' errors are paired (same number of samples)
    sources: tuple[str | None, str | None] = (None, None)  # where each plan's figures come from, in words
    shared: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["setting", "value"]))
    # the key settings both scenarios share (setting, value), shown beside what differs for context


class ScenarioBook:
    """Named settings of one session, evaluated by the session's engine."""

    def __init__(self, engine: LiveEngine):
        self.engine = engine
        self.saved: dict[str, Settings] = {}

    def save(self, name: str, settings: Settings) -> None:
        """Keep `settings` under `name` (replacing a scenario of that name). Raises ValueError for
        a bad name, InputError for settings that do not fit the portfolio."""
        name = name.strip()
        if not _NAME.fullmatch(name):
            raise ValueError("a scenario name needs 1 to 60 characters, not only spaces")
        if name.lower() in _RESERVED:
            raise ValueError(f"{name!r} is a column of the comparison tables; choose another scenario name")
        self.saved[name] = settings.for_portfolio(self.engine.portfolio)

    def settings(self, name: str) -> Settings:
        """The settings saved under `name` (KeyError naming the saved ones if there is none)."""
        if name not in self.saved:
            raise KeyError(f"no saved scenario {name!r}; saved: {', '.join(self.saved) or 'none'}")
        return self.saved[name]

    def outcome(self, name: str) -> Outcome:
        return self.engine.run(self.settings(name))

    def portfolio(self, name: str) -> Portfolio:
        """The scenario's portfolio: the engine's with the scenario's edits and overrides applied.
        Ranges stay as typed: a calibration stays in the settings (exported with them), so a report
        of the export applies it once, not twice."""
        s = self.settings(name)
        if getattr(s, "calibration", None):
            s = replace(s, calibration=None)
        return apply_settings(self.engine.portfolio, s)

    def exported_settings(self, name: str) -> Settings:
        """The scenario's settings for its exported portfolio: without the edits and overrides,
        which that file already holds."""
        return replace(self.settings(name), edits=(), overrides=())

    def compare(self, first: str, second: str) -> ScenarioComparison:
        if first == second:
            raise ValueError("pick two different scenarios to compare")
        a, b = self.outcome(first), self.outcome(second)
        values, paired = _values(a, b, first, second)
        return ScenarioComparison((first, second), b.settings.top_k, (a.error, b.error),
                                  _setting_changes(a, b, first, second), values, _plans(a, b, first, second),
                                  _ranks(a, b, first, second), paired, (_source(a), _source(b)),
                                  _shared_settings(a.settings, b.settings))

    def export(self, name: str, path: str | Path) -> list[Path]:
        """Write the scenario's portfolio (edits and overrides applied) to `path` (.csv, .xlsx or
        .yaml) and its other settings to `<stem>.settings.json` (read back by `Settings.from_json`
        and `--settings`); returns the files written, the correlations file of CSV and .xlsx too."""
        portfolio = self.portfolio(name)
        path = Path(save_portfolio(portfolio, path))
        written = [path]
        if portfolio.correlations and path.suffix.lower() in (".csv", ".xlsx"):
            written.append(correlations_path(path))  # CSV and Excel keep correlations beside them
        settings = path.with_name(f"{path.stem}.settings.json")
        write_atomic(settings, self.exported_settings(name).to_json())
        return [*written, settings]

    def report_parameters(self, name: str, output_dir: str | Path = "reports", *,
                          quarter: str = "session") -> tuple[dict, str]:
        """Export the scenario beside its report and return (the quarterly template's parameters,
        the report's name). Nothing is written when the parameters are invalid (InputError)."""
        from ..reports import check_parameters

        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "scenario"
        stem = f"{quarter}-{slug}-portfolio.yaml"  # YAML keeps the correlations in one file

        def parameters(folder: Path) -> dict:
            files = self.export(name, folder / stem)
            return {"portfolio": str(files[0].resolve()), "quarter": quarter, "previous_portfolio": "",
                    "settings": self.exported_settings(name).to_dict()}

        with tempfile.TemporaryDirectory() as scratch:  # check on a scratch copy: a bad label writes nothing
            check_parameters(parameters(Path(scratch)))
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        return parameters(out), f"{quarter}-{slug}"

    def report(self, name: str, output_dir: str | Path = "reports", *,
               quarter: str = "session") -> tuple[Path, Path, Path]:
        """The quarterly report of the scenario: exports it (`<quarter>-<name>-portfolio.yaml` and
        its `.settings.json`) and runs the template on those files; returns the notebook, HTML and
        JSON paths. Its figures are the session's, digit for digit (same pipeline, same draws)."""
        from ..reports import run_report

        params, report_name = self.report_parameters(name, output_dir, quarter=quarter)
        return run_report("quarterly", params, output_dir, name=report_name)


# --- comparison tables ------------------------------------------------------------------------


def _text(value, name: str = "") -> str:
    if value is None:
        return "not set"
    if name == "seed":  # a label, not a quantity: no thousands separator
        return str(value)
    return f"{value:,g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


def _setting_changes(a: Outcome, b: Outcome, first: str, second: str) -> pd.DataFrame:
    x, y = a.settings, b.settings
    rows = [(_setting_name(f.name), _text(getattr(x, f.name), f.name), _text(getattr(y, f.name), f.name))
            for f in fields(Settings) if f.name not in _MAPPINGS and getattr(x, f.name) != getattr(y, f.name)]
    for team in sorted(set(x.capacity) | set(y.capacity)):
        if x.capacity.get(team) != y.capacity.get(team):
            rows.append((f"capacity {team}", _text(x.capacity.get(team, "no limit")),
                         _text(y.capacity.get(team, "no limit"))))
    for theme in sorted(set(x.theme_share) | set(y.theme_share)):
        if x.theme_share.get(theme) != y.theme_share.get(theme):
            share = lambda s: "any" if s is None else f"{s[0]:.0%}–{s[1]:.0%}"  # noqa: E731
            rows.append((f"share {theme}", share(x.theme_share.get(theme)), share(y.theme_share.get(theme))))
    if x.spread != y.spread and "spread" in (x.confidence_mode, y.confidence_mode):
        fmt = lambda m: ", ".join(f"{c:.0%}: ×/÷{f:g}" for c, f in m)  # noqa: E731
        rows.append(("spread mapping", fmt(x.spread), fmt(y.spread)))
    for ini_a, ini_b in zip(a.portfolio, b.portfolio):  # the edits and overrides, as applied
        for factor in ("reach", "impact", "confidence", "effort"):
            if ini_a.estimate(factor) != ini_b.estimate(factor):
                rows.append((f"{ini_a.name} — {factor}", str(ini_a.estimate(factor)), str(ini_b.estimate(factor))))
        if ini_a.moscow != ini_b.moscow:
            rows.append((f"{ini_a.name} — MoSCoW", ini_a.moscow or "not set", ini_b.moscow or "not set"))
    return pd.DataFrame(rows, columns=["setting", first, second])


_KEY_SETTINGS = ("budget", "objective", "alpha", "samples", "seed", "top_k", "confidence_mode", "value_unit")


def _setting_name(name: str) -> str:
    return {"budget": "budget (person-months)", "alpha": "CVaR tail α", "top_k": "top k",
            "lam": "risk weight λ"}.get(name, name.replace("_", " "))


def _shared_settings(x: Settings, y: Settings) -> pd.DataFrame:
    """The key settings (`_KEY_SETTINGS`) equal in both scenarios: setting, value."""
    rows = [(_setting_name(n), _text(getattr(x, n), n)) for n in _KEY_SETTINGS if getattr(x, n) == getattr(y, n)]
    return pd.DataFrame(rows, columns=["setting", "value"])


def _source(o: Outcome) -> str | None:
    """Which scenarios the plan's figures come from (`format.evaluated_on_sentence`)."""
    if o.plan is None:
        return None
    return evaluated_on_sentence(o.plan.metrics()["evaluated_on"], o.settings.scenarios)


def _metrics(o: Outcome) -> dict[str, tuple[float, float, np.ndarray | None]]:
    """metric -> (value, 95% half-width or NaN, per-sample values for a paired difference or None)."""
    if o.plan is None:
        return {}
    plan = o.plan
    m = plan.metrics()
    # CVaR's per-scenario influence terms average to the CVaR: their paired differences give the
    # error of a CVaR difference. Quantiles have no such terms: their differences use sqrt(h1² + h2²).
    out = {"expected value": (m["expected_value"], half_width(m["expected_value_se"]), plan.value),
           "p10": (m["p10"], half_width(m["p10_se"]), None), "p50": (m["p50"], half_width(m["p50_se"]), None),
           "p90": (m["p90"], half_width(m["p90_se"]), None),
           f"CVaR {m['alpha']:.0%}": (m["cvar"], half_width(m["cvar_se"]),
                                      objective_terms(plan.value, "cvar", plan.alpha, None))}
    p = m["p_overrun"]
    if p is not None:
        overrun = (plan.effort > plan.problem.constraints.budget).astype(float)
        out["P(overrun)"] = (p, half_width(m["p_overrun_se"]), overrun)
    if plan.vss is not None:
        out["value of planning with ranges (VSS)"] = (plan.vss.value, half_width(plan.vss.se), None)
    out["budget used"] = (m["budget_used"], np.nan, None)
    out["initiatives funded"] = (float(len(m["selected"])), np.nan, None)
    return out


def _values(a: Outcome, b: Outcome, first: str, second: str) -> tuple[pd.DataFrame, bool]:
    ma, mb = _metrics(a), _metrics(b)
    paired = a.evaluation.count == b.evaluation.count
    missing = (np.nan, np.nan, None)
    rows = []
    for metric in dict.fromkeys([*ma, *mb]):
        (va, ha, sa), (vb, hb, sb) = ma.get(metric, missing), mb.get(metric, missing)
        if paired and sa is not None and sb is not None:
            d = sb - sa  # scenario by scenario: the shared draws cancel
            half = half_width(float(d.std(ddof=1) / np.sqrt(d.size)))
        else:
            half = float(np.hypot(ha, hb))  # NaN unless both have one
        rows.append((metric, va, ha, vb, hb, vb - va, half))
    frame = pd.DataFrame(rows, columns=["metric", first, f"± {first}", second, f"± {second}", DIFFERENCE,
                                        DIFFERENCE_PM]).set_index("metric")
    return frame, paired


def _plans(a: Outcome, b: Outcome, first: str, second: str) -> pd.DataFrame:
    in_a = set(a.plan.selected) if a.plan is not None else set()
    in_b = set(b.plan.selected) if b.plan is not None else set()
    rows = [{"id": ini.id, "name": ini.name, first: ini.id in in_a, second: ini.id in in_b,
             "change": "added" if ini.id in in_b - in_a else "dropped" if ini.id in in_a - in_b else "kept"}
            for ini in b.portfolio if ini.id in in_a | in_b]
    return pd.DataFrame(rows, columns=["id", "name", first, second, "change"]).set_index("id")


def _ranks(a: Outcome, b: Outcome, first: str, second: str) -> pd.DataFrame:
    """Expected rank in both (and how many places each initiative moves up from the first to the
    second), P(top k) with its 95% half-width in both; largest movers first."""
    k = b.settings.top_k
    ra, rb = a.result.expected_rank, b.result.expected_rank
    # A large portfolio counts only the first ranks (limits.MAX_RANK_MATRIX): beyond them the
    # first scenario has no P(top k), shown as missing rather than as another k's figure.
    counted = a.result.full_rank_matrix or k <= a.result.ranks_counted
    p_a, hw_a = (a.result.p_top_k(k)[0], a.result.half_width(k)) if counted else (np.nan, np.nan)
    frame = pd.DataFrame({"id": b.portfolio.ids, "name": b.portfolio.names,
                          f"rank {first}": ra, f"rank {second}": rb, "moves up by": ra - rb,
                          f"P(top {k}) {first}": p_a, f"± {first}": hw_a,
                          f"P(top {k}) {second}": b.result.p_top_k(k)[0], f"± {second}": b.result.half_width(k)})
    order = np.argsort(-np.abs(frame["moves up by"].to_numpy()), kind="stable")
    return frame.iloc[order].set_index("id")

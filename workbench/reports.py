"""Quarterly reports: parameterized template notebooks run by papermill, exported to offline HTML.

`run_report` validates the parameters before any kernel starts, executes the template,
and writes `<quarter>-<kind>.ipynb` and `.html` atomically: a failed run keeps the last good
report and leaves the failed notebook beside it for debugging. The summaries the templates
show are built here, from the public API, with every piece of user text escaped.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .errors import InputError, Problem
from .optimization import OBJECTIVES
from .output import write_atomic
from .portfolio import Portfolio, demo_portfolio, load_portfolio
from .simulation import CONFIDENCE_MODES

TEMPLATES = {"quarterly": "quarterly_report.ipynb", "sensitivity": "budget_sensitivity.ipynb"}
TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "templates"

# name: (type, default); None default = required
PARAMETERS: dict[str, tuple[type, object]] = {
    "portfolio": (str, ""),
    "quarter": (str, None),
    "budget": (float, None),
    "capacities": (dict, {}),
    "confidence_mode": (str, "success"),
    "samples": (int, 20_000),
    "seed": (int, 2026),
    "top_k": (int, 5),
    "objective": (str, "mean"),
    "alpha": (float, 0.1),
    "lam": (float, 1.0),
    "scenarios": (int, 1000),
    "previous_portfolio": (str, ""),
    "budget_range": (str, ""),
    "split": (str, ""),
}


class ReportError(RuntimeError):
    """A template cell failed; the message names the cell and the error."""


# --- parameters ------------------------------------------------------------------------------


def _convert(name: str, kind: type, value: object) -> object:
    if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, kind) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            if kind is int:
                return int(text)
            if kind is float:
                return float(text[:-1]) / 100 if text.endswith("%") else float(text)
            if kind is dict:
                return _parse_mapping(text)
        except ValueError:
            pass
    what = {int: "a whole number", float: "a number", dict: "TEAM=N pairs such as Payments=12,Growth=8",
            str: "text"}[kind]
    raise InputError(Problem(f"parameter {name!r}: expected {what}, got {value!r}"))


def _parse_mapping(text: str) -> dict:
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.rpartition("=")
        if not sep or not key.strip():
            raise ValueError(part)
        out[key.strip()] = float(value)
    return out


def validate_parameters(params: dict) -> dict:
    """Check names, types and values before any kernel starts; return them complete and typed."""
    problems = [Problem(f"unknown parameter {name!r}; expected one of {', '.join(PARAMETERS)}")
                for name in params if name not in PARAMETERS]
    if problems:
        raise InputError(problems)
    out = {}
    for name, (kind, default) in PARAMETERS.items():
        if name not in params or params[name] is None:
            if default is None:
                problems.append(Problem(f"parameter {name!r} is required"))
                continue
            out[name] = default
        else:
            try:
                out[name] = _convert(name, kind, params[name])
            except InputError as e:
                problems += e.problems
    if problems:
        raise InputError(problems)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,40}", out["quarter"]):
        problems.append(Problem(f"parameter 'quarter': expected a label such as 2026Q4 (letters, digits, . _ -), "
                                f"got {out['quarter']!r}"))
    if not out["budget"] > 0:
        problems.append(Problem(f"parameter 'budget': the budget must be > 0, got {out['budget']:g}"))
    for team, cap in out["capacities"].items():
        if not (isinstance(cap, (int, float)) and cap >= 0):
            problems.append(Problem(f"parameter 'capacities': capacity of {team!r} must be a number >= 0, got {cap!r}"))
    if not out["lam"] >= 0:
        problems.append(Problem(f"parameter 'lam': the weight of CVaR must be >= 0, got {out['lam']:g}"))
    if out["confidence_mode"] not in CONFIDENCE_MODES:
        problems.append(Problem(f"parameter 'confidence_mode': expected one of {', '.join(CONFIDENCE_MODES)}, "
                                f"got {out['confidence_mode']!r}"))
    if out["objective"] not in OBJECTIVES:
        problems.append(Problem(f"parameter 'objective': expected one of {', '.join(OBJECTIVES)}, got {out['objective']!r}"))
    for name, lo in (("samples", 100), ("scenarios", 10), ("top_k", 1)):
        if out[name] < lo:
            problems.append(Problem(f"parameter {name!r}: must be at least {lo}, got {out[name]}"))
    if not 0 < out["alpha"] <= 1:
        problems.append(Problem(f"parameter 'alpha': must be in (0, 1], got {out['alpha']:g}"))
    for name in ("portfolio", "previous_portfolio"):
        if out[name] and not Path(out[name]).is_file():
            problems.append(Problem(f"parameter {name!r}: file not found", file=out[name]))
    if problems:
        raise InputError(problems)
    # The files must parse too: every bad cell is reported now, not from inside a kernel.
    for name in ("portfolio", "previous_portfolio"):
        if out[name]:
            load_portfolio(out[name])
            out[name] = str(Path(out[name]).resolve())
    return out


# --- content the templates show ----------------------------------------------------------------


def load(path: str) -> Portfolio:
    """The report's portfolio: a file, or the bundled demo for an empty path."""
    return load_portfolio(path) if path else demo_portfolio()


def input_digest(path: str) -> str:
    """SHA-256 of the input file (of the bundled demo for an empty path), for reproducibility."""
    if path:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return hashlib.sha256((resources.files("workbench") / "data" / "demo_portfolio.yaml").read_bytes()).hexdigest()


def _e(text: object) -> str:
    return html.escape(str(text))


def _n(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def executive_summary(result, plan, top_k: int, drivers: pd.DataFrame | None = None) -> str:
    """Plain sentences for executives, as escaped HTML: the plan, its value and risk, the top k,
    what greedy-by-RICE would have chosen, and the assumptions that matter most."""
    names = dict(zip(plan.problem.ids, (i.name for i in plan.problem.portfolio)))
    p10, _, p90 = plan.quantiles()
    c = plan.problem.c
    unit = "person-months" if c.budget_column == "effort" else ""
    items = "".join(f"<li>{_e(names[i])}</li>" for i in plan.selected)
    parts = [
        f"<p><b>Recommendation.</b> Fund {len(plan.selected)} initiatives within the budget of {_n(c.budget)} {unit}:</p>"
        f"<ul>{items}</ul>",
        f"<p><b>Value.</b> Expected value {_n(plan.expected_value)} (± {_n(plan.expected_value_se)} Monte Carlo error); "
        f"80% of scenarios fall between {_n(p10)} and {_n(p90)}. In the worst {plan.alpha:.0%} of scenarios "
        f"it averages {_n(plan.cvar)}.</p>",
    ]
    if plan.p_overrun is not None:
        se = np.sqrt(plan.p_overrun * (1 - plan.p_overrun) / plan.scenarios.count)
        parts.append(f"<p><b>Delivery risk.</b> The chance that the funded work needs more effort than the budget is "
                     f"{plan.p_overrun:.0%} (± {se:.1%}).</p>")
    summary = result.summary(top_k)
    half = dict(zip(result.portfolio.ids, result.half_width(top_k)))
    top = "".join(f"<li>{_e(r['name'])}: P(top {top_k}) {r['p_top_k']:.2f} ± {half[i]:.2f}</li>"
                  for i, r in summary.head(top_k).iterrows())
    parts.append(f"<p><b>Ranking.</b> The initiatives most likely to be in the top {top_k} by RICE score:</p><ul>{top}</ul>")
    greedy, cmp = plan.greedy, plan.comparisons.get("greedy")
    if greedy is not None and cmp is not None:
        missed = [names[i] for i in greedy.selected if i not in plan.selected]
        gained = [names[i] for i in plan.selected if i not in greedy.selected]
        if not missed and not gained:
            parts.append("<p><b>Against a RICE spreadsheet.</b> Filling the budget in RICE order picks the same set.</p>")
        else:
            parts.append(
                f"<p><b>Against a RICE spreadsheet.</b> Filling the budget in RICE order would fund "
                f"{_e(', '.join(missed)) or 'nothing else'} instead of {_e(', '.join(gained)) or 'nothing'}, "
                f"and give up {_n(cmp.expected_gain)} (± {_n(cmp.gain_se)}) of expected value.</p>")
    if drivers is not None and len(drivers):
        lines = "".join(f"<li>{_e(r['input'])}: from {_n(r['low'])} to {_n(r['high'])} moves the plan's value by "
                        f"{_n(r['swing'])}</li>" for _, r in drivers.head(3).iterrows())
        parts.append(f"<p><b>Assumptions that matter most.</b></p><ul>{lines}</ul>")
    return "\n".join(parts)


def title(quarter: str, heading: str, portfolio: Portfolio) -> str:
    """The report's heading, as escaped HTML."""
    source = portfolio.source or "portfolio"
    return (f"<h1>{_e(quarter)}: {_e(heading)}</h1>"
            f"<p>{len(portfolio)} initiatives from <code>{_e(Path(source).name)}</code>.</p>")


def ranking_table(result, top_k: int) -> pd.DataFrame:
    """The ranking, readable: P(top k) with its 95% error, score interval, classic RICE."""
    s = result.summary(top_k)
    half = dict(zip(result.portfolio.ids, result.half_width(top_k)))
    return pd.DataFrame({
        "initiative": s["name"],
        f"P(top {top_k})": [f"{p:.2f} ± {half[i]:.2f}" for i, p in s["p_top_k"].items()],
        "score p10 – p90": [f"{_n(a)} – {_n(b)}" for a, b in zip(s["p10"], s["p90"])],
        "mean score": s["mean"].map(_n),
        "classic RICE": s["rice"].map(_n),
        "expected rank": s["expected_rank"].round(1),
    }, index=s.index)


def plan_table(plan) -> pd.DataFrame:
    """The funded initiatives and what each contributes, readable."""
    f = plan.to_frame()
    return pd.DataFrame({
        "initiative": f["name"], "team": f["team"].fillna(""), "MoSCoW": f["moscow"].fillna(""),
        "budget": f["budget_used"].map(lambda x: f"{x:.3g}"),
        "expected value": f["expected_value"].map(_n),
        "share": f["value_share"].map(lambda x: f"{x:.0%}"),
        "P(delivers)": f["p_delivers"].map(lambda x: f"{x:.2f}"),
    }, index=f.index)


def switch_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Decision switch points, readable."""
    return pd.DataFrame({"expected": frame["expected"].map(_n).to_numpy(),
                         "decision changes at": frame["note"].to_numpy()},
                        index=pd.Index(frame["input"].to_numpy(), name="input"))


def changes_html(changes: "Changes") -> str:
    """What changed since last quarter, as escaped HTML."""
    def ids(items):
        return _e(", ".join(items)) if items else "none"

    parts = [f"<p><b>New:</b> {ids(changes.new)}. <b>Dropped:</b> {ids(changes.dropped)}.</p>"]
    if len(changes.reestimated):
        rows = "".join(f"<tr><td>{_e(r.id)}</td><td>{_e(r.factor)}</td><td>{_e(r.before)}</td><td>{_e(r.after)}</td></tr>"
                       for r in changes.reestimated.itertuples())
        parts.append("<p><b>Re-estimated:</b></p><table><tr><th>id</th><th>factor</th><th>before</th><th>now</th></tr>"
                     f"{rows}</table>")
    moved = changes.ranks[changes.ranks["movement"] != 0].sort_values("movement", key=abs, ascending=False)
    if len(moved):
        rows = "".join(f"<tr><td>{_e(r.name)}</td><td>{r.rank_before}</td><td>{r.rank_now}</td>"
                       f"<td>{'▲' if r.movement > 0 else '▼'} {abs(r.movement)}</td></tr>" for r in moved.head(10).itertuples())
        parts.append("<p><b>Rank movements</b> (by P(top k)):</p><table><tr><th>initiative</th><th>before</th>"
                     f"<th>now</th><th>moved</th></tr>{rows}</table>")
    return "\n".join(parts)


@dataclass
class Changes:
    """What changed between two quarters' portfolios."""

    new: list[str]
    dropped: list[str]
    reestimated: pd.DataFrame  # id, factor, before, after
    ranks: pd.DataFrame  # id, name, rank_before, rank_now, movement


def changes_since(previous: Portfolio, current: Portfolio, result_previous, result_now, top_k: int) -> Changes:
    """New, dropped and re-estimated initiatives, and movements in the ranking by P(top k)."""
    before, now = set(previous.ids), set(current.ids)
    rows = [{"id": i, "factor": f, "before": str(previous[i].estimate(f)), "after": str(current[i].estimate(f))}
            for i in current.ids if i in before for f in ("reach", "impact", "confidence", "effort")
            if str(previous[i].estimate(f)) != str(current[i].estimate(f))]
    rank_prev = {i: k + 1 for k, i in enumerate(result_previous.summary(top_k).index)}
    rank_now = {i: k + 1 for k, i in enumerate(result_now.summary(top_k).index)}
    ranks = pd.DataFrame([{"id": i, "name": current[i].name, "rank_before": rank_prev[i], "rank_now": rank_now[i],
                           "movement": rank_prev[i] - rank_now[i]} for i in current.ids if i in rank_prev],
                         columns=["id", "name", "rank_before", "rank_now", "movement"])
    return Changes([i for i in current.ids if i not in before], [i for i in previous.ids if i not in now],
                   pd.DataFrame(rows, columns=["id", "factor", "before", "after"]), ranks)


def methods_appendix(params: dict, result, plan) -> pd.DataFrame:
    """How to reproduce the report: seeds, sample sizes, method, errors, version, input digest."""
    rows = [
        ("package version", f"workbench {__version__}"),
        ("input file", params.get("portfolio") or "bundled demo portfolio"),
        ("input SHA-256", input_digest(params.get("portfolio", ""))),
        ("seed", result.seed),
        ("samples (ranking)", f"{result.samples:,} ({result.method})"),
        ("scenarios (plan)", f"{plan.scenarios.count:,} ({plan.scenarios.method}, seed {plan.scenarios.seed})"),
        ("confidence mode", result.confidence_mode),
        ("objective", f"{plan.objective} (alpha {plan.alpha:g})"),
        (f"largest 95% error of P(top {params.get('top_k', 5)})", f"± {result.half_width(params.get('top_k', 5)).max():.4f}"),
        ("Monte Carlo error of the plan's expected value", f"± {plan.expected_value_se:,.0f}"),
        ("solver", f"HiGHS via scipy.optimize.milp: {plan.status}" + (f", gap {plan.gap:.2%}" if plan.gap is not None else "")),
    ]
    return pd.DataFrame(rows, columns=["item", "value"]).set_index("item")


# --- running -------------------------------------------------------------------------------------


def template_path(kind: str) -> Path:
    if kind not in TEMPLATES:
        raise InputError(Problem(f"unknown report {kind!r}; expected one of {', '.join(TEMPLATES)}"))
    return TEMPLATE_DIR / TEMPLATES[kind]


def to_html(notebook) -> str:
    """Self-contained HTML without code: outputs only, no script or stylesheet from a CDN."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, embed_images=True)
    for url in ("mathjax_url", "require_js_url", "jquery_url", "mermaid_js_url", "mermaid_layout_elk_js_url",
                "jupyter_widgets_base_url", "widget_renderer_url"):
        setattr(exporter, url, "")
    body, _ = exporter.from_notebook_node(notebook)
    # The report must open offline: no script may load code from elsewhere. The lab template's
    # mermaid loader imports from a CDN (only for diagrams, which reports have none of).
    body = re.sub(r'<script type="module">(?:(?!</script>).)*?mermaid(?:(?!</script>).)*</script>', "", body, flags=re.S)
    body = re.sub(r'<script[^>]*\bsrc="(?:https?://[^"]*)?"[^>]*>\s*</script>', "", body)
    body = re.sub(r'<img[^>]*\bsrc="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"[^>]*>', _inline_svg, body)
    body = re.sub(r'<link[^>]*\bhref="https?://[^"]*"[^>]*>', "", body)
    print_css = ("<style>@media print { body { font-size: 10pt; } .jp-Cell { break-inside: avoid; } "
                 "svg { max-width: 100%; height: auto; } }</style>")
    return body.replace("</head>", print_css + "</head>", 1)


def _inline_svg(match: re.Match) -> str:
    """An SVG chart inline instead of as an <img>: real text, selectable and printable, and
    measurable by the browser test. vl-convert writes user text into it as escaped XML text."""
    svg = base64.b64decode(match.group(1)).decode("utf-8")
    svg = re.sub(r"^\s*<\?xml[^>]*\?>\s*", "", svg)
    svg = re.sub(r"^\s*<!DOCTYPE[^>]*>\s*", "", svg)
    return f'<div class="chart">{svg}</div>'


def run_report(kind: str, params: dict, output_dir: str | Path = "reports", *, name: str | None = None,
               kernel_name: str = "python3") -> tuple[Path, Path]:
    """Execute a template with papermill and write `<name>.ipynb` and `<name>.html` atomically.

    On a failing cell: the failed notebook is written as `<name>.failed.ipynb`, the previous good
    report is left untouched, and `ReportError` names the cell and the error.
    """
    import nbformat
    import papermill as pm

    params = validate_parameters(params)
    template = template_path(kind)
    out_dir = Path(output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = name or f"{params['quarter']}-{kind}"
    ipynb, html_path, failed = out_dir / f"{name}.ipynb", out_dir / f"{name}.html", out_dir / f"{name}.failed.ipynb"
    scratch = out_dir / f".{name}.running.ipynb"
    try:
        pm.execute_notebook(str(template), str(scratch), parameters=params, kernel_name=kernel_name,
                            progress_bar=False, log_output=False, cwd=str(out_dir))
    except pm.PapermillExecutionError as e:
        scratch.replace(failed)
        raise ReportError(f"{kind} report failed in cell {e.exec_count} ({e.ename}: {e.evalue}); "
                          f"the failed notebook is {failed}") from None
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise
    notebook = nbformat.read(str(scratch), as_version=4)
    write_atomic(html_path, to_html(notebook))
    scratch.replace(ipynb)
    failed.unlink(missing_ok=True)
    return ipynb, html_path

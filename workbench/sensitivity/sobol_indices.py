"""Sobol' sensitivity indices (Saltelli scheme): for any vectorized model and for a portfolio's RICE inputs."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
from scipy import special
from scipy.stats import qmc

from ..engine.sample import SOBOL_MAX_DIMS
from ..engine.simulation import U_EPS, PortfolioModel, check_settings
from ..model.estimates import FACTORS, parse_estimate
from ..model.portfolio import Portfolio
from ..rng import check_seed, stream

MIN_N = 64
BOOTSTRAP = 1000  # bootstrap resamples for the confidence intervals
_BOOTSTRAP_ELEMENTS = 1 << 22  # resampling weights held at once (32 MiB of float64)
GROUP_BY = ("initiative", "factor", None)
OUTPUTS = ("plan", "scores")


# --- estimators: pure functions over numpy arrays ---------------------------------------------


def sobol_estimates(f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray,
                    weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """First-order (Saltelli 2010) and total (Jansen 1999) indices of p (output, group) pairs.

    f_a, f_b, f_ab: (p, n) model outputs on the rows of A, B and AB_g (A with group g's columns
    from B). weights: (r, n) row counts of r bootstrap resamples (each row sums to n); None is
    the sample itself. Returns S1, ST as (p, r) arrays, (p,) when weights is None; NaN where the
    output does not vary. Outputs are centred first (the S1 estimator is not shift invariant).

        V  = Var[f(A) ∪ f(B)]
        S1 = mean(f(B) (f(AB_g) − f(A))) / V
        ST = mean((f(A) − f(AB_g))²) / (2 V)
    """
    f_a, f_b, f_ab = (np.atleast_2d(np.asarray(x, float)) for x in (f_a, f_b, f_ab))
    n = f_a.shape[-1]
    centre = (f_a.mean(-1, keepdims=True) + f_b.mean(-1, keepdims=True)) / 2
    a, b, ab = f_a - centre, f_b - centre, f_ab - centre
    w = np.ones((1, n)) if weights is None else np.asarray(weights, float)
    # Every statistic is a weighted row mean: one matrix product per term.
    mean = ((a + b) @ w.T) / (2 * n)
    var = ((a * a + b * b) @ w.T) / (2 * n) - mean**2
    first = (b * (ab - a)) @ w.T / n
    total = 0.5 * ((a - ab) ** 2) @ w.T / n
    # A constant output has V = 0 up to rounding; compare with the outputs' own scale.
    scale = np.maximum(np.abs(f_a).max(-1, keepdims=True), np.abs(f_b).max(-1, keepdims=True))
    flat = var <= (1e-12 * scale) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        s1 = np.where(flat, np.nan, first / var)
        st = np.where(flat, np.nan, total / var)
    return (s1[:, 0], st[:, 0]) if weights is None else (s1, st)


def bootstrap_weights(n: int, r: int, rng: np.random.Generator) -> np.ndarray:
    """(r, n) counts of each row in r resamples of n rows drawn with replacement."""
    idx = rng.integers(0, n, size=(r, n)) + n * np.arange(r)[:, None]
    return np.bincount(idx.ravel(), minlength=r * n).reshape(r, n).astype(float)


def bootstrap_half_width(f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray, confidence: float,
                         rng: np.random.Generator, resamples: int = BOOTSTRAP) -> tuple[np.ndarray, np.ndarray]:
    """Half-widths z·SE of the S1 and ST intervals, SE the bootstrap standard error over rows."""
    n = np.shape(f_a)[-1]
    per_chunk = max(1, _BOOTSTRAP_ELEMENTS // n)
    s1, st = [], []
    for start in range(0, resamples, per_chunk):  # chunks of resamples bound the memory
        w = bootstrap_weights(n, min(per_chunk, resamples - start), rng)
        a, b = sobol_estimates(f_a, f_b, f_ab, w)
        s1.append(a)
        st.append(b)
    z = special.ndtri(0.5 + confidence / 2)
    with warnings.catch_warnings():  # a resample can be flat (rare binary outcomes): skip it
        warnings.simplefilter("ignore", RuntimeWarning)
        return (z * np.nanstd(np.concatenate(s1, 1), 1, ddof=1),
                z * np.nanstd(np.concatenate(st, 1), 1, ddof=1))


# --- the sampling scheme ----------------------------------------------------------------------


def _check_n(n: object) -> int:
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise ValueError(f"n must be an integer power of two >= {MIN_N}, got {n!r}")
    n = int(n)
    if n < MIN_N:
        raise ValueError(f"n must be at least {MIN_N} (rows of each base matrix), got {n}")
    if n & (n - 1):
        lo = 1 << (n.bit_length() - 1)
        raise ValueError(f"n must be a power of two (Sobol' points balance only then), got {n}; "
                         f"use {lo} or {2 * lo}")
    return n


def _check_confidence(confidence: object) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 < confidence < 1:
        raise ValueError(f"confidence must be a probability strictly between 0 and 1 (e.g. 0.95), got {confidence!r}")
    return float(confidence)


def _base_matrices(dims: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A and B (n x dims uniforms in (0, 1)): the halves of one scrambled Sobol' matrix [A | B].

    The scrambling draws from its own named stream ("sobol") and the bootstrap from another
    ("bootstrap"), so neither depends on how many numbers the other consumed.
    """
    if 2 * dims > SOBOL_MAX_DIMS:
        raise ValueError(f"too many inputs for Sobol' base matrices: {dims} (at most {SOBOL_MAX_DIMS // 2})")
    base = qmc.Sobol(2 * dims, scramble=True, seed=stream(seed, "sobol")).random(n)
    base = np.clip(base, U_EPS, 1 - U_EPS)
    return base[:, :dims], base[:, dims:]


def _mixed(a: np.ndarray, b: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """AB: A with the columns `cols` taken from B."""
    ab = a.copy()
    ab[:, cols] = b[:, cols]
    return ab


def _table(s1, s1_conf, st, st_conf, index: pd.Index) -> pd.DataFrame:
    return pd.DataFrame({"S1": s1, "S1_conf": s1_conf, "ST": st, "ST_conf": st_conf}, index=index)


# --- generic models -------------------------------------------------------------------------


def _distribution(name: str, spec: object):
    if isinstance(spec, str):
        try:
            return parse_estimate(spec, None)
        except ValueError as e:
            raise ValueError(f"input {name!r}: {e}") from None
    if callable(getattr(spec, "ppf", None)):
        return spec
    raise ValueError(f"input {name!r}: expected an estimate string such as '200..800' or 'uniform(0, 1)', "
                     f"or a distribution with a .ppf method (scipy.stats frozen), got {type(spec).__name__}")


def _input_values(name: str, dist, u: np.ndarray) -> np.ndarray:
    try:
        x = np.asarray(dist.ppf(u), float)
    except Exception as e:  # a user's distribution object: say which input failed
        raise ValueError(f"input {name!r}: its ppf failed: {e}") from e
    if x.shape != u.shape:
        raise ValueError(f"input {name!r}: its ppf returned shape {x.shape} for {u.size} uniforms")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"input {name!r}: its ppf gives non-finite values (a distribution with no finite support?)")
    x.flags.writeable = False  # a model that edits its inputs in place would corrupt the other runs
    return x


def _groups(names: list[str], groups: Mapping[str, str] | None) -> tuple[list[str], list[np.ndarray]]:
    """Group labels (in order of first appearance) and the input columns of each."""
    if groups is None:
        return list(names), [np.array([j]) for j in range(len(names))]
    if not isinstance(groups, Mapping):
        raise ValueError(f"groups must map input name -> group name, got {type(groups).__name__}")
    unknown = [g for g in groups if g not in names]
    if unknown:
        raise ValueError(f"groups names unknown inputs: {', '.join(map(repr, unknown))}; "
                         f"the inputs are {', '.join(map(repr, names))}")
    missing = [x for x in names if x not in groups]
    if missing:
        raise ValueError(f"groups must give every input a group; missing {', '.join(map(repr, missing))}")
    labels = list(dict.fromkeys(groups[x] for x in names))
    cols = [np.array([j for j, x in enumerate(names) if groups[x] == g]) for g in labels]
    return labels, cols


def sobol(model: Callable[[dict[str, np.ndarray]], np.ndarray], inputs: Mapping[str, object], n: int = 4096,
          seed: int | None = None, groups: Mapping[str, str] | None = None,
          confidence: float = 0.95) -> pd.DataFrame:
    """Sobol' first-order (S1) and total (ST) indices of a vectorized model with independent inputs.

    model: takes {input name: 1-D array of samples} and returns a 1-D array of as many outputs.
    inputs: input name -> an estimate string ("200..800", "uniform(-3.14, 3.14)", "normal(0, 1)";
        no domain check) or a frozen scipy.stats distribution (anything with .ppf).
    n: rows of each base matrix, a power of two >= 64; the model runs n * (groups + 2) times.
    groups: input name -> group name, to get the indices of sets of inputs (closed indices).
    confidence: level of the intervals; *_conf columns are their half-widths, z·SE with SE the
        bootstrap standard error over rows (BOOTSTRAP resamples, seeded).

    Returns a DataFrame indexed by input (or group) name with columns S1, S1_conf, ST, ST_conf;
    `.attrs` records n, seed, evaluations, confidence, the output's mean and variance.
    Reproducible from `seed` (drawn and recorded in attrs when None).
    """
    if not callable(model):
        raise ValueError(f"model must be a function of a dict of input arrays, got {type(model).__name__}")
    if not isinstance(inputs, Mapping) or not inputs:
        raise ValueError("inputs must be a non-empty mapping of input name -> estimate string or distribution")
    names = list(inputs)
    bad = [x for x in names if not isinstance(x, str) or not x]
    if bad:
        raise ValueError(f"input names must be non-empty strings, got {', '.join(map(repr, bad))}")
    dists = {x: _distribution(x, inputs[x]) for x in names}
    n, confidence, seed = _check_n(n), _check_confidence(confidence), check_seed(seed)
    labels, cols = _groups(names, groups)

    def evaluate(x: dict[str, np.ndarray]) -> np.ndarray:
        y = np.asarray(model(dict(x)))
        if y.shape != (n,):
            raise ValueError(f"model must return a 1-D array with one value per sample, shape ({n},); "
                             f"got shape {y.shape}")
        if not np.issubdtype(y.dtype, np.number) or np.iscomplexobj(y):
            raise ValueError(f"model must return real numbers, got dtype {y.dtype}")
        y = y.astype(float)
        bad_rows = np.flatnonzero(~np.isfinite(y))
        if bad_rows.size:
            k = bad_rows[0]
            at = ", ".join(f"{name}={x[name][k]:g}" for name in names)
            raise ValueError(f"model returned {bad_rows.size} non-finite values (nan or inf), e.g. {y[k]} at {at}")
        return y

    a, b = _base_matrices(len(names), n, seed)
    # Inverse CDFs once per base matrix; AB_g takes group g's arrays from B, the others from A.
    x_a = {name: _input_values(name, dists[name], a[:, j]) for j, name in enumerate(names)}
    x_b = {name: _input_values(name, dists[name], b[:, j]) for j, name in enumerate(names)}
    y_a, y_b = evaluate(x_a), evaluate(x_b)
    f_ab = np.stack([evaluate({name: (x_b if j in c else x_a)[name] for j, name in enumerate(names)})
                     for c in cols])  # one model run per group
    p = len(labels)
    f_a, f_b = np.broadcast_to(y_a, (p, n)), np.broadcast_to(y_b, (p, n))
    s1, st = sobol_estimates(f_a, f_b, f_ab)
    if np.isnan(s1).any():
        raise ValueError(f"the model's output does not vary (always {y_a[0]:g}): Sobol indices are undefined")
    s1_conf, st_conf = bootstrap_half_width(f_a, f_b, f_ab, confidence, stream(seed, "bootstrap"))
    out = _table(s1, s1_conf, st, st_conf, pd.Index(labels, name="input" if groups is None else "group"))
    y = np.concatenate([y_a, y_b])
    out.attrs.update(n=n, seed=seed, evaluations=n * (p + 2), confidence=confidence,
                     mean=float(y.mean()), variance=float(y.var()))
    return out


# --- portfolios -------------------------------------------------------------------------------


def _portfolio_inputs(model: PortfolioModel, ids: list[str]) -> tuple[list[str], list[int], list[str], np.ndarray]:
    """Per design column (in model.n_dims order): input name, initiative index, factor, column."""
    rows = [(f"{ids[j]}.{f}", j, f, d) for f in FACTORS
            for j, d in zip(model.uncertain[f].tolist(), model.dims[f].tolist())]
    rows += [(f"{ids[j]}.success", j, "confidence", d)
             for j, d in zip(model.success_cols.tolist(), model.success_dims.tolist())]
    names, owner, factor, cols = (list(v) for v in zip(*rows)) if rows else ([], [], [], [])
    return names, owner, factor, np.array(cols, dtype=int)


def _correlation_groups(portfolio: Portfolio, variables: list[tuple[str, str]]) -> dict[str, str]:
    """Initiative id -> its group label: ids joined by '+' for initiatives linked by correlations.

    The copula couples the uniforms of correlated estimates, so indices are well defined only
    for groups that hold whole connected sets of them; each such set becomes one group.
    """
    parent = {id_: id_ for id_ in portfolio.ids}

    def root(x: str) -> str:
        while parent[x] != x:
            x = parent[x]
        return x

    kept = set(variables)
    for c in portfolio.correlations:
        if c.a in kept and c.b in kept:
            parent[root(c.a[0])] = root(c.b[0])
    members: dict[str, list[str]] = {}
    for id_ in portfolio.ids:
        members.setdefault(root(id_), []).append(id_)
    return {id_: "+".join(members[root(id_)]) for id_ in portfolio.ids}


def portfolio_sobol(portfolio: Portfolio, selected: list[str] | None = None, n: int = 2048,
                    seed: int | None = None, confidence_mode: str = "success",
                    group_by: str | None = "initiative", output: str = "plan",
                    confidence: float = 0.95, spread: dict[float, float] | None = None) -> pd.DataFrame:
    """Sobol' indices of a portfolio's RICE inputs: which estimates drive the plan's value or the scores.

    Inputs are the uncertain estimates, named "<id>.<factor>", and in success mode the Bernoulli
    delivery draws, named "<id>.success" (an initiative at 100% confidence has none). Estimates
    that are single numbers are not inputs.

    output="plan": the plan's total value, sum over `selected` ids (all when None) of the RICE
        numerator R·I·success (R·I·C in multiplier mode). Only inputs that can move it are
        analysed: those of the selected initiatives, without effort (value does not involve it).
        Returns a DataFrame indexed by input or group with S1, S1_conf, ST, ST_conf.
    output="scores": each initiative's RICE score, value / effort, is an output. Returns one long
        DataFrame with a two-level index (output, input|group): `df.loc["search"]` is the table of
        initiative "search", listing the inputs (groups) that contain an input of that initiative;
        all other inputs leave its score unchanged. Initiatives with no uncertain input are absent;
        an initiative whose score still does not vary (reach 0) gets NaN.
    group_by: "initiative" (an initiative's inputs together), "factor" (reach, impact, confidence,
        effort; success draws count with confidence), or None (each input alone).
    spread: the confidence-to-width mapping of `spread` mode, as for `simulate`.
    n, seed, confidence: as for `sobol`. The portfolio model runs n * (batches + 2) times: groups
        whose inputs belong to different initiatives share one run (`attrs["evaluations"]`).

    Correlated estimates: the copula mixes the independent uniforms, so indices are only defined
    for groups holding whole sets of correlated estimates. With group_by="initiative", initiatives
    linked by correlations form one group labelled "a+b"; other groupings raise ValueError.
    """
    check_settings("sobol", confidence_mode)
    if group_by not in GROUP_BY:
        raise ValueError(f"unknown group_by {group_by!r}; expected 'initiative', 'factor' or None")
    if output not in OUTPUTS:
        raise ValueError(f"unknown output {output!r}; expected 'plan' or 'scores'")
    n, confidence, seed = _check_n(n), _check_confidence(confidence), check_seed(seed)
    ids = portfolio.ids
    if selected is None:
        chosen = list(range(len(ids)))
    else:
        if isinstance(selected, str):
            raise ValueError(f"selected must be a list of initiative ids, got the string {selected!r}")
        selected = list(selected)
        unknown = [s for s in selected if s not in ids]
        if unknown:
            raise ValueError(f"selected names unknown initiatives: {', '.join(map(repr, unknown))}")
        if not selected:
            raise ValueError("selected is empty: a plan needs at least one initiative")
        chosen = sorted({ids.index(s) for s in selected})
    model = PortfolioModel(portfolio, confidence_mode, spread)
    component = {id_: id_ for id_ in ids}  # initiatives linked by correlations share one group
    if model.corr_factor is not None:
        if group_by != "initiative":
            shown = [f"{c.a[0]}.{c.a[1]} ~ {c.b[0]}.{c.b[1]}" for c in portfolio.correlations]
            more = len(shown) - 3
            pairs = ", ".join(shown[:3]) + (f" and {more} more pair{'s' * (more > 1)}" if more > 0 else "")
            raise ValueError(f"Sobol indices need independent inputs, but the portfolio correlates {pairs}; "
                             f"use group_by='initiative' (correlated initiatives form one group) or "
                             f"dataclasses.replace(portfolio, correlations=()) to analyse the independent model")
        component = _correlation_groups(portfolio, [(ids[j], f) for j, f in model.corr_vars])

    names, owner, factor, cols = _portfolio_inputs(model, ids)
    # The plan's value moves with its initiatives' value inputs, and with every copula input of
    # their correlated sets (an unselected partner's normal is part of a selected one's draw).
    copula = set(model.corr_dims.tolist()) if model.corr_factor is not None else set()
    chosen_groups = {component[ids[j]] for j in chosen}
    keep = [k for k in range(len(names))
            if output == "scores" or (owner[k] in chosen and factor[k] != "effort")
            or (cols[k] in copula and component[ids[owner[k]]] in chosen_groups)]
    if not keep:
        what = "the selected initiatives' value" if output == "plan" else "any score"
        raise ValueError(f"no uncertain input can move {what}: every estimate that matters is a single number"
                         + (" and every confidence is 100%" if confidence_mode == "success" else ""))
    names, owner, factor = ([v[k] for k in keep] for v in (names, owner, factor))
    cols = cols[keep]
    key = {"initiative": [component[ids[j]] for j in owner], "factor": factor, None: names}[group_by]
    labels = list(dict.fromkeys(key))
    group_cols = [np.array([k for k, g in enumerate(key) if g == label]) for label in labels]
    group_owners = [sorted({owner[k] for k in c}) for c in group_cols]

    a, b = _base_matrices(len(names), n, seed)

    def run(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Value and effort, initiatives x rows; left-out design columns stay at the median."""
        full = np.full((n, model.n_dims), 0.5)
        full[:, cols] = u
        return model.value_and_effort(n, None, full)

    (v_a, e_a), (v_b, e_b) = run(a), run(b)
    # An initiative's value and effort depend on its own inputs only (correlated initiatives are
    # in one group), so groups on disjoint initiatives share one run: each initiative sees only
    # its group's swap.
    batches: list[list[int]] = []
    for g, own in enumerate(group_owners):
        batch = next((t for t in batches if all(set(own).isdisjoint(group_owners[h]) for h in t)), None)
        if batch is None:
            batches.append(batch := [])
        batch.append(g)
    f_ab_of: dict[int, np.ndarray] = {}  # group -> its outputs on AB_g
    for batch in batches:
        v, e = run(_mixed(a, b, np.concatenate([group_cols[g] for g in batch])))
        for g in batch:
            own = group_owners[g]
            if output == "plan":  # the plan on A, with the group's selected initiatives as in this run
                own = [j for j in own if j in chosen]
                f_ab_of[g] = v_a[chosen].sum(0) + (v[own].sum(0) - v_a[own].sum(0))
            else:
                f_ab_of[g] = v[own] / e[own]

    if output == "plan":
        pairs = [(0, g) for g in range(len(labels))]
        f_a, f_b = (np.broadcast_to(v[chosen].sum(0), (len(pairs), n)) for v in (v_a, v_b))
        f_ab = np.stack([f_ab_of[g] for g in range(len(labels))])
    else:  # only (initiative, group) pairs where the group holds one of the initiative's inputs
        pairs = sorted((j, g) for g, own in enumerate(group_owners) for j in own)
        f_a, f_b = (v[[j for j, _ in pairs]] / e[[j for j, _ in pairs]] for v, e in ((v_a, e_a), (v_b, e_b)))
        f_ab = np.stack([f_ab_of[g][group_owners[g].index(j)] for j, g in pairs])
    s1, st = sobol_estimates(f_a, f_b, f_ab)
    if output == "plan" and np.isnan(s1).any():
        raise ValueError("the plan's value does not vary with its uncertain inputs: Sobol indices are undefined")
    s1_conf, st_conf = bootstrap_half_width(f_a, f_b, f_ab, confidence, stream(seed, "bootstrap"))
    level = "input" if group_by is None else "group"
    if output == "plan":
        index = pd.Index(labels, name=level)
    else:
        index = pd.MultiIndex.from_arrays([[ids[j] for j, _ in pairs], [labels[g] for _, g in pairs]],
                                          names=["output", level])
    out = _table(s1, s1_conf, st, st_conf, index)
    out.attrs.update(n=n, seed=seed, evaluations=n * (len(batches) + 2), confidence=confidence,
                     confidence_mode=confidence_mode, group_by=group_by, output=output,
                     selected=[ids[j] for j in chosen] if output == "plan" else None)
    return out

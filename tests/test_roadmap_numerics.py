"""Independent numerical checks of the roadmap (issue 15), each against a closed form or a brute
force written here, never against numbers the code produced:

- deterministic efforts: the optimal roadmap's value equals the best of every assignment of start
  quarters (including "not in the horizon"), enumerated with this file's own reading of the rules;
- Smith's rule with equal durations: one initiative a quarter, largest value first;
- one lognormal effort `a..b` at C person-months a quarter: P(delivered within q quarters) =
  Phi((ln(qC) - mu) / sigma), and the p50/p90 delivery quarters from the lognormal's quantiles;
- point efforts land on time; widening one effort (same median) delays it and the work queued
  behind it on its team, and nothing else;
- the 95% intervals of P(on time) cover the closed form at close to the nominal rate;
- cost of delay: one quarter later costs one quarter of value, discounted with a discount.

Values are deterministic where a test compares exactly: point reach and impact with confidence
100% (`confidence_mode` "success": a success probability of 1 always succeeds), so an initiative's
value a quarter is R * I on every draw.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import special

import workbench as wb
from workbench.model.distributions import Z95
from workbench.rng import stream

from conftest import initiative, portfolio

FIRST = 2027 * 4  # 2027Q1 as a whole number (workbench.model.quarters)


def label(k: int) -> str:
    """The label of horizon quarter k counted from 2027Q1."""
    return f"{(FIRST + k) // 4}Q{(FIRST + k) % 4 + 1}"


def horizon(h: int) -> str:
    return f"{label(0)}:{label(h - 1)}"


def run(p, **settings):
    """The roadmap of portfolio p under the settings given (the public pipeline)."""
    return wb.roadmap(p, wb.Settings.from_mapping(settings))


def earn(h: int, tail: int, discount: float = 0.0) -> np.ndarray:
    """earn[q]: the (discounted) quarters of value of an initiative delivered at the end of horizon
    quarter q (0-based): it earns in quarters q+1 .. h+tail-1, quarter j counting (1+r)^-j."""
    factors = (1.0 + discount) ** -np.arange(h + tail, dtype=float)
    return np.array([factors[q + 1:].sum() for q in range(h)])


# --- brute force -----------------------------------------------------------------------------


def brute_force(v, effort, team, capacity, most, earliest, deadline, requires, h, tail, discount=0.0):
    """The best value over every assignment of start quarters (-1: not in the horizon) and the
    assignments reaching it, by this test's reading of the rules (issue 15, "Model"); capacity is
    teams x h person-months (a capacity table):
    m = min(max_per_quarter, the team's largest quarterly capacity), d = ceil(E/m), spend E/d a
    quarter from the start
    s to the delivery quarter s+d-1, which lies in the horizon and by the deadline; start >=
    earliest; per team and quarter the spends of the initiatives running fit its capacity; a
    dependent starts after its prerequisite's delivery quarter (the prerequisite in the roadmap);
    value v * (quarters after delivery in the horizon + tail)."""
    n = len(v)
    m = np.minimum(most, capacity.max(axis=1)[team])
    d = np.array([math.ceil(e / r - 1e-12) for e, r in zip(effort, m)])
    grid = np.array(list(itertools.product(range(-1, h), repeat=n)))  # every assignment, (h+1)^n x n
    on = grid >= 0
    deliver = grid + d - 1
    ok = ~on | ((deliver <= h - 1) & (deliver <= deadline) & (grid >= earliest))
    ok = ok.all(axis=1)
    for g in range(len(capacity)):
        for t in range(h):
            running = on & (grid <= t) & (t <= deliver) & (team == g)
            ok &= (running * (effort / d)).sum(axis=1) <= capacity[g, t] + 1e-9
    for a, b in requires:
        ok &= ~on[:, a] | (on[:, b] & (grid[:, a] > deliver[:, b]))
    gain = earn(h, tail, discount)
    value = np.where(on, v * gain[np.clip(deliver, 0, h - 1)], 0.0).sum(axis=1)
    value = np.where(ok, value, -np.inf)
    best = value.max()
    return best, grid[value == best]


def random_instance(seed: int):
    """Seven initiatives on two teams over three quarters, one dependency, one deadline and one
    earliest start; integer values and efforts, capacities that bind; from seed 4 on, Growth has
    2 person-months less in the second quarter (a capacity table)."""
    rng = stream(seed, "evaluation", "roadmap-brute-force")
    n, h = 7, 3
    v = rng.integers(1, 21, n).astype(float)
    effort = rng.integers(1, 9, n).astype(float)
    team = rng.integers(0, 2, n)
    team[:2] = (0, 1)  # both teams have work
    capacity = np.repeat(rng.integers(4, 7, 2).astype(float)[:, None], h, axis=1)
    if seed >= 4:
        capacity[0, 1] -= 2
    most = np.where(rng.random(n) < 0.4, rng.integers(2, 4, n), np.inf).astype(float)
    a, b, dl, early = rng.choice(n, 4, replace=False)
    deadline = np.full(n, h - 1)
    deadline[dl] = rng.integers(0, 2)
    earliest = np.zeros(n, int)
    earliest[early] = 1
    return v, effort, team, capacity, most, earliest, deadline, ((int(a), int(b)),), h


def as_portfolio(v, effort, team, most, earliest, deadline, requires):
    names = ("Growth", "Payments")
    deps = {a: (f"i{b}",) for a, b in requires}
    return portfolio(*[
        initiative(f"i{i}", reach=f"{v[i]:g}", impact="1", confidence="100%", effort=f"{effort[i]:g}",
                   team=names[team[i]], max_per_quarter=None if np.isinf(most[i]) else float(most[i]),
                   earliest=label(earliest[i]) if earliest[i] > 0 else None,
                   deadline=label(deadline[i]) if deadline[i] < 2 else None, depends_on=deps.get(i, ()))
        for i in range(len(v))])


SEEDS = range(12)


def test_the_random_instances_exercise_every_rule():
    """Over the instances, dropping the dependency, the deadline, the capacities or the capacity
    table's lower quarter each raises the optimum somewhere: each rule binds in some instance, so
    the comparison below tests it."""
    binds = {"dependency": 0, "deadline": 0, "capacity": 0, "table": 0}
    for seed in SEEDS:
        v, effort, team, capacity, most, earliest, deadline, requires, h = random_instance(seed)
        best, _ = brute_force(v, effort, team, capacity, most, earliest, deadline, requires, h, 4)
        binds["dependency"] += brute_force(v, effort, team, capacity, most, earliest, deadline, (), h, 4)[0] > best
        binds["deadline"] += brute_force(v, effort, team, capacity, most, earliest, np.full(len(v), h - 1),
                                         requires, h, 4)[0] > best
        binds["capacity"] += brute_force(v, effort, team, 10 * capacity, most, earliest, deadline, requires,
                                         h, 4)[0] > best
        flat = np.repeat(capacity[:, :1], h, axis=1)
        binds["table"] += brute_force(v, effort, team, flat, most, earliest, deadline, requires, h, 4)[0] > best
    assert min(binds.values()) >= 3, binds


@pytest.mark.parametrize("seed", SEEDS)
def test_optimal_roadmap_value_is_the_brute_force_optimum(seed):
    v, effort, team, capacity, most, earliest, deadline, requires, h = random_instance(seed)
    tail, discount = 2 + seed % 3, (0.0 if seed < 8 else 0.03)
    best, argbest = brute_force(v, effort, team, capacity, most, earliest, deadline, requires, h, tail, discount)
    p = as_portfolio(v, effort, team, most, earliest, deadline, requires)
    table = [["Growth", label(t), capacity[0, t]] for t in range(h) if capacity[0, t] != capacity[0, 0]]
    result = run(p, quarters=horizon(h), capacities={"Growth": capacity[0, 0], "Payments": capacity[1, 0]},
                 capacity_table=table, tail_quarters=tail, discount=discount, samples=200, scenarios=50, seed=seed)
    r = result.roadmap
    # Without a discount values are whole numbers below 1/MIP_REL_GAP (1e-6), so a roadmap within
    # the solver's gap of the optimum is the optimum: the comparison is exact. With one, within the gap.
    assert best > 0
    assert r.expected_value == pytest.approx(best, abs=1e-6, rel=0 if discount == 0 else 2e-6)
    assert r.expected_value_se == pytest.approx(0.0, abs=1e-9)
    assert r.violations == []
    # The start quarters it reports are one of the optimal assignments (ties allowed).
    assert (argbest == r.start[None, :]).all(axis=1).any()
    # ... and the JSON names them as quarters, null where left out.
    starts = [row["start_quarter"] for row in result.to_dict()["initiatives"]]
    assert starts == [None if s < 0 else label(s) for s in r.start]


def test_brute_force_respects_a_binding_dependency_and_deadline():
    """A case worked by hand, so the brute force itself is checked: Growth has 4 person-months a
    quarter over 3 quarters. a (value 10, effort 4) needs b (value 1, effort 4); c (value 6,
    effort 4) has deadline 2027Q1. Best: c in Q1, b in Q2, a in Q3 -> 6*6 + 1*5 + 10*4 = 81
    (b first would give b 6 + a 5*10 + c nothing = 56; a cannot precede b)."""
    v, effort = np.array([10.0, 1.0, 6.0]), np.array([4.0, 4.0, 4.0])
    team, capacity, most = np.zeros(3, int), np.full((1, 3), 4.0), np.full(3, np.inf)
    best, argbest = brute_force(v, effort, team, capacity, most, np.zeros(3, int), np.array([2, 2, 0]),
                                ((0, 1),), 3, 4)
    assert best == 81
    assert argbest.tolist() == [[2, 1, 0]]
    p = portfolio(initiative("a", reach="10", effort="4", team="Growth", depends_on=("b",)),
                  initiative("b", reach="1", effort="4", team="Growth"),
                  initiative("c", reach="6", effort="4", team="Growth", deadline="2027Q1"))
    r = run(p, quarters=horizon(3), capacities={"Growth": 4}, samples=100, scenarios=20).roadmap
    assert r.expected_value == pytest.approx(81.0)
    assert r.start.tolist() == [2, 1, 0]


# --- Smith's rule ----------------------------------------------------------------------------


def test_equal_durations_start_in_order_of_value_per_quarter():
    """One team doing exactly one initiative a quarter (capacity = effort): exchanging two adjacent
    starts changes the value by (v_i - v_j) x one quarter, so the largest value goes first and the
    H largest fill the H quarters; the rest are left out."""
    h, values = 4, [7, 31, 3, 19, 23, 11]
    p = portfolio(*[initiative(f"x{i}", reach=str(val), effort="5", team="Core") for i, val in enumerate(values)])
    r = run(p, quarters=horizon(h), capacities={"Core": 5}, samples=100, scenarios=20).roadmap
    order = np.argsort(values)[::-1]
    want = np.full(len(values), -1)
    want[order[:h]] = np.arange(h)
    assert r.start.tolist() == want.tolist()
    gain = earn(h, 4)
    assert r.expected_value == pytest.approx(sum(values[i] * gain[k] for k, i in enumerate(order[:h])))


# --- one lognormal effort --------------------------------------------------------------------


def lognormal(lo: float, hi: float) -> tuple[float, float]:
    """mu, sigma of the lognormal whose 5th and 95th percentiles are lo and hi (`a..b`)."""
    return (math.log(lo) + math.log(hi)) / 2, (math.log(hi) - math.log(lo)) / (2 * Z95)


def within(p_hat: float, p: float, samples: int, z: float = 4.0) -> bool:
    """|p_hat - p| within z standard errors of a proportion over `samples` independent draws."""
    return abs(p_hat - p) <= z * math.sqrt(max(p * (1 - p), 1e-12) / samples)


def test_one_lognormal_effort_delivers_within_q_quarters_with_the_closed_form_probability():
    """Effort 4..16 (median 8) at C = 5 a quarter: planned d = ceil(8/5) = 2 quarters from 2027Q1.
    The team gives it C every quarter until done, so it is delivered within q quarters exactly
    when the effort is <= qC: P = Phi((ln(qC) - mu)/sigma)."""
    lo, hi, c, samples = 4.0, 16.0, 5.0, 20_000
    mu, sigma = lognormal(lo, hi)
    p = portfolio(initiative("solo", reach="10", effort=f"{lo:g}..{hi:g}", team="Core"))
    result = run(p, quarters=horizon(4), capacities={"Core": c}, samples=samples, scenarios=200, seed=7)
    d = result.roadmap.delivery
    assert d.start.tolist() == [0]
    assert d.quarter.shape == (samples, 1)
    for q in range(1, 7):
        closed = float(special.ndtr((math.log(q * c) - mu) / sigma))
        got = float((d.quarter[:, 0] <= q - 1).mean())
        assert within(got, closed, samples), (q, got, closed)
    p_on, se = d.p_on_time()
    closed = float(special.ndtr((math.log(2 * c) - mu) / sigma))  # planned delivery: end of quarter 2
    assert within(float(p_on[0]), closed, samples)
    assert float(se[0]) == pytest.approx(math.sqrt(p_on[0] * (1 - p_on[0]) / samples))
    # p50 and p90 delivery: the quarter in which qC first reaches the effort's quantile.
    for share in (0.5, 0.9):
        effort_q = math.exp(mu + sigma * float(special.ndtri(share)))  # 8 and 13.7: far from 5, 10, 15
        assert d.delivery_percentile(share).tolist() == [math.ceil(effort_q / c) - 1]
    frame = result.to_frame()
    assert frame.loc["solo", "delivery_p50"] == label(1) and frame.loc["solo", "delivery_p90"] == label(2)


# --- point efforts, then one widened ---------------------------------------------------------


def queue(widen: str | None):
    """Growth does one of a1..a4 a quarter (effort 4 = capacity), largest value first; Payments
    does b1..b3. `widen` replaces a2's effort by a range with the same median."""
    return portfolio(
        *[initiative(f"a{k}", reach=str(50 - 10 * k), effort=(widen if k == 2 and widen else "4"), team="Growth")
          for k in range(1, 5)],
        *[initiative(f"b{k}", reach=str(40 - 10 * k), effort="4", team="Payments") for k in range(1, 4)])


def test_point_efforts_are_on_time_and_a_wider_effort_delays_only_itself_and_the_work_behind_it():
    settings = {"quarters": horizon(4), "capacities": {"Growth": 4, "Payments": 4}, "samples": 20_000,
                "scenarios": 200, "seed": 11}
    base = run(queue(None), **settings).roadmap
    p_on, se = base.delivery.p_on_time()
    assert base.start.tolist() == [0, 1, 2, 3, 0, 1, 2]
    assert p_on.tolist() == [1.0] * 7 and se.tolist() == [0.0] * 7
    assert base.lost_to_slips == pytest.approx(0.0, abs=1e-9)
    wide = run(queue("2..8"), **settings).roadmap
    assert wide.start.tolist() == base.start.tolist()  # same median: same planned effort, same roadmap
    p_wide, _ = wide.delivery.p_on_time()
    # a2 gets 4 a quarter; when its effort exceeds 4 (probability 1/2: 4 is its median) it eats
    # into a3's quarter, and a3's leftover into a4's: each of a2, a3, a4 is on time exactly when
    # a2's effort is <= 4, so each P(on time) is 1/2 (within Monte Carlo error).
    for k in (1, 2, 3):
        assert p_wide[k] < 1.0
        assert within(float(p_wide[k]), 0.5, 20_000), (k, p_wide[k])
    assert p_wide[0] == 1.0  # a1 runs before a2
    assert p_wide[4:].tolist() == [1.0] * 3  # the other team does not notice
    assert wide.lost_to_slips > 0
    # Work due in a quarter: the planned spend of what runs, and all that is left of what should
    # land by then. Growth has more due than its 4 person-months in the second quarter (all of
    # a2), the third (a2's rest + a3) and the fourth (a3's rest + a4) exactly when a2 overran:
    # probability 1/2, the same draws as a2 being late; never in the first quarter.
    over, _ = wide.delivery.p_over_capacity()
    growth, payments = wide.problem.teams.index("Growth"), wide.problem.teams.index("Payments")
    assert over[growth, 0] == 0.0
    assert over[growth, 1:].tolist() == pytest.approx([1 - p_wide[1]] * 3, abs=1e-12)
    assert within(float(over[growth, 1]), 0.5, 20_000)
    assert over[payments].tolist() == [0.0] * 4


# --- coverage of the intervals ---------------------------------------------------------------


def test_p_on_time_intervals_cover_the_closed_form_at_the_nominal_rate():
    """Three identical initiatives (effort 3..12 at 7 a quarter, one per team so each is its own
    closed form), 400 draws, over 200 seeds: p +- 1.96 se covers Phi((ln 7 - mu)/sigma) = 0.643
    in close to 95% of the 600 intervals (binomial sd of the rate ~ 0.009)."""
    lo, hi, c, samples = 3.0, 12.0, 7.0, 400
    mu, sigma = lognormal(lo, hi)
    closed = float(special.ndtr((math.log(c) - mu) / sigma))
    teams = ("Core", "Growth", "Payments")
    p = portfolio(*[initiative(f"same{k}", reach="10", effort=f"{lo:g}..{hi:g}", team=t) for k, t in enumerate(teams)])
    engine = wb.LiveEngine(p)
    covered = []
    for seed in range(200):
        settings = wb.Settings.from_mapping({"quarters": horizon(2), "capacities": {t: c for t in teams},
                                             "samples": samples, "scenarios": 20, "seed": seed})
        d = engine.roadmap(settings).roadmap.delivery
        assert d.start.tolist() == [0, 0, 0]
        p_on, se = d.p_on_time()
        covered.extend(np.abs(p_on - closed) <= 1.96 * se)
    rate = float(np.mean(covered))
    assert 0.90 <= rate <= 0.99, rate


# --- cost of delay ---------------------------------------------------------------------------


@pytest.mark.parametrize("discount", [0.0, 0.05])
def test_one_quarter_of_delay_costs_one_quarter_of_value(discount):
    """Delivered at the end of quarter q, an initiative earns v in quarters q+1 .. H+tail-1, each
    weighted (1+r)^-j; starting it one quarter later loses v (1+r)^-(q+1): exactly v without a
    discount. Capacity is ample, so forcing it does not move the other initiative."""
    h, tail, v = 4, 3, 12.0
    p = portfolio(initiative("late", reach=f"{v:g}", effort="2", team="Core"),
                  initiative("other", reach="5", effort="2", team="Core"))
    settings = {"quarters": horizon(h), "capacities": {"Core": 10}, "tail_quarters": tail, "discount": discount,
                "samples": 100, "scenarios": 20}
    values = {}
    for s in range(h):
        r = run(p, **settings, starts={"late": label(s)}).roadmap
        assert r.start.tolist() == [s, 0]
        values[s] = r.expected_value
    gain = earn(h, tail, discount)
    for s in range(h - 1):
        lost = v * (1 + discount) ** -(s + 1)
        assert values[s] - values[s + 1] == pytest.approx(lost, rel=1e-9)
    assert values[0] == pytest.approx(v * gain[0] + 5 * gain[0], rel=1e-9)
    if discount == 0:
        assert [values[s] - values[s + 1] for s in range(h - 1)] == pytest.approx([v] * (h - 1), rel=1e-9)

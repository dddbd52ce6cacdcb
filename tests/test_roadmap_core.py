"""The roadmap's settings, capacity tables, model arrays, infeasibility in words and the rules a
user's roadmap is held to. The numbers against brute force and closed forms are in
test_roadmap_numerics.py."""

from __future__ import annotations

import numpy as np
import pytest

import workbench as wb
from workbench.errors import InputError
from workbench.io.capacity_table import read_capacity_table
from workbench.model.estimates import parse_estimate
from workbench.model.portfolio import Initiative, Portfolio
from workbench.model.quarters import parse_quarter, quarter_label, quarter_range
from workbench.planning.constraints import Infeasible
from workbench.planning.roadmap import violations
from workbench.planning.roadmap_problem import roadmap_problem

Q1 = parse_quarter("2027Q1")


def ini(id_, effort, value=100.0, team="A", **kw) -> Initiative:
    return Initiative(id_, id_.title(), parse_estimate(str(value), "reach"), parse_estimate("1", "impact"),
                      parse_estimate("100%", "confidence"), parse_estimate(str(effort), "effort"), team=team, **kw)


def test_quarters_are_read_in_the_spellings_tools_export():
    for text in ("2027Q1", "2027-q1", "2027 Q1", "Q1 2027", "q1-2027", "Q1/2027"):
        assert parse_quarter(text) == Q1
    assert quarter_label(Q1 + 5) == "2028Q2"
    assert quarter_range("2027Q3:2028Q2") == (Q1 + 2, Q1 + 3, Q1 + 4, Q1 + 5)
    assert quarter_range(None, Q1) == (Q1, Q1 + 1, Q1 + 2, Q1 + 3)
    for bad, says in (("2027Q5", "2027Q1"), ("2028Q1:2027Q1", "write 2027Q1:2028Q1"), ("1999Q1:2027Q1", "over")):
        with pytest.raises(ValueError, match=says):
            quarter_range(bad)


def test_roadmap_settings_are_checked_and_round_trip():
    s = wb.Settings.from_mapping({"quarters": "Q1 2027:2027-Q4", "capacity_table": "Growth:q2 2027=6",
                                  "starts": ["checkout=2027Q2"], "discount": "2%", "tail_quarters": "2",
                                  "roadmap": "greedy"})
    assert (s.quarters, s.capacity_table, s.starts, s.discount) == (
        "2027Q1:2027Q4", (("Growth", "2027Q2", 6.0),), (("checkout", "2027Q2"),), 0.02)
    assert wb.Settings.from_mapping(s.to_dict()) == s
    with pytest.raises(InputError) as err:
        wb.Settings.from_mapping({"quarters": "2027", "roadmap": "best", "discount": "120%", "starts": "a=soon"})
    text = str(err.value)
    for says in ("quarters:", "roadmap: expected one of optimal, greedy, yours", "discount:", "starts:"):
        assert says in text
    with pytest.raises(InputError) as err:
        wb.Settings(starts=(("nope", "2027Q1"),), capacity_table=(("Nobody", "2027Q1", 3.0),)).for_portfolio(
            wb.demo_portfolio())
    assert "starts: unknown initiative 'nope'" in str(err.value)
    assert "capacity_table: no initiative belongs to team 'Nobody'" in str(err.value)


def test_capacity_table_reports_every_bad_cell_with_its_line(tmp_path):
    good = tmp_path / "capacity.csv"
    good.write_text("team,quarter,capacity\nGrowth,2027Q1,6\nGrowth,Q3 2027,1.5k\n")
    assert read_capacity_table(good) == (("Growth", "2027Q1", 6.0), ("Growth", "2027Q3", 1500.0))
    bad = tmp_path / "bad.csv"
    bad.write_text("team,quarter,capacity\n,2027Q1,6\nGrowth,2027Q9,-1\nGrowth,2027Q1,x\nGrowth,2027Q2,2\ngrowth,2027Q2,3\n")
    with pytest.raises(InputError) as err:
        read_capacity_table(bad)
    lines = [(p.line, p.column) for p in err.value.problems]
    assert (2, "team") in lines and (3, "quarter") in lines and (3, "capacity") in lines and (4, "capacity") in lines
    assert any("given twice" in p.message for p in err.value.problems)
    (tmp_path / "cols.csv").write_text("team,capacity\nGrowth,3\n")
    with pytest.raises(InputError, match="missing quarter"):
        read_capacity_table(tmp_path / "cols.csv")


def test_durations_spend_and_the_value_of_each_delivery_quarter():
    p = Portfolio((ini("big", 10), ini("small", 2, max_per_quarter=1.0)))
    prob = roadmap_problem(p, quarter_range("2027Q1:2027Q4"), np.array([10.0, 2.0]), capacities={"A": 4.0})
    assert list(prob.duration) == [3, 2]  # ceil(10 / 4), ceil(2 / min(1, 4))
    assert prob.spend == pytest.approx([10 / 3, 1.0])
    assert prob.earning() == pytest.approx([3 + 4, 2 + 4, 1 + 4, 0 + 4])  # later horizon quarters + tail
    r = 0.05
    disc = roadmap_problem(p, quarter_range("2027Q1:2027Q4"), np.array([10.0, 2.0]), capacities={"A": 4.0},
                           discount=r, tail=2)
    expected = [sum((1 + r) ** -j for j in range(q + 1, 6)) for q in range(4)]
    assert disc.earning() == pytest.approx(expected)
    # "big" runs 3 quarters: it can start in the first two only.
    assert disc.allowed()[0].tolist() == [True, True, False, False]


def test_a_team_without_capacity_is_named_with_the_fix():
    p = Portfolio((ini("a", 2, team="Growth"), ini("b", 2, team="Data"), ini("c", 2, team=None)))
    with pytest.raises(InputError) as err:
        roadmap_problem(p, quarter_range("2027Q1:2027Q2"), np.array([2.0, 2.0, 2.0]), capacities={"Growth": 3})
    text = str(err.value)
    assert "none given for 'Data': give --capacity Data=N" in text
    assert "initiatives without a team ('c') need --budget" in text
    # A budget (person-months a quarter over all teams) bounds the teams without a capacity.
    ok = roadmap_problem(p, quarter_range("2027Q1:2027Q2"), np.array([2.0, 2.0, 2.0]), capacities={"Growth": 3},
                         total=3.0)
    assert ok.total == 3.0 and list(ok.duration) == [1, 1, 1]


def test_infeasible_roadmaps_say_which_team_quarter_and_deadline():
    p = Portfolio((ini("a", 6, moscow="must", deadline="2027Q1"), ini("b", 2)))
    with pytest.raises(Infeasible) as err:
        wb.roadmap(p, wb.Settings(), start=Q1, capacities="A=4", samples=200, scenarios=20)
    assert "'a' must be in the roadmap, but 6 person-months at most 4 a quarter take 2 quarters" in str(err.value)
    assert "after 2027Q1" in str(err.value)
    p2 = Portfolio((ini("a", 3), ini("b", 3)))
    with pytest.raises(Infeasible) as err:
        wb.roadmap(p2, wb.Settings(), start=Q1, capacities="A=4", starts="a=2027Q2,b=2027Q2",
                   samples=200, scenarios=20)
    assert "A in 2027Q2: the initiatives forced into the roadmap need 6 person-months, the capacity is 4: 2 short" \
        in str(err.value)


def test_your_roadmap_is_simulated_and_its_broken_rules_listed():
    p = Portfolio((ini("a", 3, extra={"when": "2027Q2"}), ini("b", 3, depends_on=("a",), extra={"when": "2027Q2"}),
                   ini("c", 9, extra={"when": "2027Q4"})))
    result = wb.roadmap(p, wb.Settings(), start=Q1, capacities="A=4", plan_column="when", roadmap="yours",
                        samples=200, scenarios=20)
    broken = result.roadmap.violations
    assert "b: starts in 2027Q2 but needs a, delivered in 2027Q2" in broken
    assert any(v.startswith("A in 2027Q2: 6 person-months planned, capacity 4") for v in broken)
    assert any(v.startswith("c: started in 2027Q4, its 3 quarters end in 2028Q2, after the horizon") for v in broken)
    assert set(result.others) == {"optimal", "greedy"}
    assert violations(result.problem, result.others["optimal"].start) == []
    assert violations(result.problem, result.others["greedy"].start) == []
    frame = result.to_frame()
    assert frame.loc["a", "start_quarter"] == "2027Q2" and frame.loc["c", "delivery_quarter"] == "2028Q2"


def test_the_engine_reuses_draws_and_solves_and_gives_the_same_numbers():
    portfolio = wb.demo_portfolio()
    s = wb.Settings(budget=40, capacities=(("Payments", 12.0), ("Growth", 8.0)), samples=2000, scenarios=200)
    engine = wb.LiveEngine(portfolio)
    first = engine.roadmap(s, start=Q1)
    again = engine.roadmap(s, start=Q1)
    fresh = wb.roadmap(portfolio, s, start=Q1)
    assert first.to_dict() == again.to_dict() == fresh.to_dict()
    moved = engine.roadmap(s.with_start("card-payments", "2027Q3"), start=Q1)
    assert moved.to_frame().loc["card-payments", "start_quarter"] == "2027Q3"
    assert moved.roadmap.expected_value < first.roadmap.expected_value  # forcing a start never helps


def test_a_deadline_a_prerequisite_makes_impossible_and_a_cycle_are_named():
    p = Portfolio((ini("a", 3, moscow="must", deadline="2027Q2", depends_on=("b",)), ini("b", 8)))
    with pytest.raises(Infeasible) as err:
        wb.roadmap(p, wb.Settings(), start=Q1, capacities="A=4", samples=200, scenarios=20)
    assert ("'a' must be delivered by 2027Q2, but it needs 'b' first, which takes 2 quarters from 2027Q1 at the "
            "soonest: 'a' could start in 2027Q3") in str(err.value)
    cycle = Portfolio((ini("a", 3, depends_on=("b",)), ini("b", 3, depends_on=("a",))))
    with pytest.raises(Infeasible, match="dependency cycle: a → b → a"):
        wb.roadmap(cycle, wb.Settings(), start=Q1, capacities="A=4", samples=200, scenarios=20)


DEMO_TEAMS = ("Data", "Growth", "Mobile", "Payments", "Platform")


def test_greedy_keeps_a_forced_start_whose_prerequisite_ranks_low():
    s = wb.Settings(capacities={t: 6 for t in DEMO_TEAMS}, starts={"scim": "2027Q2"}, quarters="2027Q1:2027Q4",
                    samples=500, scenarios=50)
    result = wb.roadmap(wb.demo_portfolio(), s)
    greedy = result.others["greedy"]
    p = result.problem
    assert greedy.start[p.ids.index("scim")] == 1 and greedy.start[p.ids.index("sso-saml")] == 0
    assert greedy.violations == [] and result.roadmap.violations == []


def test_a_capacity_table_for_every_quarter_needs_no_capacity_flag(tmp_path):
    rows = [(t, f"2027Q{q}", 6.0) for t in DEMO_TEAMS for q in range(1, 5)]
    result = wb.roadmap(wb.demo_portfolio(), wb.Settings(capacity_table=rows, quarters="2027Q1:2027Q4",
                                                        samples=500, scenarios=50))
    assert np.isfinite(result.problem.capacity).all() and result.problem.total is None
    with pytest.raises(InputError, match="none given for 'Payments'"):  # no row for Payments in 2027Q4
        wb.roadmap(wb.demo_portfolio(), wb.Settings(capacity_table=rows[:-5] + rows[-4:],
                                                    quarters="2027Q1:2027Q4", samples=500, scenarios=50))


@pytest.mark.parametrize("changes, says", [
    ({"starts": {"scim": "2027Q1"}},
     "'scim' is forced to start in 2027Q1, but it needs 'sso-saml' delivered first, in 2027Q1 at the soonest"),
    ({"starts": {"scim": "2027Q2"}, "earliest_starts": {"scim": "2027Q3"}},
     "'scim' is forced to start in 2027Q2, before its earliest start 2027Q3"),
    ({"overrides": {"tax-engine": "in", "tax-vendor": "in"}},
     "'tax-engine' and 'tax-vendor' exclude each other, but both must be in the roadmap"),
])
def test_forced_starts_and_exclusive_must_haves_are_explained(changes, says):
    s = wb.Settings(capacities={t: 6 for t in DEMO_TEAMS}, quarters="2027Q1:2027Q4", samples=500, scenarios=50)
    with pytest.raises(Infeasible) as err:
        wb.roadmap(wb.demo_portfolio(), s.change(**changes))
    assert says in str(err.value)


def test_your_roadmaps_column_is_found_by_its_header_and_refused_when_it_holds_no_quarters():
    p = Portfolio((ini("a", 3, extra={"my_plan": "2027Q2"}), ini("b", 3)))
    s = wb.Settings(capacities={"A": 4}, quarters="2027Q1:2027Q4", samples=200, scenarios=20)
    mine = wb.roadmap(p, s.change(plan_column="My plan", roadmap="yours"))
    assert mine.roadmap.label == "your roadmap" and list(mine.roadmap.start) == [1, -1]
    for column, says in (("name", "plan_column: the name column holds no quarters"),
                         ("my_plann", "plan_column: the portfolio has no column 'my_plann'; did you mean")):
        with pytest.raises(InputError, match=says):
            wb.roadmap(p, s.change(plan_column=column))
    with pytest.raises(InputError, match="roadmap: yours: no start quarter in the planned_quarter column"):
        wb.roadmap(p, s.change(roadmap="yours"))
    with pytest.raises(InputError, match=r"starts: 'a' is given twice \(2027Q2 and 2027Q3\)"):
        wb.roadmap(p, s.change(starts=["a=2027Q2", "a=2027Q3"]))

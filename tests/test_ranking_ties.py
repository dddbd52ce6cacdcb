"""Ranking honesty: statistically tied initiatives share a rank, and k covering every initiative is
said in words, in every view of the ranking (CLI text and JSON, report, dashboard, chart)."""

from __future__ import annotations

import numpy as np
import pytest

from workbench import simulate
from workbench.reports.content import _ranking_summary
from workbench.views import charts
from workbench.views.tables import ranking_note, ranking_table, ranking_ties, tie_groups
from workbench.views.text import score_record, score_table

from conftest import initiative, portfolio


def test_tie_groups_follow_the_rule_on_hand_made_numbers():
    # |Δp| ≤ sqrt(h_a² + h_b²): 0.01 ≤ 0.028 ties, 0.19 does not; a lone last entry keeps its rank.
    first, last = tie_groups(np.array([0.5, 0.49, 0.3, 0.29, 0.1]), np.full(5, 0.02))
    assert first.tolist() == [1, 1, 3, 3, 5] and last.tolist() == [2, 2, 4, 4, 5]
    # A chain: each step (0.02) is within 0.015·√2 = 0.0212, so the run is one group of three.
    first, last = tie_groups(np.array([0.5, 0.48, 0.46]), np.full(3, 0.015))
    assert first.tolist() == [1, 1, 1] and last.tolist() == [3, 3, 3]
    # Without error, only equal values tie (two initiatives that never reach the top k, say).
    first, last = tie_groups(np.array([1.0, 0.5, 0.0, 0.0]), np.zeros(4))
    assert first.tolist() == [1, 2, 3, 3] and last.tolist() == [1, 2, 4, 4]
    assert [a.tolist() for a in tie_groups(np.array([0.3]), np.array([0.01]))] == [[1], [1]]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_identical_initiatives_are_all_tied(seed):
    n = 8
    result = simulate(portfolio(*(initiative(f"i{j}", reach="100..200") for j in range(n))),
                      samples=4000, seed=seed, top_k=3)
    ties = ranking_ties(result, 3)
    assert (ties["first"] == 1).all() and (ties["last"] == n).all()
    table = ranking_table(result, 3)
    assert list(table.columns[:2]) == ["initiative", "rank"] and set(table["rank"]) == {f"1–{n}"}
    text = score_table(result, 3)
    assert sum(line.lstrip().startswith(f"1–{n} ") for line in text.splitlines()) == n
    assert f"A shared rank such as 1–{n} means statistically tied" in text
    assert all(r["rank_group"] == [1, n] for r in score_record(result, 3)["initiatives"])
    assert "statistically tied" in ranking_note(result, 3)


def test_clearly_separated_initiatives_keep_their_own_ranks():
    # P(top 1): a certain 1,000 beats a risky 300..1,200 most of the time, and 10 never wins.
    result = simulate(portfolio(initiative("sure", reach="1000"), initiative("risky", reach="300..1200"),
                                initiative("small", reach="10")), samples=4000, seed=5, top_k=1)
    p, _ = result.p_top_k(1)
    assert p[0] > 0.7 and 0.02 < p[1] < 0.3 and p[2] == 0  # clearly apart at 4,000 samples
    ties = ranking_ties(result, 1)
    assert list(ties.index) == ["sure", "risky", "small"] and ties["rank"].tolist() == ["1", "2", "3"]
    assert ranking_note(result, 1) == "" and "statistically tied" not in score_table(result, 1)
    record = score_record(result, 1)
    assert [r["rank_group"] for r in record["initiatives"]] == [[1, 1], [2, 2], [3, 3]]
    assert record["all_in_top_k"] is False and "ranking_note" not in record


def test_k_covering_every_initiative_is_said_not_shown_as_a_finding():
    result = simulate(portfolio(*(initiative(f"i{j}", reach=f"{100 * (j + 1)}..{300 * (j + 1)}") for j in range(4))),
                      samples=2000, seed=7, top_k=4)
    sentence = "Every initiative is in the top 4 by construction"
    text = score_table(result, 4)
    assert sentence in text and "P(top 4)" not in text.splitlines()[2]  # no column of 1.00
    table = ranking_table(result, 4)
    assert "P(top 4)" not in table.columns and "rank" not in table.columns
    assert list(table.index) == list(result.summary(4).sort_values("expected_rank").index)
    record = score_record(result, 4)
    assert record["all_in_top_k"] is True and record["ranking_note"].startswith(sentence)
    subtitle = charts.top_k_probability(result, 4).to_dict()["title"]["subtitle"]
    assert "every initiative is in the top 4 by construction" in subtitle


def test_the_executive_summary_says_when_the_cut_at_k_is_not_settled():
    result = simulate(portfolio(*(initiative(f"i{j}", reach="100..200") for j in range(6))),
                      samples=2000, seed=1, top_k=2)
    html = _ranking_summary(result, 2)
    assert "Ranks 1–6 are statistically tied across the cut at 2" in html
    assert html.count("<li>1–6. ") == 2  # the top 2, each with the shared rank

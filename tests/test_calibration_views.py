"""Views of learning from actuals: tables escape user text, charts carry tooltips, titles and the
reference a calibrated history would follow, the sentence names each correction, explain has the topics.

A history is built here from a known process (actual / median ~ lnN(ln 1.3, 2s) on lognormal ranges
of log-sd s: the 90% range holds the actual with probability P(|ln1.3/s + 2Z| <= 1.645)), so the
rates the views show are checked against the closed form.
"""

from __future__ import annotations

import html
import json
import math

import numpy as np
import pytest
from scipy import stats

from workbench.calibration.correction import learn
from workbench.calibration.history import Actual, History, Record
from workbench.calibration.measures import measure
from workbench.model.estimates import lognormal_interval, point
from workbench.model.portfolio import Initiative, Portfolio
from workbench.rng import stream
from workbench.views.calibration_charts import coverage_chart, pit_histogram, reliability_chart
from workbench.views.calibration_tables import (
    calibration_html,
    calibration_sentence,
    calibration_text,
    correction_html,
    correction_text,
    pit_words,
)
from workbench.views.explain import TOPICS, explain

EVIL = "<b>Growth</b> & co"  # control characters are refused when an initiative is made
S, BIAS, K, N = 0.25, math.log(1.3), 2.0, 400


@pytest.fixture(scope="module")
def history() -> History:
    rng = stream(3, "synthetic-history", "views-test")
    medians = np.exp(rng.normal(1.0, 0.5, N))
    ratios = np.exp(rng.normal(BIAS, K * S, N))
    delivered = rng.random(N) < 0.5
    records = []
    for i in range(N):
        m = float(medians[i])
        ini = Initiative(f"i{i}", f"n{i}", reach=point(100), impact=point(1), confidence=point(0.8),
                         effort=lognormal_interval(m * math.exp(-1.6449 * S), m * math.exp(1.6449 * S)),
                         team=EVIL if i % 2 else "Platform")
        records.append(Record("2026Q1", ini, Actual(f"i{i}", "2026Q1", actual_effort=m * float(ratios[i]),
                                                    delivered=bool(delivered[i]))))
    return History(tuple(records), ("h.csv",), "a.csv")


@pytest.fixture(scope="module")
def report(history):
    return measure(history)


def test_the_text_shows_the_rates_of_the_generating_process(report):
    truth = stats.norm.cdf((1.6449 - BIAS / S) / K) - stats.norm.cdf((-1.6449 - BIAS / S) / K)
    hit = report.factors["effort"].hit_rate[0.9]
    assert abs(hit.value - truth) <= 4 * hit.se
    text = calibration_text(report)
    shown = f"{hit.value:.0%} ± {1.96 * hit.se:.0%}"
    assert shown in text
    assert "ranges too narrow: the actual fell outside the 90% range" in text
    words = pit_words(report.factors["effort"])
    assert words.startswith("ranges too narrow") and f"{1 - hit.value:.0%} of the time" in words


def test_tables_escape_user_text(report, history):
    calibration = learn(history, seed=1)
    for page in (calibration_html(report), correction_html(calibration)):
        assert "<b>Growth</b>" not in page
        assert html.escape("<b>Growth</b>") in page or "&lt;b&gt;Growth&lt;/b&gt;" in page
    text = correction_text(calibration)
    assert "Method:" in text and EVIL in text  # a terminal shows the name as written


def test_the_sentence_names_each_correction_used(history):
    calibration = learn(history, seed=1)
    own = calibration.correction("effort", "Platform")
    portfolio = Portfolio((Initiative("x", "X", reach=point(1), impact=point(1), confidence=point(0.8),
                                      effort=lognormal_interval(2, 8), team="Platform"),))
    sentence = calibration_sentence(calibration, portfolio, "success")
    assert sentence.startswith("Calibrated ranges (learned from 1 quarter, 400 past initiatives): ")
    assert f"effort of team Platform ×{own.shift:.2f} and {own.widen:.1f}× as wide" in sentence
    assert abs(own.shift - 1.3) <= 4 * own.shift_se  # the generating bias
    assert "delivery chances of team Platform" in sentence
    assert "delivery chances" not in calibration_sentence(calibration, portfolio, "multiplier")


def _spec(chart) -> str:
    return json.dumps(chart.to_dict())


def test_charts_have_titles_tooltips_and_their_reference(report):
    cov = coverage_chart(report)
    spec = _spec(cov)
    assert "tooltip" in spec and "How often the actual fell inside the stated range" in spec
    nominal = [row["nominal"] for row in cov.to_dict()["datasets"].values().__iter__().__next__()]
    assert sorted(set(nominal)) == [0.5, 0.8, 0.9]
    pit = pit_histogram(report)
    spec = _spec(pit)
    assert "tooltip" in spec and "Where the actuals fell within their estimates" in spec
    rows = next(iter(pit.to_dict()["datasets"].values()))
    assert sum(r["count"] for r in rows) == report.factors["effort"].n - report.factors["effort"].n_point
    assert all(r["even"] == pytest.approx(sum(x["count"] for x in rows) / 10) for r in rows)
    rel = reliability_chart(report, by_team=True)
    spec = _spec(rel)
    assert "tooltip" in spec and "Stated chance of delivery" in spec
    diagonal = [rows for rows in rel.to_dict()["datasets"].values() if rows and "x" in rows[0]]
    assert [r["x"] for r in diagonal[0]] == [0.0, 1.0]  # the diagonal a calibrated estimator follows
    assert "<b>Growth</b> & co" in spec  # user text enters as data, not markup


def test_explain_has_the_calibration_topics_in_plain_words():
    for topic in ("calibration", "pit", "reliability", "correction"):
        assert topic in TOPICS
        text = explain(topic)
        assert len(text) > 100 and "PIT" not in text.split(".")[0]
    assert "9 in 10" in explain("correction")

"""The simulation engine against closed forms, exact identities and known distributions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

import workbench.engine.simulation as simulation
from workbench import Correlation, simulate
from workbench.engine.simulation import effective_estimates, spread_factor
from workbench.model.estimates import lognormal_interval

from conftest import initiative, portfolio

Z95 = 1.6448536269514722


def lognormal_params(lo, hi):
    return (np.log(lo) + np.log(hi)) / 2, (np.log(hi) - np.log(lo)) / (2 * Z95)


def test_classic_rice_by_hand_and_multiplier_mode_reproduces_spreadsheet():
    p = portfolio(
        initiative("a", reach="1000", impact="high", confidence="80%", effort="4"),   # 1000*2*0.8/4 = 400
        initiative("b", reach="2.5k", impact="low", confidence="medium", effort="2"),  # 2500*0.5*0.8/2 = 500
        initiative("c", reach="300", impact="massive", confidence="50%", effort="0.5"),  # 300*3*0.5/0.5 = 900
    )
    assert [i.rice() for i in p] == pytest.approx([400, 500, 900], rel=1e-12)
    r = simulate(p, samples=1000, seed=1, confidence_mode="multiplier")
    s = r.summary(top_k=1)
    assert list(s.index) == ["c", "b", "a"]
    np.testing.assert_allclose(r.scores, np.broadcast_to([400, 500, 900], (1000, 3)), rtol=1e-12)
    assert s.loc["c", "p_top_k"] == 1 and s.loc["c", "p_top_k_se"] == 0
    assert s.loc["a", "expected_rank"] == 3
    assert (s["sd"] == 0).all()


def test_success_mode_mean_matches_closed_form():
    # E[score] = E[R] E[I] C E[1/E], independent factors.
    p = portfolio(initiative("x", reach="200..800", impact="pert(1, 2, 4)", confidence="70%", effort="2..6"))
    mu_r, s_r = lognormal_params(200, 800)
    mu_e, s_e = lognormal_params(2, 6)
    expected = np.exp(mu_r + s_r**2 / 2) * (1 + 4 * 2 + 4) / 6 * 0.7 * np.exp(-mu_e + s_e**2 / 2)
    r = simulate(p, samples=400_000, seed=3)
    se = r.sd[0] / np.sqrt(r.samples)
    assert abs(r.mean[0] - expected) < 4 * se
    # Bernoulli(C) delivery: a failed initiative scores exactly 0.
    assert abs((r.scores[:, 0] == 0).mean() - 0.3) < 4 * np.sqrt(0.3 * 0.7 / r.samples)


@pytest.mark.parametrize("method", ["mc", "lhs", "sobol"])
def test_quantiles_match_lognormal(method):
    # A single uncertain factor: the score is lognormal 100..400 times 2 / 1.
    p = portfolio(initiative("x", reach="100..400", impact="high"))
    r = simulate(p, samples=40_000, seed=5, method=method)
    mu, sigma = lognormal_params(100, 400)
    exact = 2 * stats.lognorm(sigma, scale=np.exp(mu)).ppf([0.1, 0.5, 0.9])
    np.testing.assert_allclose(r.quantiles[:, 0], exact, rtol=0.02)


def test_streamed_quantiles_when_scores_are_not_kept(monkeypatch):
    monkeypatch.setattr(simulation, "CHUNK_ELEMENTS", 20_000)  # many chunks
    p = portfolio(initiative("x", reach="100..400"), initiative("y", effort="1..3"))
    r = simulate(p, samples=200_000, seed=9, keep_scores=False)
    with pytest.raises(ValueError, match="was not kept"):
        r.scores
    mu, sigma = lognormal_params(100, 400)
    np.testing.assert_allclose(r.quantiles[:, 0], stats.lognorm(sigma, scale=np.exp(mu)).ppf([0.1, 0.5, 0.9]), rtol=0.01)
    mu_e, s_e = lognormal_params(1, 3)  # score of y = 100 / E
    np.testing.assert_allclose(r.quantiles[:, 1], 100 / stats.lognorm(s_e, scale=np.exp(mu_e)).ppf([0.9, 0.5, 0.1]), rtol=0.01)
    assert abs(r.mean[1] - 100 * np.exp(-mu_e + s_e**2 / 2)) < 4 * r.sd[1] / np.sqrt(r.samples)


def test_same_seed_same_numbers_other_seed_other_numbers():
    p = portfolio(initiative("a", reach="100..900", confidence="60%"), initiative("b", reach="pert(100, 300, 800)"),
                  initiative("c", effort="0.5..2", impact="low..high"))
    for method in ("mc", "lhs", "sobol"):
        r1, r2 = (simulate(p, samples=4096, seed=11, method=method) for _ in range(2))
        np.testing.assert_array_equal(r1.scores, r2.scores)
        assert r1.summary().equals(r2.summary())
        r3 = simulate(p, samples=4096, seed=12, method=method)
        assert not np.array_equal(r1.scores, r3.scores)


def test_methods_agree_within_their_errors(make_portfolio):
    from workbench import demo_portfolio

    p = demo_portfolio()
    results = {m: simulate(p, samples=16_384, seed=21, method=m) for m in ("mc", "lhs", "sobol")}
    p_mc, se_mc = results["mc"].p_top_k(5)
    for m in ("lhs", "sobol"):
        p_q, se_q = results[m].p_top_k(5)
        z = np.abs(p_q - p_mc) / np.sqrt(se_mc**2 + se_q**2 + 1e-12)
        assert z.max() < 4.5, (m, z.max())
        # quasi-random methods are at least as precise here
        assert np.median(se_q[p_mc > 0.05]) <= np.median(se_mc[p_mc > 0.05])


@pytest.mark.parametrize("method", ["mc", "sobol"])
@pytest.mark.parametrize("rho", [0.6, -0.4])
def test_correlations_reach_requested_rank_correlation(method, rho):
    # Only reach is uncertain, so each score is a monotone function of reach.
    p = portfolio(initiative("a", reach="100..1000"), initiative("b", reach="pert(50, 200, 900)"),
                  initiative("c", reach="10..20", effort="1..2"),
                  correlations=[Correlation(("a", "reach"), ("b", "reach"), rho)])
    r = simulate(p, samples=32_768, seed=4, method=method)
    got = stats.spearmanr(r.scores[:, 0], r.scores[:, 1]).statistic
    assert abs(got - rho) < 4 * (1 - rho**2) / np.sqrt(r.samples) + 0.005
    # the uncorrelated initiative stays uncorrelated
    assert abs(stats.spearmanr(r.scores[:, 0], r.scores[:, 2]).statistic) < 4 / np.sqrt(r.samples)


def test_ties_are_broken_at_random_and_every_sample_has_exactly_k_in_top_k():
    # a and b are identical point estimates: each wins rank 1 half of the time.
    p = portfolio(initiative("a", reach="500"), initiative("b", reach="500"), initiative("c", reach="100"),
                  initiative("d", reach="100..900", confidence="50%"))
    r = simulate(p, samples=20_000, seed=8, confidence_mode="multiplier")
    probs = r.rank_probabilities()
    np.testing.assert_allclose(probs.sum(axis=0), 1)
    np.testing.assert_allclose(probs.sum(axis=1), 1)
    pa, pb = probs.loc["a"], probs.loc["b"]
    # the difference of two estimated proportions has twice the variance of one
    np.testing.assert_allclose(pa.values, pb.values, atol=4 * np.sqrt(2 * 0.25 / r.samples))
    for k in range(1, 5):
        assert r.p_top_k(k)[0].sum() == pytest.approx(k, abs=1e-12)
    # success mode: failed initiatives tie at 0; the ranking still has exactly k in the top k
    s = simulate(p, samples=20_000, seed=8, confidence_mode="success")
    assert s.p_top_k(2)[0].sum() == pytest.approx(2, abs=1e-12)


def test_ties_between_delivered_scores_do_not_depend_on_row_order():
    # Delivered, a and b both score exactly 100, although a's confidence is a range: in success
    # mode confidence decides delivery, not the score, so only the tie-break separates them.
    a, b = initiative("a", confidence="60%..90%"), initiative("b", confidence="50%")
    pa, pb = a.confidence.mean(), 0.5
    # a first: a delivers and b fails, or both deliver (a wins half), or both fail (half).
    exact = pa * (1 - pb) + (pa * pb + (1 - pa) * (1 - pb)) / 2
    for order in ((a, b), (b, a)):
        r = simulate(portfolio(*order), samples=40_000, seed=3, confidence_mode="success")
        p_a = r.summary(1).loc["a", "p_top_k"]
        assert abs(p_a - exact) < 4 * np.sqrt(exact * (1 - exact) / r.samples), (order[0].id, p_a, exact)


def test_pairwise_matches_closed_form_for_lognormals():
    p = portfolio(initiative("a", reach="100..800"), initiative("b", reach="200..600"))
    r = simulate(p, samples=100_000, seed=2)
    (ma, sa), (mb, sb) = lognormal_params(100, 800), lognormal_params(200, 600)
    exact = special.ndtr((ma - mb) / np.hypot(sa, sb))
    pw = r.pairwise()
    assert abs(pw.loc["a", "b"] - exact) < 4 * np.sqrt(exact * (1 - exact) / r.samples)
    assert pw.loc["a", "b"] + pw.loc["b", "a"] == pytest.approx(1)


def test_spread_mode_widens_single_numbers_by_the_mapping():
    assert spread_factor([1.0, 0.8, 0.5, 0.2]) == pytest.approx([1, 1.5, 3, 6])
    assert spread_factor(0.65) == pytest.approx(np.sqrt(1.5 * 3))  # log-linear between 80% and 50%
    assert spread_factor(0.1) == pytest.approx(6)
    p = portfolio(initiative("a", reach="100", impact="2", confidence="80%", effort="4"),
                  initiative("b", reach="100..400", confidence="50%"),
                  initiative("c", reach="100", confidence="100%"))
    est = effective_estimates(p, "spread")
    a_reach = est["reach"][0]
    assert a_reach.ppf(0.05) == pytest.approx(100 / 1.5) and a_reach.ppf(0.95) == pytest.approx(150)
    assert est["effort"][0].ppf(0.95) == pytest.approx(6)
    assert est["reach"][1] == p["b"].reach  # already a range: unchanged
    assert est["reach"][2].is_point  # 100% confident: exact
    r = simulate(p, samples=100_000, seed=6, confidence_mode="spread")
    # C is not multiplied: the median score of a is 100*2/4
    assert r.quantiles[1, 0] == pytest.approx(50, rel=0.02)
    # mapping is tunable
    wide = effective_estimates(p, "spread", spread={1.0: 1.0, 0.8: 4.0})
    assert wide["reach"][0].ppf(0.95) == pytest.approx(400)


def test_precision_mode_reaches_target_or_says_it_hit_the_cap():
    from workbench import demo_portfolio

    p = demo_portfolio()
    r = simulate(p, precision=0.02, seed=1, top_k=5)
    assert r.precision_reached <= 0.02
    # the half-width formula: 1.96 sqrt(p(1-p)/N) for plain Monte Carlo
    pk = r.p_top_k(5)[0]
    assert r.precision_reached == pytest.approx(1.959964 * np.sqrt((pk * (1 - pk)).max() / r.samples))
    capped = simulate(p, precision=0.001, seed=1, max_samples=5000)
    assert capped.samples == 5000 and capped.precision_reached > 0.001
    for method in ("lhs", "sobol"):
        q = simulate(p, precision=0.02, seed=1, method=method)
        assert q.precision_reached <= 0.02


def test_lognormal_interval_helper_is_the_5_95_interval():
    e = lognormal_interval(3, 12)
    assert e.ppf(0.05) == pytest.approx(3) and e.ppf(0.95) == pytest.approx(12)


def test_bad_arguments_are_clear_errors():
    p = portfolio(initiative("a"), initiative("b"))
    with pytest.raises(ValueError, match="unknown method"):
        simulate(p, method="quasi")
    with pytest.raises(ValueError, match="unknown confidence mode"):
        simulate(p, confidence_mode="bayes")
    with pytest.raises(ValueError, match="top_k must be between 1 and"):
        simulate(p, top_k=3, precision=0.01)
    with pytest.raises(ValueError, match="top_k must be at least 1"):
        simulate(p, samples=100).summary(top_k=0)
    assert (simulate(p, samples=100).summary(top_k=5)["p_top_k"] == 1).all()  # 2 initiatives: both in any top 5


def test_progress_reports_monotone_counts_up_to_the_total(monkeypatch):
    monkeypatch.setattr(simulation, "CHUNK_ELEMENTS", 10_000)
    calls = []
    p = portfolio(initiative("a", reach="100..900"), initiative("b"))
    r = simulate(p, samples=30_000, seed=1, progress=lambda done, total: calls.append((done, total)))
    assert len(calls) == 6
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert calls[-1] == (r.samples, r.samples) == (30_000, 30_000)


# --- BLAS on one thread while a dashboard worker computes (workbench.interactive.workers) ------


def _blas_threads() -> set[int]:
    from threadpoolctl import threadpool_info

    return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


class _Holder:
    """A thread inside `single_threaded_blas()` until released (BLAS thread counts are read on
    the main thread: OpenBLAS reports a limit set by another thread only there)."""

    def __init__(self, nested: bool = False):
        import threading

        from workbench.interactive.workers import single_threaded_blas

        self.inside, self.release = threading.Event(), threading.Event()

        def hold():
            with single_threaded_blas():
                if nested:
                    with single_threaded_blas():
                        pass
                self.inside.set()
                self.release.wait(20)

        self.thread = threading.Thread(target=hold)
        self.thread.start()
        assert self.inside.wait(20)

    def leave(self) -> None:
        self.release.set()
        self.thread.join(20)


def test_single_threaded_blas_overlapping_and_nested_blocks_restore_the_original():
    import threading

    from threadpoolctl import threadpool_limits

    from workbench.interactive.workers import LatestOnly, single_threaded_blas

    with threadpool_limits(2, user_api="blas"):  # a known original, whatever the machine
        a = _Holder()
        assert _blas_threads() == {1}
        b = _Holder(nested=True)  # enters while a holds the limit; nests a block of its own
        a.leave()
        assert _blas_threads() == {1}  # b is still inside: the limit holds
        b.leave()
        assert _blas_threads() == {2}  # the last one out restores the original
        with single_threaded_blas(), single_threaded_blas():
            assert _blas_threads() == {1}
        assert _blas_threads() == {2}
        with pytest.raises(ZeroDivisionError), single_threaded_blas():
            1 / 0
        assert _blas_threads() == {2}
        # A dashboard worker's work runs under the limit; the original is back once it is done.
        inside, release, results = threading.Event(), threading.Event(), []

        def work(payload, check):
            inside.set()
            return release.wait(20)

        worker = LatestOnly(work, results.append)
        try:
            worker.request(None)
            assert inside.wait(20)
            assert _blas_threads() == {1}
            release.set()
            assert worker.wait(20)
        finally:
            assert worker.close(20)
        assert results == [True] and _blas_threads() == {2}

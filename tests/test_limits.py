"""Bounded work and memory: settings beyond `workbench.limits` are refused at once (exit 2), and
rank statistics of a large portfolio need memory linear in its initiatives.

Each case runs in a child process under an address-space limit, so that code which does allocate
(or run for hours) fails the test quickly instead of exhausting the machine.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

import pytest

from workbench import Initiative, Portfolio, Settings, limits, parse_estimate, run
from workbench.errors import InputError

from conftest import initiative, portfolio

MEMORY_CAP = 3 << 30  # address space of a child: numpy and scipy need about 1 GiB of it

# Runs `workbench` in process once per case: each call alone is timed, and the peak resident
# memory compared with the one before it (the imports, yaml included, which --demo reads, come first).
CLI_CHILD = """
import contextlib, io, json, resource, signal, sys, time
import yaml
from workbench import cli

class TooLong(BaseException):  # not an Exception: cli.main must not turn it into an exit code
    pass

def alarm(*_):
    raise TooLong()

signal.signal(signal.SIGALRM, alarm)
out = {}
for name, argv in json.loads(sys.argv[1]).items():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    err = io.StringIO()
    t0 = time.perf_counter()
    signal.alarm(10)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = cli.main(argv)
    except TooLong:
        code = "still running after 10 s"
    signal.alarm(0)
    out[name] = {"code": code, "seconds": time.perf_counter() - t0, "err": err.getvalue(),
                 "grew": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024}
print(json.dumps(out))
"""


def _cap_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run_child(code: str, *args: str, timeout: float = 60) -> tuple[dict, str]:
    """(the JSON the child printed last, its standard error), under the memory cap."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    try:
        done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                              timeout=timeout, preexec_fn=_cap_memory, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running after {timeout} s")
    lines = done.stdout.strip().splitlines()
    assert lines, f"the child printed nothing (exit {done.returncode}): {done.stderr[-2000:]}"
    return json.loads(lines[-1]), done.stderr


@pytest.fixture(scope="module")
def refusals(tmp_path_factory) -> dict:
    """Every CLI case below, run in one child (imports are the slow part)."""
    folder = tmp_path_factory.mktemp("limits")
    many = folder / "many.json"
    many.write_text(json.dumps({"capacities": {f"team{i}": 1 for i in range(limits.MAX_CAPACITY_ENTRIES + 1)},
                                "theme_shares": {f"t{i}": "0:1" for i in range(2000)}}))
    big = folder / "big.json"
    with open(big, "wb") as f:  # sparse: takes no disk space
        f.write(b'{"seed": 1}')
        f.truncate(limits.MAX_FILE_BYTES + 1)
    plan = ["optimize", "--demo", "--budget", "40"]
    cases = {
        "samples": ["score", "--demo", "--samples", str(10**12)],
        "work": ["score", "--demo", "--samples", "100000000"],
        "scenarios": [*plan, "--scenarios", str(10**8)],
        "scenario values": [*plan, "--scenarios", str(10**7)],
        "held": [*plan, "--samples", "2000000"],
        "frontier": [*plan, "--frontier", "--frontier-points", str(10**9)],
        "budget range": ["sensitivity", "--demo", "--budget", "40", "--budget-range", "1:1e9:1"],
        "entries": [*plan, "--settings", str(many)],
        "file": ["score", "--demo", "--settings", str(big)],
    }
    out, _ = run_child(CLI_CHILD, json.dumps(cases), timeout=200)
    return out


def refused(refusals: dict, case: str) -> str:
    """Standard error of a CLI run that must be refused with exit 2 at once and in little memory."""
    out = refusals[case]
    assert out["code"] == 2, out
    assert out["seconds"] < 1, f"refused only after {out['seconds']:.2f} s"
    assert out["grew"] < 50 << 20, f"resident memory grew by {out['grew']:,} bytes before refusing"
    assert "Traceback" not in out["err"]
    return out["err"]


# --- settings beyond the limits: exit 2 naming the limit and the value, before any draw -------------


def test_samples_beyond_the_work_limit_are_refused(refusals):
    err = refused(refusals, "samples")
    assert f"samples: 1,000,000,000,000 is over the limit of {limits.MAX_DRAWS:,} (limits.MAX_DRAWS)" in err


def test_samples_times_initiatives_beyond_the_work_limit_is_refused(refusals):
    # 10^8 samples alone is allowed; times the demo's 31 initiatives it is 3.1e9 draws.
    assert 10**8 <= limits.MAX_DRAWS < 31 * 10**8
    err = refused(refusals, "work")
    assert "100,000,000 samples x 31 initiatives = 3,100,000,000 values" in err
    assert "limits.MAX_DRAWS" in err and f"--samples {limits.MAX_DRAWS // 31:,} or fewer" in err


def test_scenarios_beyond_the_memory_limit_are_refused(refusals):
    err = refused(refusals, "scenario values")
    assert "scenarios: 10,000,000 scenarios x 31 initiatives = 310,000,000 values" in err
    assert "limits.MAX_SCENARIO_VALUES" in err
    err = refused(refusals, "scenarios")
    assert "scenarios: 100,000,000 is over the limit of 20,000,000 (limits.MAX_SCENARIO_VALUES)" in err


def test_draws_a_plan_would_hold_beyond_the_limit_are_refused(refusals):
    # 2e6 x 31 = 62M draws is little work, but a plan holds them (value and effort) in memory.
    err = refused(refusals, "held")
    assert "samples: a plan holds 2,000,000 samples x 31 initiatives in memory = 62,000,000 values" in err
    assert "limits.MAX_HELD_VALUES" in err


def test_sweep_points_beyond_the_limit_are_refused(refusals):
    err = refused(refusals, "frontier")
    assert "frontier_points: 1,000,000,000 is over the limit of 1,000 (limits.MAX_SWEEP_POINTS)" in err
    err = refused(refusals, "budget range")
    assert "has 1,000,000,000 points" in err and "at most 1,000 points" in err


def test_capacity_entries_beyond_the_limit_are_refused_in_one_line(refusals):
    err = refused(refusals, "entries")
    lines = err.strip().splitlines()
    assert len(lines) == 2, lines[:5]  # one line each, not one per unknown team
    assert "capacities: 1,001 entries, over the limit of 1,000 (limits.MAX_CAPACITY_ENTRIES)" in err
    assert "theme_shares: 2,000 entries, over the limit of 1,000 (limits.MAX_CAPACITY_ENTRIES)" in err


def test_a_settings_file_over_the_size_limit_is_refused_unread(refusals):
    err = refused(refusals, "file")
    assert f"the file is {(limits.MAX_FILE_BYTES + 1) / 2**20:.1f} MiB; at most" in err
    assert "limits.MAX_FILE_BYTES" in err


# --- rank statistics of a large portfolio: linear memory, exact P(top k) ---------------------------

# Ranks n point-estimate initiatives (reach j + 1, or all equal) with the streaming engine
# (`simulate`, what `workbench score` runs when samples x initiatives is large) or the pipeline's
# block draws; reports the growth of resident memory, P(top k), mean ranks and what the views say.
RANK_CHILD = """
import json, resource, sys
from workbench import Initiative, Portfolio, Settings, parse_estimate, run, simulate
from workbench.views.text import score_table

n, identical, engine = int(sys.argv[1]), sys.argv[2] == "identical", sys.argv[3]
one = {f: parse_estimate(v, f) for f, v in (("impact", "1"), ("confidence", "100%"), ("effort", "1"))}
portfolio = Portfolio(tuple(
    Initiative(id=f"i{j}", name=f"I{j}", reach=parse_estimate("7" if identical else str(j + 1), "reach"), **one)
    for j in range(n)))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if engine == "simulate":
    r = simulate(portfolio, samples=100, seed=3, top_k=3)
else:
    r = run(portfolio, Settings(samples=100, top_k=3), plan=False).result
grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
words = []
for ask in (lambda: r.rank_probabilities(), lambda: r.p_top_k(r.replicate_counts.shape[2] + 1)):
    try:
        ask()
        words.append(None)
    except ValueError as exc:
        words.append(str(exc))
top = {k: r.p_top_k(k)[0].tolist() for k in (1, 3, 20)}
table = score_table(r, 3)  # what `workbench score` prints
print(json.dumps({"peak": grew, "top": top, "rank": r.expected_rank.tolist(), "words": words,
                  "table": table.splitlines()[:6]}))
"""


def test_point_estimates_rank_exactly_in_linear_memory():
    n = limits.MAX_INITIATIVES  # n^2 x 8 bytes = 3.2 GB of rank counts on the old engine
    assert n * n > limits.MAX_RANK_MATRIX
    out, err = run_child(RANK_CHILD, str(n), "distinct", "simulate")
    assert out["peak"] < 300 << 20, f"resident memory grew by {out['peak']:,} bytes"
    # Reach j + 1 with everything else 1: initiative j always holds rank n - j.
    for k, p in out["top"].items():
        assert p == [1.0 if j >= n - int(k) else 0.0 for j in range(n)]
    assert out["rank"] == [float(n - j) for j in range(n)]
    matrix, beyond = out["words"]
    assert "rank-probability matrix was not kept" in matrix and "limits.MAX_RANK_MATRIX" in matrix
    assert "was not counted" in beyond
    assert f"i{n - 1}" in out["table"][4]  # the best initiative heads the printed table


def test_identical_initiatives_share_the_top_k_in_linear_memory():
    n = 6_000  # the pipeline's block draws; n^2 x 8 bytes = 288 MB, twice over, on the old engine
    assert n * n > limits.MAX_RANK_MATRIX
    out, err = run_child(RANK_CHILD, str(n), "identical", "pipeline")
    assert out["peak"] < 150 << 20, f"resident memory grew by {out['peak']:,} bytes"
    # Every sample puts exactly k initiatives in its top k and ranks 1..n once each, ties at random.
    for k, p in out["top"].items():
        assert sum(p) == pytest.approx(int(k), abs=1e-9)
        assert max(p) <= 0.05  # no initiative keeps a place: k/n on average
    assert sum(out["rank"]) == pytest.approx(n * (n + 1) / 2, rel=1e-12)
    assert all(1 <= r <= n for r in out["rank"])


def test_precision_sampling_stops_at_the_work_limit(monkeypatch):
    # Ten identical initiatives: no P(top 3) reaches a half-width of 0.001 before the cap does.
    p = portfolio(*(initiative(f"i{j}", reach="100..200") for j in range(10)))
    monkeypatch.setattr(limits, "MAX_DRAWS", 10 * 5_000)  # at most 5,000 samples of 10 initiatives
    result = run(p, Settings(samples=1_000, precision=0.001, max_samples=100_000, top_k=3), plan=False).result
    assert 1_000 <= result.samples <= 5_000
    assert result.precision_reached > 0.001  # and the result says the target was not reached


def test_a_top_k_that_would_count_an_n_by_n_matrix_is_refused():
    one = {f: parse_estimate("1", f) for f in ("reach", "impact", "confidence", "effort")}
    n = 6_000  # n^2 is over limits.MAX_RANK_MATRIX: only the first top k ranks are counted
    p = Portfolio(tuple(Initiative(id=f"i{j}", name=f"I{j}", **one) for j in range(n)))
    assert Settings(top_k=limits.MAX_RANK_MATRIX // n).for_portfolio(p).top_k == limits.MAX_RANK_MATRIX // n
    with pytest.raises(InputError) as caught:
        Settings(top_k=n).for_portfolio(p)
    assert str(caught.value) == ("top_k: P(top 6,000) counts 6,000 ranks x 6,000 initiatives = 36,000,000 values, "
                                 "over the limit of 25,000,000 (limits.MAX_RANK_MATRIX); use --top-k 4,166 or fewer")


def test_a_top_k_counted_once_per_qmc_replicate_is_refused_with_the_replicates():
    # sobol and lhs keep QMC_REPLICATES rank-count matrices: 8 x 1,000 x 10,000 = 80,000,000 counts.
    n, top_k = 10_000, 1_000
    assert n * n > limits.MAX_RANK_MATRIX and top_k * n <= limits.MAX_RANK_MATRIX < 8 * top_k * n
    assert Settings(top_k=top_k).work_problems(n, plan=False, top_k=top_k) == []
    for method in ("sobol", "lhs"):
        assert Settings(method=method, top_k=top_k).work_problems(n, plan=False, top_k=top_k) == [
            f"top_k: P(top 1,000) counts 1,000 ranks x 10,000 initiatives x 8 replicates ({method}) = 80,000,000 "
            f"values, over the limit of 25,000,000 (limits.MAX_RANK_MATRIX); use --top-k 312 or fewer"]


# --- correlations: a bounded number of correlated estimates, checked before the matrix ----------------


def _correlated_table(n: int):
    """n initiatives whose reach-impact and confidence-effort are correlated: 4 n distinct estimates."""
    from workbench.io.table import Cell, Table

    good = {"reach": "100..200", "impact": "1..2", "confidence": "50%..90%", "effort": "1..3"}
    rows = [{k: Cell(v, j + 2, k) for k, v in {"id": f"i{j}", "name": f"I{j}", **good}.items()} for j in range(n)]
    pairs = [(f"i{j}.{a}", f"i{j}.{b}", "0.3", 2 + j) for j in range(n) for a, b in (("reach", "impact"),
                                                                                      ("confidence", "effort"))]
    return Table("p.csv", rows, correlations=pairs)


def test_correlations_among_more_estimates_than_the_limit_are_refused_before_any_matrix(monkeypatch):
    from workbench.io.validate import build_portfolio
    from workbench.model import correlation
    from workbench.model.portfolio import Correlation

    n = limits.MAX_CORRELATED // 4 + 1  # 4 n = 2,004 distinct estimates
    eye = []
    monkeypatch.setattr(correlation.np, "eye", lambda d, *a, **k: eye.append(d))  # no d x d matrix may be made
    with pytest.raises(InputError) as caught:
        build_portfolio(_correlated_table(n), "p.csv")
    assert [str(p) for p in caught.value.problems] == [
        "p.csv: column correlations: correlations involve 2,004 distinct estimates (initiative.factor); at most "
        "2,000 can be correlated (limits.MAX_CORRELATED); correlate fewer"]
    # A portfolio built in code is checked by correlation_matrix itself.
    monkeypatch.undo()
    big = Portfolio(tuple(initiative(f"i{j}", reach="100..200", impact="1..2") for j in range(n)),
                    tuple(Correlation((f"i{j}", "reach"), (f"i{j}", f), 0.3)
                          for j in range(n) for f in ("impact", "confidence", "effort")))
    monkeypatch.setattr(correlation.np, "eye", lambda d, *a, **k: eye.append(d))
    with pytest.raises(InputError, match=r"correlations involve 2,004 distinct estimates"):
        correlation.correlation_matrix(big)
    assert eye == []


def test_qmc_replicates_count_towards_the_rank_matrix_limit():
    """lhs/sobol keep rank counts once per replicate: 8 full n x n matrices at n = 5,000 would be
    1.6 GB, so beyond MAX_RANK_MATRIX / 8 only the first ranks are counted."""
    from workbench import limits
    from workbench.engine.simulation import QMC_REPLICATES, RANKS_KEPT, kept_ranks

    n = int((limits.MAX_RANK_MATRIX / QMC_REPLICATES) ** 0.5) + 1
    assert kept_ranks(n, 5) == n  # plain Monte Carlo: one matrix fits
    assert kept_ranks(n, 5, QMC_REPLICATES) == RANKS_KEPT
    assert kept_ranks(n - 1, 5, QMC_REPLICATES) == n - 1

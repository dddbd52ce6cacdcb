"""Where independent pieces of work run: here, one after another, or on an executor.

    results = run_tasks(solve_one, budgets, shared=(problem, scenarios))           # in this process
    results = run_tasks(solve_one, budgets, shared=(...), executor=pool)            # a process pool
    with cluster("tcp://scheduler:8786") as client:                                 # dask.distributed
        frame = wb.sweep(outcome, executor=client.get_executor())

Analyses made of many independent solves (budget and split sweeps, EVPPI per initiative, the
frontier's segments, roadmap what-ifs) hand each solve to `run_tasks`; report batches hand each
report. An executor is any `concurrent.futures.Executor`; a dask `Client` (or the executor its
`get_executor()` gives) sends the shared arguments to the cluster once (`Client.scatter`), not once
a task. Results come back in the order of the items, so an analysis gives the same numbers, digit
for digit, in process or on any number of workers: every task is a pure function of its arguments
and every random draw was made before the tasks (the RNG policy, `workbench.rng`).

dask.distributed is an optional extra (`pip install 'decision-workbench[distributed]'`); `cluster`
explains what to install when it is missing. The scheduler's address comes from `--scheduler` or
the `WORKBENCH_SCHEDULER` environment variable (`scheduler_address`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError, Executor, as_completed
from contextlib import contextmanager

from .errors import InputError, Problem, quote

SCHEDULER_VARIABLE = "WORKBENCH_SCHEDULER"
INSTALL_HINT = ("dask.distributed is not installed; install it with "
                "pip install 'decision-workbench[distributed]' (or: pip install distributed)")
CONNECT_TIMEOUT = 30  # seconds to reach the scheduler before saying it cannot be reached

Progress = Callable[[int, int], None]


def run_tasks(fn: Callable, items: Iterable, *, shared: tuple = (), executor=None,
              progress: Progress | None = None) -> list:
    """[fn(*shared, item) for item in items], in the order of the items.

    executor: None runs them here, one after another; a `concurrent.futures.Executor` (a process
    pool, `Client.get_executor()`) or a dask `Client` runs one task per item. `fn` must then be a
    module-level function and its arguments picklable. The first task that raises raises here
    (the others still run to their end). progress(done, total) after each task ends."""
    items = list(items)
    total = len(items)
    if executor is None:
        out = []
        for k, item in enumerate(items, start=1):
            out.append(fn(*shared, item))
            if progress is not None:
                progress(k, total)
        return out
    submit, shared = _submitter(executor, shared)
    futures = {submit(fn, *shared, item): k for k, item in enumerate(items)}
    results: list = [None] * total
    errors = {}
    for done, future in enumerate(as_completed(futures), start=1):
        try:
            results[futures[future]] = future.result()
        except Exception as exc:  # kept, and raised once every task has ended
            errors[futures[future]] = exc
        if progress is not None:
            progress(done, total)
    if errors:  # the first item's error, whichever ended first: the same error on any number of workers
        error = errors[min(errors)]
        if isinstance(error, CancelledError) or type(error).__module__.split(".")[0] == "distributed":
            raise ClusterError(f"the cluster lost a task ({type(error).__name__}: {error}); its workers may have "
                               "died or the scheduler gone: run again, or without --scheduler") from error
        raise error
    return results


class ClusterError(RuntimeError):
    """The cluster lost work (a worker died, the scheduler went away): no result, nothing wrong
    with the input."""


def _submitter(executor, shared: tuple) -> tuple[Callable, tuple]:
    """(submit(fn, *args) -> concurrent future, the shared arguments as the tasks receive them).
    On dask the shared arguments are scattered once and the tasks get references to them."""
    client = executor if hasattr(executor, "scatter") and hasattr(executor, "get_executor") else None
    if client is None and type(executor).__name__ == "ClientExecutor":  # Client.get_executor()
        client = getattr(executor, "_client", None)
    if client is None:
        if not isinstance(executor, Executor):
            raise TypeError(f"executor must be a concurrent.futures.Executor or a dask Client, "
                            f"got {type(executor).__name__}")
        return executor.submit, shared
    # One object each: a list or a dict given to `scatter` would be sent element by element.
    scattered = tuple(client.scatter([value], hash=False)[0] for value in shared)
    pool = client.get_executor(pure=False) if executor is client else executor
    return pool.submit, scattered


def scheduler_address(value: str | None = None) -> str | None:
    """The dask scheduler to use: `value` (the --scheduler flag), else $WORKBENCH_SCHEDULER, else
    None (run here). An empty value means none."""
    address = value if value is not None else os.environ.get(SCHEDULER_VARIABLE, "")
    return address.strip() or None


@contextmanager
def cluster(address: str) -> Iterator:
    """A dask `Client` connected to the scheduler at `address` (tcp://host:8786), closed on exit.
    InputError when dask.distributed is missing or the scheduler cannot be reached."""
    try:
        from distributed import Client
    except ImportError:
        raise InputError(Problem(f"--scheduler {quote(address)}: {INSTALL_HINT}")) from None
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(Problem(f"--scheduler {quote(address)}: cannot reach the dask scheduler ({exc}); start "
                                 "one with `dask scheduler` and workers with `dask worker ADDRESS`, or "
                                 f"unset {SCHEDULER_VARIABLE} to run here")) from None
    try:
        _check_workers(client, address)
        yield client
    finally:
        client.close()


def _check_workers(client, address: str) -> None:
    """InputError unless the cluster has a worker and every worker runs this version of workbench:
    tasks would wait forever for a worker, and another version would give other numbers."""
    from . import __version__

    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError):
        raise InputError(Problem(f"--scheduler {quote(address)}: the scheduler has no workers after "
                                 f"{CONNECT_TIMEOUT} s; start some with `dask worker {address}`")) from None
    try:
        versions = client.run(_workbench_version)
    except Exception as exc:  # a worker that cannot import workbench fails to unpickle the call
        raise InputError(Problem(f"--scheduler {quote(address)}: the workers cannot run workbench "
                                 f"({type(exc).__name__}: {exc}); install decision-workbench {__version__} "
                                 "on every worker")) from None
    other = sorted(f"{worker} has {version}" for worker, version in versions.items() if version != __version__)
    if other:
        raise InputError(Problem(f"--scheduler {quote(address)}: every worker needs workbench {__version__}, the "
                                 f"version here (the same numbers): {'; '.join(other)}"))


def _workbench_version() -> str:
    from . import __version__

    return __version__

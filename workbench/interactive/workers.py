"""Background work for interactive views: only the newest request counts, and threads end cleanly.

`LatestOnly` runs a computation on its own thread for the newest request only: requests within
the debounce window collapse into the last, a result arrives only if no newer request came in
meanwhile, and long work stops at its next `check()` once it is stale (`Superseded`).

Its thread is a daemon (a forgotten dashboard must never keep Python from exiting), so it must
be *closed and joined* before the interpreter finalizes: a daemon thread still inside a solver
(HiGHS, with the GIL released) when Python finalizes is killed as it returns, and unwinding
through the solver's C++ frames aborts the process ("terminate called without an active
exception", exit status 134). A solve cannot be interrupted, only waited for, so the wait is
kept short instead: a worker's solves may take at most `solve_limit` seconds while wanted and
`CANCELLED_SOLVE_LIMIT` once stale, and long work skips what is left at its next `check()`.

`close(timeout)` makes the work stale and waits for the thread. At interpreter exit (a script's
end, a kernel's shutdown or restart) every worker still running, closed in time or not, is made
stale as soon as Python starts shutting down (`threading._register_atexit`, before it joins
non-daemon threads such as the engine's pool) and is joined by an `atexit` handler, which Python
runs before it kills daemon threads. The short limit applies to the workers' own solves only
(their thread, and the pool threads running their work in a copy of their context): a user's
own thread still optimizing after the main thread ended keeps the time it asked for.

While a worker computes, BLAS runs on one thread (`single_threaded_blas`): a plan's small
matrix-vector products spent ~8 ms each handing work to a second OpenBLAS thread. The limit is
process-wide while any worker holds it, and the original thread counts come back when the last
worker leaves.
"""

from __future__ import annotations

import atexit
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from threadpoolctl import OpenBLASController, ThreadpoolController

from ..planning.milp import solve_time_cap

Work = Callable[[Any, Callable[[], None]], Any]

CANCELLED_SOLVE_LIMIT = 0.25  # seconds a solve may take once its result is no longer wanted
EXIT_WAIT = 120.0  # seconds to wait at exit for the solves in progress (a dashboard's take <= 10 s)
_LIVE: set[LatestOnly] = set()  # every worker whose thread has not ended, closed or not
_LIVE_LOCK = threading.Lock()
_EXITING = threading.Event()  # set as the interpreter starts shutting down: every worker's solves short


_BLAS_LOCK = threading.Lock()
_BLAS = {"users": 0, "limiter": None, "controller": None}  # under _BLAS_LOCK


def _from_this_thread(change: Callable[[], Any]) -> Any:
    """Run a threadpoolctl limit or restore from the calling thread. threadpoolctl (>= 3.8) lets one
    "controlling" thread at a time resize OpenBLAS's process-wide pool and silently ignores the
    others: a restore by a worker other than the one that set the limit would leave BLAS on one
    thread. `_BLAS_LOCK` serializes our changes, so this thread takes control for the call and
    hands it back."""
    clear = getattr(OpenBLASController, "clear_controlling_thread", None)  # older versions: no such rule
    if clear is not None:
        clear(force=True)
    try:
        return change()
    finally:
        if clear is not None:
            clear(force=True)


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """BLAS on one thread while the block runs, in every thread of the process (threadpoolctl's
    limit is process-wide): blocks may nest and overlap across threads; the first to enter sets
    the limit and the last to leave restores the thread counts found on entry."""
    with _BLAS_LOCK:
        if _BLAS["users"] == 0:
            if _BLAS["controller"] is None:  # inspecting the loaded libraries takes ~10 ms: once
                _BLAS["controller"] = ThreadpoolController()
            _BLAS["limiter"] = _from_this_thread(lambda: _BLAS["controller"].limit(limits=1, user_api="blas"))
        _BLAS["users"] += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _BLAS["users"] -= 1
            if _BLAS["users"] == 0:
                _from_this_thread(_BLAS["limiter"].restore_original_limits)
                _BLAS["limiter"] = None


class Superseded(Exception):
    """Raised inside a computation that a newer request (or `close`) has made pointless."""


class LatestOnly:
    """Run `work(payload, check)` on a daemon thread for the newest request only, and pass the
    result (or the exception it raised) to `apply`.

    Requests arriving within `debounce` seconds of each other collapse into the last one. A
    result is applied only if no newer request came in while it was computed, so a slow, stale
    computation can never overwrite a newer one; `check()` raises `Superseded` inside long work.
    """

    def __init__(self, work: Work, apply: Callable[[Any], None], debounce: float = 0.0,
                 name: str = "workbench-worker", solve_limit: float | None = None):
        self.work, self.apply, self.debounce = work, apply, debounce
        self.solve_limit = solve_limit  # seconds each solve of `work` may take at most (None: as asked)
        self.generation = 0
        self._cv = threading.Condition()
        self._pending: tuple[int, Any] | None = None
        self._due = 0.0
        self._busy = False
        self._closed = False
        self.errors: list[BaseException] = []  # failures of apply() itself, kept for inspection
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        with _LIVE_LOCK:
            _LIVE.add(self)
        self._thread.start()

    def request(self, payload: Any, delay: float | None = None) -> int:
        """Ask for `work(payload)` after the debounce time (or `delay`); returns the request's number."""
        with self._cv:
            if self._closed:
                raise RuntimeError(f"{self._thread.name} is closed")
            self.generation += 1
            self._pending = (self.generation, payload)
            self._due = time.monotonic() + (self.debounce if delay is None else delay)
            self._cv.notify_all()
            return self.generation

    def cancel(self) -> None:
        """Drop the pending request and make the running one stale."""
        with self._cv:
            self.generation += 1
            self._pending = None
            self._cv.notify_all()

    def close(self, timeout: float | None = 60.0) -> bool:
        """Stop the worker: drop what is pending, make the running work stale, and wait up to
        `timeout` seconds for the thread to end (a solve in progress finishes first). True when
        the thread has ended."""
        with self._cv:
            self._closed = True
            self.generation += 1
            self._pending = None
            self._cv.notify_all()
        if threading.current_thread() is self._thread:  # closed from its own `apply`
            return False
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        """Whether the worker thread is still running (it ends after `close`)."""
        return self._thread.is_alive()

    def wait(self, timeout: float = 120.0) -> bool:
        """Block until nothing is pending or running; False on timeout."""
        with self._cv:
            return self._cv.wait_for(lambda: self._pending is None and not self._busy, timeout)

    @property
    def busy(self) -> bool:
        with self._cv:
            return self._busy or self._pending is not None

    def _loop(self) -> None:
        try:
            self._serve()
        finally:
            with _LIVE_LOCK:
                _LIVE.discard(self)

    def _serve(self) -> None:
        while True:
            with self._cv:
                while not self._closed and (self._pending is None or time.monotonic() < self._due):
                    self._cv.wait(None if self._pending is None else max(self._due - time.monotonic(), 0.0))
                if self._closed:
                    self._cv.notify_all()
                    return
                generation, payload = self._pending
                self._pending, self._busy = None, True

            def check(generation=generation) -> None:
                if generation != self.generation:
                    raise Superseded

            def cap(generation=generation) -> float | None:
                wanted = generation == self.generation and not _EXITING.is_set()
                return self.solve_limit if wanted else CANCELLED_SOLVE_LIMIT

            try:
                with solve_time_cap(cap), single_threaded_blas():
                    result = self.work(payload, check)
            except Superseded:
                result = Superseded
            except Exception as exc:  # shown to the user by `apply`, never lost in a thread
                result = exc
            with self._cv:
                try:
                    if result is not Superseded and generation == self.generation:
                        self.apply(result)
                except Exception as exc:  # a failing view must not stop the worker
                    self.errors.append(exc)
                finally:
                    self._busy = False
                    self._cv.notify_all()


def _stop_all_soon() -> None:
    """As the interpreter starts shutting down: every worker stale, each of their solves from now on
    short (through their own cap, so no other thread's solves are shortened)."""
    _EXITING.set()
    with _LIVE_LOCK:
        live = list(_LIVE)
    for worker in live:
        worker.cancel()


def join_all(timeout: float = EXIT_WAIT) -> bool:
    """Close every worker still running and wait, `timeout` seconds in all, for their threads to end.
    Registered with `atexit`; True when none is left."""
    _stop_all_soon()
    with _LIVE_LOCK:
        live = list(_LIVE)
    deadline = time.monotonic() + timeout
    ended = all([worker.close(max(deadline - time.monotonic(), 0.0)) for worker in live])
    if not ended:  # say why, should the process abort as it finalizes
        print(f"workbench: a worker thread is still inside a solve after {timeout:g} s at exit", file=sys.stderr)
    return ended


# threading's hook runs first at shutdown (Python >= 3.9; a plain atexit handler is the fallback).
getattr(threading, "_register_atexit", atexit.register)(_stop_all_soon)
atexit.register(join_all)

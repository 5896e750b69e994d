"""Processes that run simulations: one numba thread per worker, the JIT warm, one way to start a pool.

Every process pool of the package starts here (:func:`process_pool`): the
sweep's :class:`blinasim.experiments.sweep.LocalExecutor`, the Dask
LocalCluster's workers (forked from the same warm forkserver), and
:class:`WorkerPool`, the map-like runner that virtual trials and the
calibration use when no experiment executor is given. Where the system has
it the start method is ``forkserver``: the server imports
:mod:`blinasim.core._preload` once (one numba thread, the package imported,
the JIT warm) and every worker forks from it in milliseconds; elsewhere
``spawn`` (each worker warms itself).

This module imports neither numba nor the simulation at import time:
``NUMBA_NUM_THREADS`` must be set before numba is first imported, so the
simulation is imported inside :func:`prepare_worker`, after
:func:`limit_numba_threads` (a deliberate, documented lazy import).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, Protocol

_READY = False

#: The module the forkserver imports before it forks workers (:mod:`blinasim.core._preload`).
PRELOAD = "blinasim.core._preload"


class Runner(Protocol):
    """Anything that maps a picklable function over items and returns the results in order.

    :class:`WorkerPool`, the executors of :mod:`blinasim.experiments.sweep`
    (``InProcessExecutor``, ``LocalExecutor``, ``DaskExecutor``) and
    ``multiprocessing.Pool`` all qualify.
    """

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any], /) -> Iterable[Any]:
        """``[fn(item) for item in items]``, wherever the calls run."""
        ...


def limit_numba_threads() -> None:
    """One numba thread in this (worker) process.

    Before numba is imported, setting ``NUMBA_NUM_THREADS=1`` keeps it from
    starting a thread pool at all. After, the variable must not change (numba
    re-reads it at every compilation and refuses a new value once its threads
    run), so the number of threads used is limited instead.
    """
    if "numba" not in sys.modules:
        os.environ["NUMBA_NUM_THREADS"] = "1"
        return
    import numba

    if numba.config.NUMBA_NUM_THREADS > 1:
        numba.set_num_threads(1)


def prepare_worker(*, own_process: bool = True) -> None:
    """Once per process: one numba thread (worker processes only), the package imported, the JIT warm."""
    global _READY
    if _READY:
        return
    if own_process:
        limit_numba_threads()
    from blinasim.core.model import simulate  # lazy: numba must not be imported before the thread limit

    simulate({"simulation": {"lattice_size": 16, "days": 0.25}}, seed=0)
    _READY = True


def default_start_method(start_method: str | None = None) -> str:
    """The start method of a pool: ``start_method`` if given (checked), else ``forkserver`` where
    available, else ``spawn``.

    Raises
    ------
    ValueError
        ``start_method`` is neither ``"forkserver"`` nor ``"spawn"``, or this system lacks it.
    """
    methods = multiprocessing.get_all_start_methods()
    method = start_method or ("forkserver" if "forkserver" in methods else "spawn")
    if method not in ("forkserver", "spawn") or method not in methods:
        raise ValueError(f"start_method = {start_method!r}: use 'forkserver' or 'spawn' (this system: {methods})")
    return method


def process_pool(
    workers: int,
    start_method: str | None = None,
    initializer: Callable[..., None] = prepare_worker,
    initargs: tuple = (),
) -> ProcessPoolExecutor:
    """A pool of ``workers`` simulation processes (one numba thread each, the JIT warm).

    Parameters
    ----------
    workers
        Number of worker processes (>= 1).
    start_method
        ``"forkserver"`` (the default where available: workers fork from a server that
        imported :data:`PRELOAD` once) or ``"spawn"``.
    initializer, initargs
        Run in every worker when it starts; the initializer must call :func:`prepare_worker`
        (the default does nothing else).

    Returns
    -------
    concurrent.futures.ProcessPoolExecutor
        The caller shuts it down. Scripts that use it need the usual ``if __name__ == "__main__":`` guard.
    """
    if workers < 1:
        raise ValueError(f"workers = {workers}: need at least 1")
    method = default_start_method(start_method)
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        # The server imports the package and warms the JIT once; workers fork from it.
        ctx.set_forkserver_preload([PRELOAD])
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=initializer, initargs=initargs)


class WorkerPool:
    """A :class:`Runner` on local worker processes (:func:`process_pool`), started on first use and
    kept warm until :meth:`close` (or the end of a ``with`` block), so a calibration runs every
    candidate on the same processes.

    >>> with WorkerPool(2) as pool:                        # doctest: +SKIP
    ...     results = run_cohorts(cohorts, seed=7, runner=pool)
    """

    def __init__(self, workers: int, start_method: str | None = None):
        if workers < 1:
            raise ValueError(f"workers = {workers}: need at least 1")
        self.n_workers = int(workers)
        self.start_method = default_start_method(start_method)
        self._pool: ProcessPoolExecutor | None = None

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any], /) -> list[Any]:
        """``[fn(item) for item in items]`` on the worker processes, in order; a call that raises
        raises here."""
        if self._pool is None:
            self._pool = process_pool(self.n_workers, self.start_method)
        return list(self._pool.map(fn, items))

    def close(self) -> None:
        """Stop the worker processes (a later :meth:`map` starts new ones)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialRunner:
    """A :class:`Runner` in this process, one item at a time (debugging, profiling, tiny runs)."""

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any], /) -> list[Any]:
        """``[fn(item) for item in items]``."""
        return [fn(item) for item in items]


@contextmanager
def runner_or_pool(runner: Runner | None, workers: int) -> Iterator[Runner]:
    """``runner`` if given; else, for the ``with`` block, a :class:`WorkerPool` of ``workers``
    processes (kept warm across the block's calls), or a :class:`SerialRunner` for one worker."""
    if runner is not None:
        yield runner
    elif workers <= 1:
        yield SerialRunner()
    else:
        with WorkerPool(workers) as pool:
            yield pool

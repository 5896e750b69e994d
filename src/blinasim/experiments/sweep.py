"""Running an experiment: executors, the per-run task, resume.

Who writes: by default the **worker** that ran a run writes it into its own
region of the store, then its status (``execution.write = "worker"``). This
keeps the parent idle and scales to many machines that share a filesystem.
With ``write = "parent"`` the worker returns the run's Dataset and the parent
process writes it (for Dask workers without access to the store's
filesystem). Either way the data is written before the status, and the
status is written last, so "done" always means "complete on disk".

Executors:

- :class:`LocalExecutor` — a ``concurrent.futures.ProcessPoolExecutor``
  (:func:`blinasim.core.worker.process_pool`, the pool every part of the
  package starts; ``forkserver`` where available, else ``spawn``); workers run with
  ``NUMBA_NUM_THREADS=1`` (set before numba is imported), import the
  installed package and warm the JIT once (in the forkserver, which they fork
  from).
  A worker process that dies (killed, out of memory, a crash in compiled
  code) breaks the pool: the runs that were in flight are re-run one at a
  time in a fresh pool, so the one that kills its worker is recorded as
  failed and the others finish.
- :class:`DaskExecutor` — Dask distributed, either connecting to a running
  scheduler (``dask scheduler`` + ``dask worker``) or starting a LocalCluster.
  Tasks are submitted with ``pure=False`` and distinct keys (Dask would
  otherwise merge calls with equal arguments); a worker plugin warms the JIT.
  The run context goes with every task, so a worker that dies takes only the
  runs it was running (Dask runs them again elsewhere); while the cluster has
  no worker, runs wait up to ``worker_timeout`` seconds.
- :class:`InProcessExecutor` — runs in the calling process, one at a time
  (debugging, profiling, and measuring the store overhead).

Every executor is also a :class:`blinasim.core.worker.Runner`: its ``map(fn,
items)`` runs any picklable function on its workers, which is how virtual
trials and the calibration (:mod:`blinasim.trials`) run through them.
"""

from __future__ import annotations

import asyncio
import copy
import os
import re
import signal
import socket
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from blinasim.core.model import simulate
from blinasim.core.worker import SerialRunner, default_start_method, prepare_worker, process_pool
from blinasim.errors import BlinasimError, arg
from blinasim.experiments.store import (
    DONE,
    FAILED,
    PENDING,
    STATUS_NAMES,
    StoreError,
    check_store_writable,
    create_store,
    damaged_runs,
    format_damaged,
    layout_from_datasets,
    lock_store,
    open_store,
    pack_staged,
    read_status,
    run_region_dataset,
    shard_of,
    stage_run,
    store_layout,
    store_shard_block,
    write_run_status,
)
from blinasim.extras import requires_extra
from blinasim.params.paths import set_dotted
from blinasim.params.schema import ConfigError, validate_config
from blinasim.version import __version__


class SweepError(BlinasimError):
    """A sweep that cannot start (bad store, bad executor options): one line per problem."""


# ------------------------------------------------------------- the task


@dataclass(frozen=True)
class RunContext:
    """What every run of a sweep shares (sent to a local worker once, with every Dask task)."""

    store: str
    fingerprint: str
    base: dict[str, Any]
    write: str  # "worker" or "parent"
    blinasim_version: str


@dataclass(frozen=True)
class RunTask:
    """One run: its index, the overrides of its (arm, sample), its seed, an injected failure."""

    index: tuple[int, int, int]
    overrides: dict[str, Any]
    seed: int
    fail_mode: str | None = None
    fail_message: str = ""


@dataclass
class RunOutcome:
    """What a worker reports back (the Dataset only when the parent writes)."""

    index: tuple[int, int, int]
    status: int
    message: str = ""
    seconds: float = float("nan")
    write_seconds: float = float("nan")
    worker: str = ""
    dataset: Any = None
    cpu_seconds: float = float("nan")


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _describe_exception(exc: BaseException) -> str:
    tb = "".join(traceback.format_exception(exc))
    return f"{type(exc).__name__}: {exc}\n\n{tb}"


def execute_run(task: RunTask, ctx: RunContext) -> RunOutcome:
    """Simulate one run and (with ``ctx.write == "worker"``) write it; never raises for a failed run."""
    prepare_worker()

    worker = _worker_id()
    # Read once per process (cached); a store that is not this experiment's raises here.
    layout = store_layout(ctx.store, ctx.fingerprint) if ctx.write == "worker" else None
    t0, c0 = time.perf_counter(), time.process_time()
    ds = None
    try:
        if __version__ != ctx.blinasim_version:
            raise RuntimeError(
                f"this worker has blinasim {__version__}, the sweep was started with "
                f"{ctx.blinasim_version}; install the same version on every worker"
            )
        if task.fail_mode == "exit":
            os._exit(17)  # test hook: the worker process dies
        if task.fail_mode == "raise":
            raise RuntimeError(task.fail_message)
        data = copy.deepcopy(ctx.base)
        for path, value in task.overrides.items():
            set_dotted(data, path, value)
        ds = simulate(validate_config(data), seed=task.seed)
        status, message = DONE, ""
    except Exception as exc:
        status, message = FAILED, _describe_exception(exc)
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    if ctx.write == "parent":
        return RunOutcome(task.index, status, message, seconds, float("nan"), worker, ds, cpu_seconds)
    return _store_run(ctx, task.index, ds, layout, status, message, seconds, cpu_seconds, worker)


def record_outcome(ctx: RunContext, outcome: RunOutcome) -> RunOutcome:
    """Parent side: stage what a worker returned (``write = "parent"``) and record a failed run's status.

    A done run is staged (by its worker, or here); :func:`_drive` packs it into its shard.
    """
    if ctx.write == "parent":
        dataset = outcome.dataset if outcome.status == DONE else None
        outcome = _store_run(
            ctx,
            outcome.index,
            dataset,
            None,
            outcome.status,
            outcome.message,
            outcome.seconds,
            outcome.cpu_seconds,
            outcome.worker,
        )
    if outcome.status != DONE:
        write_run_status(
            ctx.store,
            outcome.index,
            outcome.status,
            message=outcome.message,
            seconds=outcome.seconds,
            cpu_seconds=outcome.cpu_seconds,
            write_seconds=outcome.write_seconds,
            worker=outcome.worker,
        )
    return outcome


def _store_run(
    ctx: RunContext,
    index: tuple[int, int, int],
    ds: Any,
    layout: Any,
    status: int,
    message: str,
    seconds: float,
    cpu_seconds: float,
    worker: str,
) -> RunOutcome:
    """Stage a done run's data for packing (:func:`blinasim.experiments.store.stage_run`); a failed
    staging marks the run failed. Never writes the store's arrays: only the parent does
    (:func:`record_outcome` for a failed run's status, :func:`_drive` packs staged runs).

    ``layout`` is the store's layout, or None to read it here (a failure to read it counts as a failed write).
    """
    write_seconds = float("nan")
    if ds is not None and status == DONE:
        try:
            t1 = time.perf_counter()
            layout = layout if layout is not None else store_layout(ctx.store, ctx.fingerprint)
            region, _ = run_region_dataset(ds, layout)
            stage_run(
                ctx.store, index, region, layout, seconds=seconds, cpu_seconds=cpu_seconds, worker=worker, t_start=t1
            )
            write_seconds = time.perf_counter() - t1
        except Exception as exc:
            status, message = FAILED, "writing the run into the store failed: " + _describe_exception(exc)
    return RunOutcome(index, status, message, seconds, write_seconds, worker, cpu_seconds=cpu_seconds)


def record_lost(ctx: RunContext, index: tuple[int, int, int], reason: str) -> RunOutcome:
    """Parent side: a run whose worker was lost is recorded as failed."""
    write_run_status(ctx.store, index, FAILED, message=reason)
    return RunOutcome(index, FAILED, reason)


# ------------------------------------------------------------- executors


Result = tuple[RunTask, RunOutcome | BaseException]


class InProcessExecutor(SerialRunner):
    """Run in this process, one run at a time (its ``map`` is :class:`blinasim.core.worker.SerialRunner`'s)."""

    description = "in-process"

    def __init__(self) -> None:
        self.n_workers = 1
        self._ctx: RunContext | None = None

    def start(self, ctx: RunContext) -> None:
        self._ctx = ctx
        prepare_worker(own_process=False)  # the caller's process: leave its numba settings alone

    def ready(self) -> None:
        pass

    def results(self, tasks: Iterable[RunTask]) -> Iterator[Result]:
        assert self._ctx is not None
        for task in tasks:
            try:
                yield task, execute_run(task, self._ctx)
            except Exception as exc:  # pragma: no cover - execute_run catches run failures
                yield task, exc

    def close(self, cancel: bool = False) -> None:
        pass


_LOCAL_CTX: RunContext | None = None


def _init_local_worker(ctx: RunContext) -> None:
    global _LOCAL_CTX
    # Ctrl-C reaches the whole process group: the parent stops submitting and
    # the workers finish (and write) the runs they are in, rather than losing them.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _LOCAL_CTX = ctx
    prepare_worker()


def _ping() -> int:
    return os.getpid()


def _run_local(task: RunTask) -> RunOutcome:
    assert _LOCAL_CTX is not None
    return execute_run(task, _LOCAL_CTX)


class LocalExecutor:
    """Worker processes on this machine, ``NUMBA_NUM_THREADS=1`` each.

    The start method is ``forkserver`` where available: the server process
    imports the package and warms the JIT once (:mod:`blinasim.core._preload`) and
    workers fork from it, so a pool starts in well under a second once the
    server is up; ``spawn`` elsewhere (each worker imports and warms itself).
    Scripts that use it need the usual ``if __name__ == "__main__":`` guard.

    At most ``2 * workers`` runs are in flight; when a worker process dies,
    the runs in flight are re-run one at a time in a fresh pool, so the run
    that kills its worker is recorded as failed and no other run is lost.
    """

    def __init__(self, workers: int | None = None, start_method: str | None = None):
        self.n_workers = int(workers or os.cpu_count() or 1)
        if self.n_workers < 1:
            raise SweepError(f"workers = {workers}: need at least 1")
        try:
            self.start_method = default_start_method(start_method)
        except ValueError as exc:
            raise SweepError(str(exc)) from None
        self.description = f"{self.n_workers} local worker process(es)"
        self._pool: ProcessPoolExecutor | None = None
        self._ctx: RunContext | None = None
        self._pings: list[Future] = []

    def _new_pool(self, n: int) -> ProcessPoolExecutor:
        return process_pool(n, self.start_method, initializer=_init_local_worker, initargs=(self._ctx,))

    def start(self, ctx: RunContext) -> None:
        """Start every worker process now (import, JIT warm-up), not at the first runs."""
        self._ctx = ctx
        self._pool = self._new_pool(self.n_workers)
        self._pings = [self._pool.submit(_ping) for _ in range(self.n_workers)]

    def ready(self) -> None:
        """Wait until every worker has started."""
        for p in self._pings:
            try:
                p.result()
            except BrokenProcessPool as exc:
                self.close(cancel=True)
                raise SweepError(f"the local worker processes failed to start: {exc}") from None
        self._pings = []

    def results(self, tasks: Iterable[RunTask]) -> Iterator[Result]:
        queue = list(tasks)
        queue.reverse()
        window = 2 * self.n_workers
        running: dict[Future, RunTask] = {}
        suspects: list[RunTask] = []
        while queue or running:
            assert self._pool is not None
            broken = False
            while queue and len(running) < window:
                task = queue.pop()
                try:
                    running[self._pool.submit(_run_local, task)] = task
                except BrokenProcessPool:
                    queue.append(task)
                    broken = True
                    break
            if running and not broken:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in finished:
                    task = running.pop(fut)
                    exc = fut.exception()
                    if isinstance(exc, BrokenProcessPool):
                        suspects.append(task)
                        broken = True
                    elif exc is not None:
                        yield task, exc
                    else:
                        yield task, fut.result()
            if broken:
                # Every run still in flight is a suspect; the pool is gone.
                suspects.extend(running.values())
                running.clear()
                self._pool.shutdown(wait=True, cancel_futures=True)
                yield from self._isolate(suspects)
                suspects = []
                self._pool = self._new_pool(self.n_workers)

    def _isolate(self, suspects: list[RunTask]) -> Iterator[Result]:
        """Re-run each suspect alone in a one-process pool; the one whose worker dies again is the culprit."""
        pool = None
        try:
            for task in sorted(suspects, key=lambda t: t.index):
                pool = pool or self._new_pool(1)
                try:
                    outcome: RunOutcome | BaseException = pool.submit(_run_local, task).result()
                except BrokenProcessPool:
                    outcome = RuntimeError(
                        "the worker process died while running this run (killed, out of memory, "
                        "or a crash in compiled code); it died again when the run was retried alone"
                    )
                    pool.shutdown(wait=True, cancel_futures=True)
                    pool = None
                except Exception as exc:
                    outcome = exc
                yield task, outcome
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    def close(self, cancel: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=not cancel, cancel_futures=True)
            self._pool = None

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any], /) -> list[Any]:
        """``fn`` over ``items`` on the worker processes, results in order (a
        :class:`blinasim.core.worker.Runner`: virtual trials and the calibration run through it).
        Starts the workers if :meth:`start` has not; they stay up, warm, until :meth:`close`."""
        if self._pool is None:
            self._pool = self._new_pool(self.n_workers)
        return list(self._pool.map(fn, items))


_ADDRESS_HELP = (
    "{scheduler}: not a Dask scheduler address; expected PROTOCOL://HOST:PORT, e.g. tcp://127.0.0.1:8786 (or HOST:PORT)"
)
_ADDRESS = re.compile(r"^(?:(?:tcp|tls|ws|wss|ucx)://)?(?:\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+):(\d{1,5})/?$")


def check_scheduler_address(address: Any) -> None:
    """Raise :class:`SweepError` unless ``address`` looks like ``tcp://HOST:PORT`` (port 1-65535)."""
    m = _ADDRESS.match(address) if isinstance(address, str) else None
    if m is None or not 0 < int(m.group(1)) < 65536:
        raise SweepError(_ADDRESS_HELP.format(scheduler=arg("scheduler", repr(address))))


class DaskExecutor:
    """Dask distributed: a running scheduler (``scheduler="tcp://host:port"``) or a LocalCluster.

    Start a cluster with ``dask scheduler`` and, on every machine,
    ``NUMBA_NUM_THREADS=1 dask worker tcp://host:8786 --nworkers N --nthreads 1``.
    With worker writes (the default) every worker must see the store's path.

    A worker plugin warms the JIT and, unless ``keep_profiler=True``, stops
    Dask's sampling profiler of running tasks on every worker (it walks the
    stack of the running task every 10 ms, several percent of a run). Unless
    ``keep_monitors=True``, Dask's periodic monitors run at longer intervals
    (:data:`blinasim.experiments._dask.QUIET_CONFIG`: a 1 s event-loop tick instead of
    20 ms, memory monitor 1 s, system monitor 5 s without disk counters):
    a LocalCluster starts with them, and plugins slow them down on the workers
    and nannies of a running cluster. Their wake-ups (about 150 a second per
    worker) preempt the run and take CPU from busy cores, several percent of
    a run in all. The worker processes of a LocalCluster are forked from the
    warm forkserver of :class:`LocalExecutor` (``start_method="forkserver"``,
    the default where available; ``"spawn"`` is Dask's default), in which a
    run's thread used 2-4% less CPU than in a spawned one (two workers on two
    busy cores; docs/experiments.md, Performance).
    """

    def __init__(
        self,
        scheduler: str | None = None,
        local_workers: int | None = None,
        *,
        client: Any = None,
        timeout: float = 20.0,
        keep_profiler: bool = False,
        keep_monitors: bool = False,
        start_method: str | None = None,
        worker_timeout: float = 300.0,
    ):
        if sum(x is not None for x in (scheduler, local_workers, client)) != 1:
            raise SweepError("DaskExecutor: give exactly one of scheduler, local_workers or client")
        if scheduler is not None:
            check_scheduler_address(scheduler)
        if not (isinstance(worker_timeout, int | float) and 0 < worker_timeout < float("inf")):
            raise SweepError(f"worker timeout {worker_timeout!r}: must be a positive number of seconds")
        self.worker_timeout = float(worker_timeout)
        self.scheduler = scheduler
        self.local_workers = local_workers
        self.timeout = timeout
        self.keep_profiler = keep_profiler
        self.keep_monitors = keep_monitors
        if start_method not in (None, "forkserver", "spawn"):
            raise SweepError(f"start_method = {start_method!r}: use 'forkserver' or 'spawn'")
        self.start_method = start_method or "forkserver"
        self._client = client
        self._own_client = client is None
        self._cluster = None
        self._ctx: RunContext | None = None
        self._started = False
        self.n_workers = 0
        self.description = (
            f"Dask scheduler {scheduler}"
            if scheduler
            else (f"Dask LocalCluster of {local_workers} workers" if local_workers else "Dask client")
        )
        self.warnings: list[str] = []

    def start(self, ctx: RunContext | None) -> None:
        # Before the store is made.
        with requires_extra("dask", f"a Dask executor ({arg('scheduler')}, {arg('dask_local')})"):
            from distributed import Client, LocalCluster
        from blinasim.experiments._dask import (  # lazy: dask is imported only when a Dask executor starts
            QUIET_CONFIG,
            QuietNannyPlugin,
            WarmUpPlugin,
            use_warm_forkserver,
        )

        if self._client is None:
            if self.scheduler is not None:
                try:
                    self._client = Client(self.scheduler, timeout=self.timeout)
                except (OSError, TimeoutError) as exc:
                    raise SweepError(f"could not connect to the Dask scheduler at {self.scheduler!r}: {exc}") from None
                except (ValueError, TypeError) as exc:
                    raise SweepError(f"{_ADDRESS_HELP.format(address=self.scheduler)} ({exc})") from None
            else:
                import logging

                import dask

                # The scheduler and the nannies (in this process) and the workers (which get
                # this process's Dask config) start without the sampling profiler and with
                # slower monitors (each costs a run several %), unless asked for.
                settings: dict[str, Any] = {"distributed.worker.profile.enabled": self.keep_profiler}
                if not self.keep_monitors:
                    settings.update(QUIET_CONFIG)
                if self.start_method == "forkserver":
                    # Workers forked from the warm forkserver, as LocalExecutor's: a run's thread
                    # used 3-6% more CPU in a spawned worker (Dask's default).
                    settings.update(use_warm_forkserver())
                with dask.config.set(settings):
                    self._cluster = LocalCluster(
                        n_workers=self.local_workers,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=":0",
                        silence_logs=logging.ERROR,
                        env={"NUMBA_NUM_THREADS": "1"},
                    )
                self._client = Client(self._cluster)
        client = self._client
        if not self.keep_monitors:
            client.register_plugin(QuietNannyPlugin(), name=QuietNannyPlugin.name)
        client.register_plugin(
            WarmUpPlugin(keep_profiler=self.keep_profiler, keep_monitors=self.keep_monitors), name=WarmUpPlugin.name
        )
        info = client.scheduler_info()
        workers = info.get("workers", {})
        self.n_workers = sum(int(w.get("nthreads", 1)) for w in workers.values()) or 1
        if not workers:
            self.warnings.append(
                f"the Dask scheduler has no workers yet; runs wait up to {self.worker_timeout:g} s "
                "(the worker timeout, execution.worker_timeout) for workers to join"
            )
        elif any(int(w.get("nthreads", 1)) > 1 for w in workers.values()):
            self.warnings.append(
                "some Dask workers have more than one thread; runs hold the GIL, so start workers "
                "with --nthreads 1 and more processes (--nworkers N)"
            )
        # The context goes with every task (it is small): not scattered to one worker, whose
        # death would take it, and every queued run with it.
        self._ctx = ctx
        self._closing = False
        self._tag = uuid.uuid4().hex[:8]
        self._started = True

    def _wait_for_workers(self) -> None:
        try:
            self._client.wait_for_workers(1, timeout=self.worker_timeout)
        except TimeoutError:
            raise SweepError(
                f"no Dask worker joined the scheduler {self.description.removeprefix('Dask scheduler ')!r} within "
                f"{self.worker_timeout:g} s; start workers (dask worker ADDRESS --nthreads 1) or wait longer "
                f"({arg('worker_timeout', 'SECONDS')}, execution.worker_timeout)"
            ) from None

    def ready(self) -> None:
        """Wait (up to the worker timeout) until the cluster has a worker."""
        self._wait_for_workers()

    def _submit(self, task: RunTask, attempt: int) -> Any:
        a, s, r = task.index
        key = f"blinasim-run-{self._tag}-a{a}-s{s}-r{r}" + (f"-retry{attempt}" if attempt else "")
        return self._client.submit(execute_run, task, self._ctx, pure=False, key=key, retries=0)

    def results(self, tasks: Iterable[RunTask]) -> Iterator[Result]:
        """Runs as they finish. A worker that dies takes only the runs it was running: the
        scheduler runs them again on another worker (a run that kills three workers is
        recorded as failed, Dask's ``allowed-failures``); a run whose task was lost otherwise
        (cancelled, forgotten) is submitted again, twice at most. While the cluster has no
        worker the runs wait, up to the worker timeout."""
        from distributed import as_completed
        from distributed.client import FutureCancelledError

        futures: dict[Any, tuple[RunTask, int]] = {}
        for task in tasks:
            futures[self._submit(task, 0)] = (task, 0)
        self._futures = futures
        pending = as_completed(list(futures))
        no_workers_since: float | None = None
        last_check = time.monotonic()
        while futures:
            batch = pending.next_batch(block=False)
            if not batch:
                now = time.monotonic()
                if now - last_check >= 1.0:  # ask the scheduler once a second whether any worker is left
                    last_check = now
                    if not self._client.scheduler_info().get("workers"):
                        no_workers_since = no_workers_since or now
                        if now - no_workers_since > self.worker_timeout:
                            raise SweepError(
                                f"the Dask cluster has had no worker for {self.worker_timeout:g} s; "
                                f"{len(futures)} runs did not run. Start workers and continue with {arg('resume', True)}"
                            )
                    else:
                        no_workers_since = None
                time.sleep(0.02)
                continue
            for fut in batch:
                task, attempt = futures.pop(fut)
                try:
                    outcome = fut.result()
                except (FutureCancelledError, asyncio.CancelledError) as exc:
                    if attempt < 2 and not getattr(self, "_closing", False):
                        new = self._submit(task, attempt + 1)
                        futures[new] = (task, attempt + 1)
                        pending.add(new)
                        continue
                    outcome = exc
                except Exception as exc:
                    outcome = exc
                finally:
                    fut.release()
                yield task, outcome

    def close(self, cancel: bool = False) -> None:
        self._closing = True
        if self._client is not None and cancel:
            futs = list(getattr(self, "_futures", {}))
            if futs:
                try:
                    self._client.cancel(futs)
                except Exception:  # pragma: no cover - best effort on the way out
                    pass
        if self._own_client and self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
        self._started = False

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any], /) -> list[Any]:
        """``fn`` over ``items`` on the Dask workers, results in order (a
        :class:`blinasim.core.worker.Runner`: virtual trials and the calibration run through it).
        Connects (or starts the LocalCluster) if :meth:`start` has not."""
        if not self._started:
            self.start(None)
        futures = self._client.map(fn, list(items), pure=False, retries=0)
        try:
            return self._client.gather(futures)
        finally:
            for fut in futures:
                fut.release()


# ------------------------------------------------------------- the sweep


@dataclass
class SweepResult:
    """What a sweep did."""

    store: Path
    n_runs: int
    skipped: int  # already done before this sweep (resume)
    done: int
    failed: int
    seconds: float
    executor: str
    failures: list[tuple[str, int, int, str]] = field(default_factory=list)
    #: starting the executor (worker processes, imports, JIT warm-up), not in ``seconds``
    startup_seconds: float = 0.0

    @property
    def ran(self) -> int:
        return self.done + self.failed

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def format(self) -> str:
        rate = self.ran / self.seconds if self.seconds > 0 else float("nan")
        lines = [
            f"{self.store}: {self.ran} runs in {self.seconds:.1f} s ({rate:.3g} runs/s, {self.executor}, "
            f"started in {self.startup_seconds:.1f} s); "
            f"{self.done} done, {self.failed} failed" + (f", {self.skipped} already done" if self.skipped else "")
        ]
        for arm, s, r, msg in self.failures[:10]:
            first = msg.strip().splitlines()[0] if msg.strip() else "(no message)"
            lines.append(f"  failed: arm {arm!r}, sample {s}, replicate {r}: {first}")
        if len(self.failures) > 10:
            lines.append(f"  ... and {len(self.failures) - 10} more (see `blinasim status`)")
        return "\n".join(lines)


def make_executor(
    executor: Any = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
    defaults: Any = None,
    worker_timeout: float | None = None,
):
    """An executor from explicit options, falling back to an ``[execution]`` table.

    ``worker_timeout`` (Dask): seconds runs wait for a worker while the cluster has none.
    """
    if worker_timeout is None:
        worker_timeout = getattr(defaults, "worker_timeout", None) or 300.0
    dask_options = {"worker_timeout": worker_timeout}
    given = [x is not None for x in (workers, scheduler, dask_local)]
    if sum(given) > 1:
        raise SweepError(f"give at most one of {arg('workers')}, {arg('scheduler')} and {arg('dask_local')}")
    if executor is not None and not isinstance(executor, str):
        if any(given):
            raise SweepError("give either an executor object or workers/scheduler/dask_local options, not both")
        return executor
    if executor == "inprocess":
        return InProcessExecutor()
    if scheduler is not None:
        return DaskExecutor(scheduler=scheduler, **dask_options)
    if dask_local is not None:
        return DaskExecutor(local_workers=dask_local, **dask_options)
    if workers is not None:
        if executor == "dask":
            raise SweepError(
                f"{arg('workers')} starts local processes; with Dask use {arg('scheduler')} or {arg('dask_local')}"
            )
        return LocalExecutor(workers)
    if executor == "local":
        return LocalExecutor(defaults.workers if defaults is not None else None)
    if executor not in (None, "dask"):
        raise SweepError(f"executor = {executor!r}: use 'local', 'dask', 'inprocess' or an executor object")
    if defaults is not None and (executor == "dask" or defaults.executor == "dask"):
        if defaults.scheduler:
            return DaskExecutor(scheduler=defaults.scheduler, **dask_options)
        if defaults.dask_local:
            return DaskExecutor(local_workers=defaults.dask_local, **dask_options)
        raise SweepError("execution.executor = 'dask' needs execution.scheduler or execution.dask_local")
    if executor == "dask":
        raise SweepError(f"executor 'dask' needs {arg('scheduler', 'ADDRESS')} or {arg('dask_local', 'N')}")
    return LocalExecutor(defaults.workers if defaults is not None else None)


def dry_run_layout(plan, variables: list[str] | None = None):
    """Discover the run variables: one small run per arm (lattice 16, the experiment's time grid)."""
    datasets = []
    for a in range(plan.n_arms):
        data = plan.config_dict(a, 0)
        small = copy.deepcopy(data)
        small.setdefault("simulation", {})["lattice_size"] = min(16, data.get("simulation", {}).get("lattice_size", 16))
        try:
            cfg = validate_config(small)
        except ConfigError:
            cfg = validate_config(data)
        try:
            datasets.append(simulate(cfg, seed=plan.seed(0, 0)))
        except Exception as exc:
            raise SweepError(
                f"the dry run of arm {plan.arms[a].name!r} (sample 0 on a {cfg.simulation.lattice_size}-site "
                f"lattice, to discover the run variables) failed: {type(exc).__name__}: {exc}"
            ) from exc
    return layout_from_datasets(datasets, variables)


def _check_store_matches(path: Path, plan) -> None:
    try:
        ds = open_store(path)
    except StoreError as exc:
        raise SweepError(exc.marked) from None
    fp = ds.attrs.get("fingerprint")
    if fp != plan.fingerprint:
        raise SweepError(
            f"{arg('resume', True)}: store {str(path)!r} was created by a different experiment "
            f"({ds.attrs.get('experiment_name')!r}, fingerprint {fp}); this experiment's fingerprint is "
            f"{plan.fingerprint}. Arms, samples, replicates, seeds and the base config must be unchanged to resume."
        )
    made_with = ds.attrs.get("blinasim_version")
    if made_with is not None and made_with != __version__:
        raise SweepError(
            f"{arg('resume', True)}: store {str(path)!r} was written by blinasim {made_with}, this is blinasim {__version__}; "
            "one store holds the results of one version. Finish it with blinasim "
            f"{made_with} (e.g. pip install blinasim=={made_with}), or run the experiment into a new store"
        )


def run_sweep(
    experiment,
    store: str | os.PathLike | None = None,
    *,
    executor: Any = None,
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
    resume: bool = False,
    progress: bool = True,
    write: str | None = None,
    on_message: Callable[[str], None] | None = None,
    worker_timeout: float | None = None,
) -> SweepResult:
    """Run every run of ``experiment`` that is not done into ``store``.

    Without ``resume`` the store must not exist. With ``resume`` an existing
    store of the same experiment (same fingerprint, same blinasim version) is
    continued: runs marked done are skipped unless their data were damaged
    since (:func:`blinasim.experiments.store.damaged_runs`); pending, failed
    and damaged runs run (again). The store is locked for the whole sweep
    (:func:`blinasim.experiments.store.lock_store`): a second process that
    writes it is refused. ``worker_timeout`` (Dask): how long runs wait for a
    worker when the cluster has none (default ``execution.worker_timeout``).
    """
    plan = experiment.plan
    spec = experiment.spec
    say = on_message or (lambda msg: print(msg, file=sys.stderr))
    if store is None:
        store = spec.output.store
    if store is None:
        raise SweepError(f"no store given: pass {arg('store', 'STORE')} (or set output.store in the experiment)")
    path = Path(store)
    write = write or spec.execution.write
    if write not in ("worker", "parent"):
        raise SweepError(f"write = {write!r}: use 'worker' or 'parent'")
    if worker_timeout is None:
        worker_timeout = spec.execution.worker_timeout
    exe = make_executor(
        executor,
        workers=workers,
        scheduler=scheduler,
        dask_local=dask_local,
        defaults=spec.execution,
        worker_timeout=worker_timeout,
    )

    exists = path.exists()
    if exists and not resume:
        raise SweepError(
            f"store {str(path)!r} already exists; pass {arg('resume', True)} to continue it, or choose another path"
        )
    if exists:
        _check_store_matches(path, plan)
    else:
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            raise SweepError(f"store {str(path)!r}: directory {str(parent)!r} does not exist")
    try:
        check_store_writable(path)  # before any simulation
        lock = lock_store(path)
        lock.__enter__()
    except StoreError as exc:
        raise SweepError(exc.marked) from None
    try:
        if not exists and path.exists():
            raise SweepError(
                f"store {str(path)!r} was created by another process meanwhile; pass {arg('resume', True)} to continue it"
            )
        return _run_locked(exe, experiment, path, exists, resume, progress, write, say)
    finally:
        lock.__exit__(None, None, None)


def _run_locked(exe, experiment, path: Path, exists: bool, resume: bool, progress: bool, write: str, say):
    plan = experiment.plan
    spec = experiment.spec
    ctx = RunContext(str(path.resolve()), plan.fingerprint, plan.base, write, __version__)
    # Start (or connect) before creating the store: an unreachable scheduler
    # leaves nothing behind. Local workers warm up while the parent does the
    # dry run.
    t_start = time.perf_counter()
    try:
        exe.start(ctx)
    except StoreError as exc:
        raise SweepError(exc.marked) from None
    # Stages go with the progress bar (--no-progress: only warnings and errors on stderr).
    stage = say if progress else (lambda msg: None)
    stage(
        f"started {exe.description}: the workers load the kernels (seconds; 15 s to a minute to compile them "
        "on a first run, `blinasim warmup` does that ahead)"
    )
    try:
        layout = None
        if not exists:
            stage("planning the store: a dry run of one patient for the output layout")
            layout = dry_run_layout(plan, spec.output.variables)
        for w in getattr(exe, "warnings", []):  # before waiting for workers: say why it waits
            say(f"warning: {w}")
        exe.ready()
        startup = time.perf_counter() - t_start
        stage(f"workers ready after {startup:.1f} s")
        if layout is not None:
            stage(f"creating the store {path}")
            create_store(path, plan, layout, experiment_text=experiment.text, shard_runs=spec.output.shard_runs)
        store_layout_ = store_layout(path, plan.fingerprint)
        recovered = pack_staged(path, store_layout_) if exists else []  # runs a killed sweep finished
        if recovered:
            say(f"{len(recovered)} run(s) finished before the interruption were packed into {path}")
        status = read_status(path)
        damaged = damaged_runs(path, status) if exists else []
        if damaged:
            arms = [a.name for a in plan.arms]
            say(f"{len(damaged)} done run(s) of {path} are damaged on disk and run again:")
            for line in format_damaged(arms, damaged):
                say(f"  {line}")
            for a, s, r, why in damaged:
                write_run_status(path, (a, s, r), PENDING, message=f"damaged on disk, re-run: {why}")
                status[a, s, r] = PENDING
        todo = [idx for idx in plan.runs() if status[idx] != DONE]
        skipped = plan.n_runs - len(todo)
        if resume and exists:
            say(f"resuming {path}: {skipped} of {plan.n_runs} runs done, {len(todo)} to run")
        tasks = []
        for a, s, r in todo:
            f = plan.failure_for(a, s, r)
            tasks.append(
                RunTask(
                    (a, s, r),
                    plan.overrides(a, s),
                    plan.seed(s, r),
                    None if f is None else f.mode,
                    "" if f is None else f.message,
                )
            )
        result = _drive(exe, ctx, plan, tasks, path, skipped, progress, store_layout_)
        result.startup_seconds = startup
        return result
    except StoreError as exc:
        raise SweepError(exc.marked) from None
    finally:
        exe.close()


def _drive(
    exe, ctx: RunContext, plan, tasks: list[RunTask], path: Path, skipped: int, progress: bool, layout
) -> SweepResult:
    from tqdm import tqdm

    # Packing: a shard is written once every run of it in this sweep has finished (one writer: this process).
    block = store_shard_block(path)
    remaining: dict[tuple[int, int, int], int] = {}
    for task in tasks:
        key = shard_of(task.index, block)
        remaining[key] = remaining.get(key, 0) + 1
    staged: dict[tuple[int, int, int], list[tuple[int, int, int]]] = {}
    t0 = time.perf_counter()
    n_done = n_failed = 0
    failures: list[tuple[str, int, int, str]] = []
    bar = tqdm(
        total=len(tasks),
        unit="run",
        desc=plan.name,
        disable=not progress,
        file=sys.stderr,
        mininterval=0.5,
        dynamic_ncols=True,
    )
    completed = False
    try:
        for task, result in exe.results(tasks):
            if isinstance(result, BaseException):
                reason = f"the run was lost by the executor: {type(result).__name__}: {result}"
                try:
                    outcome = record_lost(ctx, task.index, reason)
                except Exception as exc:  # the store itself is unwritable
                    raise SweepError(f"cannot record a failed run in {str(path)!r}: {exc}") from exc
            else:
                outcome = record_outcome(ctx, result)
            key = shard_of(outcome.index, block)
            if outcome.status == DONE:
                staged.setdefault(key, []).append(outcome.index)
            remaining[key] -= 1
            if remaining[key] == 0 and staged.get(key):
                pack_staged(path, layout, staged.pop(key))
            if outcome.status == DONE:
                n_done += 1
            else:
                n_failed += 1
                a, s, r = outcome.index
                failures.append((plan.arms[a].name, s, r, outcome.message))
            bar.update(1)
            if n_failed:
                bar.set_postfix(failed=n_failed, refresh=False)
        completed = True
    finally:
        bar.close()
        if not completed:
            exe.close(cancel=True)
        # Interrupted (or shards that were not complete): pack what finished, so it counts as done.
        leftover = sorted(i for runs in staged.values() for i in runs)
        if leftover:
            pack_staged(path, layout, leftover)
    return SweepResult(
        path, plan.n_runs, skipped, n_done, n_failed, time.perf_counter() - t0, exe.description, failures
    )


def status_counts(path: str | os.PathLike) -> dict[str, int]:
    status = read_status(path)
    return {name: int(np.count_nonzero(status == code)) for code, name in STATUS_NAMES.items()}

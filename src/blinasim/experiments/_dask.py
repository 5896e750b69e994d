"""Dask-only helpers, imported only when a Dask executor is used.

Why a run is slower on a Dask worker than in a local worker process: not the
task thread itself (a run in a plain thread takes the same CPU as in a main
thread), but Dask's periodic callbacks. Every worker (and nanny, and the
scheduler) wakes its event loop 50 times a second for a 20 ms "tick" that
only watches for a blocked loop, 10 times a second for the memory monitor and
twice a second for the system monitor (psutil: CPU, memory, network and disk
counters from ``/proc``): about 150 wake-ups a second per worker, using
2-3% of a run's CPU in the worker and 2-3% of a core in the scheduler and
nanny, taken from the runs when every core runs one. On a worker each
wake-up also needs the GIL that the run's thread holds and preempts that
thread. Slower intervals (:data:`QUIET_CONFIG`) remove most of it;
heartbeats (set by the scheduler) are left alone. See docs/experiments.md
(Performance) for the measurements.

The worker processes of a LocalCluster are forked from the warm forkserver of
:class:`blinasim.experiments.sweep.LocalExecutor` (:func:`use_warm_forkserver`) rather
than spawned (Dask's default): a run's own thread used 3-6% more CPU in a
spawned worker process (Dask's or a spawned local pool's) than in one forked
from the forkserver, with two workers on two busy cores.
"""

from __future__ import annotations

from typing import Any

from blinasim.core.worker import PRELOAD, prepare_worker
from blinasim.errors import arg
from blinasim.extras import requires_extra

with requires_extra("dask", f"a Dask executor ({arg('scheduler')}, {arg('dask_local')})"):
    from distributed.diagnostics.plugin import NannyPlugin, WorkerPlugin

#: Periodic callbacks of a Dask worker that sample the stacks of running tasks
#: every 10 ms for the dashboard's profile page. A run spends its time in a deep
#: Python step loop calling numba kernels, so the sampling (which takes the GIL
#: and walks the stack) costs several percent of every run.
PROFILER_CALLBACKS = ("profile", "profile-cycle")

#: Dask settings for the processes of a sweep (workers, nannies, the
#: scheduler of a LocalCluster): event-loop tick 1 s instead of 20 ms (it
#: only detects a blocked event loop, limit 3 s), memory monitor 1 s instead
#: of 100 ms (a run's memory changes slowly; the nanny still terminates a
#: worker above 95% of its limit, a second later at worst), system monitor
#: (dashboard and heartbeat metrics) every 5 s instead of 500 ms and without
#: the disk I/O counters. For ``dask worker`` and ``dask scheduler`` the same
#: as environment variables: :data:`QUIET_ENV`.
QUIET_CONFIG: dict[str, Any] = {
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.admin.system-monitor.disk": False,
}

#: :data:`QUIET_CONFIG` as Dask's environment variables (for ``dask worker``).
QUIET_ENV: dict[str, str] = {
    "DASK_" + key.upper().replace(".", "__").replace("-", "_"): str(value) for key, value in QUIET_CONFIG.items()
}

#: Callback name -> interval in ms, as set by :data:`QUIET_CONFIG`.
_QUIET_MS = {"tick": 1000.0, "memory_monitor": 1000.0, "monitor": 5000.0}


def use_warm_forkserver() -> dict[str, Any]:
    """Dask settings that fork a LocalCluster's worker processes from blinasim's warm forkserver.

    The forkserver imports :mod:`blinasim.core._preload` (the package imported, one
    numba thread, the JIT warm) and ``distributed``, as for
    :class:`blinasim.experiments.sweep.LocalExecutor`, which shares the server when both
    run in one process. Dask sets its own preload list the first time it makes
    a forkserver context, so that is done first and replaced here; the server
    is started now, before the nannies put ``distributed.nanny.pre-spawn-environ``
    into this process's environment. Use the returned settings around the
    creation of the cluster (the nannies read the start method when they start
    a worker). Empty where there is no forkserver (workers are spawned).
    """
    import multiprocessing
    from multiprocessing import forkserver

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return {}
    import dask
    from distributed.utils import get_mp_context

    settings = {"distributed.worker.multiprocessing-method": "forkserver"}
    with dask.config.set(settings):
        get_mp_context()
    multiprocessing.get_context("forkserver").set_forkserver_preload([PRELOAD, "distributed"])
    forkserver.ensure_running()
    return settings


def quiet_monitors(server: Any) -> list[str]:
    """Slow down the periodic monitors of a running worker or nanny to the :data:`QUIET_CONFIG` intervals.

    For processes started without that configuration (workers of a running
    cluster). Only makes intervals longer, never shorter; returns what changed.
    """
    changed = []
    for name, ms in _QUIET_MS.items():
        pc = getattr(server, "periodic_callbacks", {}).get(name)
        if pc is None or pc.callback_time >= ms:
            continue
        pc.callback_time = ms  # tornado reads it when it schedules the next call
        changed.append(name)
        if name == "tick":
            server._tick_interval = server._tick_interval_observed = ms / 1000.0
        elif name == "memory_monitor":
            manager = getattr(server, "memory_manager", None)
            if manager is not None and getattr(manager, "memory_monitor_interval", None) is not None:
                manager.memory_monitor_interval = ms / 1000.0
    monitor = getattr(server, "monitor", None)
    if getattr(monitor, "monitor_disk_io", False):
        monitor.monitor_disk_io = False
        changed.append("disk-io")
    return changed


class WarmUpPlugin(WorkerPlugin):
    """On every worker, current and future: one numba thread, the installed package, a warm JIT.

    With ``keep_profiler=False`` (the default of :class:`blinasim.experiments.sweep.DaskExecutor`)
    it also stops the worker's statistical profiler of running tasks, and with
    ``keep_monitors=False`` it slows the worker's monitors (:func:`quiet_monitors`).
    """

    name = "blinasim-warmup"

    def __init__(self, keep_profiler: bool = False, keep_monitors: bool = False):
        self.keep_profiler = keep_profiler
        self.keep_monitors = keep_monitors

    def setup(self, worker: Any) -> None:
        if not self.keep_profiler:
            for name in PROFILER_CALLBACKS:
                callback = worker.periodic_callbacks.pop(name, None)
                if callback is not None:
                    callback.stop()
        if not getattr(self, "keep_monitors", False):
            quiet_monitors(worker)
        prepare_worker()


class QuietNannyPlugin(NannyPlugin):
    """On every nanny: :func:`quiet_monitors` (its tick and its memory monitor of the worker process)."""

    name = "blinasim-quiet-nanny"

    def setup(self, nanny: Any) -> None:
        quiet_monitors(nanny)

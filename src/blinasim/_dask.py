"""Dask-only helpers, imported only when a Dask executor is used."""

from __future__ import annotations

from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

#: Periodic callbacks of a Dask worker that sample the stacks of running tasks
#: every 10 ms for the dashboard's profile page. A run spends its time in a deep
#: Python step loop calling numba kernels, so the sampling (which takes the GIL
#: and walks the stack) costs several percent of every run.
PROFILER_CALLBACKS = ("profile", "profile-cycle")


class WarmUpPlugin(WorkerPlugin):
    """On every worker, current and future: one numba thread, the installed package, a warm JIT.

    With ``keep_profiler=False`` (the default of :class:`blinasim.sweep.DaskExecutor`)
    it also stops the worker's statistical profiler of running tasks.
    """

    name = "blinasim-warmup"

    def __init__(self, keep_profiler: bool = False):
        self.keep_profiler = keep_profiler

    def setup(self, worker: Any) -> None:
        from blinasim.sweep import prepare_worker

        if not self.keep_profiler:
            for name in PROFILER_CALLBACKS:
                callback = worker.periodic_callbacks.pop(name, None)
                if callback is not None:
                    callback.stop()
        prepare_worker()

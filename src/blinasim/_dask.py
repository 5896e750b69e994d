"""Dask-only helpers, imported only when a Dask executor is used."""

from __future__ import annotations

from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin


class WarmUpPlugin(WorkerPlugin):
    """On every worker, current and future: one numba thread, the installed package, a warm JIT."""

    name = "blinasim-warmup"

    def setup(self, worker: Any) -> None:
        from blinasim.sweep import prepare_worker

        prepare_worker()

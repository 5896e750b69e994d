"""Preloaded by the forkserver of every worker pool (:func:`blinasim.core.worker.process_pool`).

The forkserver imports this module once: one numba thread, the installed
package imported, the JIT warm (kernels loaded from the numba cache or
compiled). Every worker process is then forked from the warm server and
starts in milliseconds instead of re-importing and re-loading the kernels.
"""

from __future__ import annotations

from blinasim.core.worker import prepare_worker

prepare_worker()  # sets NUMBA_NUM_THREADS=1 first: blinasim.core.worker does not import numba

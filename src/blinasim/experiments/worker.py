"""Preparing a process to run simulations: one numba thread per worker, the JIT warm.

This module imports neither numba nor the simulation at import time:
``NUMBA_NUM_THREADS`` must be set before numba is first imported, so the
simulation is imported inside :func:`prepare_worker`, after
:func:`limit_numba_threads` (a deliberate, documented lazy import).
"""

from __future__ import annotations

import os
import sys

_READY = False


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

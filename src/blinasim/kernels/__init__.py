"""Numba kernels: one module per biological process, pure functions over the store records.

Rules: no Mesa, no pydantic, no mutable module globals inside a
kernel; randomness only from :mod:`blinasim.kernels.rng` (counter-based); each
agent store is one argument, its record (:mod:`blinasim.kernels.layout`). The
rates a kernel takes are computed in :mod:`blinasim.core.processes`.

Numba's on-disk cache keys a function on its own file only, so a change in a
helper in another file (``rng.py``) would leave stale machine code behind.
We therefore key the whole cache directory on a hash of every kernel source
file: any edit to any kernel file gives a fresh cache, and an unchanged tree
reuses it (warm start). ``NUMBA_CACHE_DIR`` still chooses the parent.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba


def _select_cache_dir() -> str:
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(here.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    digest.update(numba.__version__.encode())
    parent = os.environ.get("NUMBA_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "blinasim", "numba"
    )
    path = os.path.join(parent, digest.hexdigest()[:16])
    numba.config.CACHE_DIR = path
    return path


CACHE_DIR = _select_cache_dir()

# The submodules are imported after the cache directory is chosen.
from blinasim.kernels import (  # noqa: E402
    blast_fate,
    census,
    chemotherapy,
    compaction,
    encounter,
    initial,
    killing,
    layout,
    marrow_turnover,
    motility,
    normal_b_supply,
    rng,
    tcell_fate,
    trafficking,
)

__all__ = [
    "CACHE_DIR",
    "blast_fate",
    "census",
    "chemotherapy",
    "compaction",
    "encounter",
    "initial",
    "killing",
    "layout",
    "marrow_turnover",
    "motility",
    "normal_b_supply",
    "rng",
    "tcell_fate",
    "trafficking",
]

"""Numba kernels: one module per biological process, pure functions over the store records.

Rules: no Mesa, no pydantic, no mutable module globals inside a
kernel; randomness only from :mod:`blinasim.kernels.rng` (counter-based); each
agent store is one argument, its record (:mod:`blinasim.kernels.layout`). The
rates a kernel takes are computed in :mod:`blinasim.core.processes`.

Numba's on-disk cache keys a function on its own file only, so a change in a
helper in another file (``rng.py``) would leave stale machine code behind.
Every kernel therefore gets a cache stamped with a hash of every kernel source
file (:mod:`blinasim.kernels._cache`): any edit to any kernel file invalidates
it, an unchanged tree reuses it (warm start). Importing the package changes no
process-wide numba setting; ``NUMBA_CACHE_DIR``, when set, chooses the folder.
"""

from __future__ import annotations

from pathlib import Path

from blinasim.kernels import (
    blast_fate,
    blast_scale,
    census,
    chemotherapy,
    compaction,
    encounter,
    glucocorticoid,
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
from blinasim.kernels._cache import use_source_tree_cache

#: The kernels that now use the source-tree cache (every ``cache=True`` function of the modules above).
CACHED_KERNELS = use_source_tree_cache(__name__, Path(__file__).parent)

__all__ = [
    "CACHED_KERNELS",
    "blast_fate",
    "blast_scale",
    "census",
    "chemotherapy",
    "compaction",
    "encounter",
    "glucocorticoid",
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

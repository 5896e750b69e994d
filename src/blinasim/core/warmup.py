"""The kernels' machine code: is it cached (warm), and load or compile it ahead of a run.

Every kernel is compiled by numba the first time it is called with a given set
of argument types and written to the kernel cache
(:mod:`blinasim.kernels._cache`); a later process loads it from there. Compiling
all of them takes 13-50 s on a 2-core machine (the more other work, the longer),
loading them 0.5-3.5 s: :func:`cache_status` tells which case a run is in (without loading
anything), :func:`warm_up` calls every kernel on tiny patients so that both
happen before the first real run, and :func:`expected_seconds` gives the time
to announce (measured, docs/getting-started.md).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

#: Seconds to load every kernel from a warm cache, and to compile them all, on the 2-core machine of
#: README.md (2026-11-30, one core busy with other work; a busier machine takes up to 4x longer):
#: announced before a run, never relied on.
LOAD_SECONDS = 1
COMPILE_SECONDS = 15

#: Tiny patients whose runs call every kernel of the package: the default course, a salvage
#: chemotherapy course, a checkpoint inhibitor and lineage switch. Each is a few simulated hours.
WARM_UP_RUNS: tuple[dict, ...] = (
    {"simulation": {"lattice_size": 16, "days": 0.25}},
    {
        "simulation": {"lattice_size": 16, "days": 1.0},
        "treatment": {"regimen": "none", "chemotherapy": "salvage"},
    },
    {
        "simulation": {"lattice_size": 16, "days": 0.5},
        "treatment": {"checkpoint_inhibitor": "nivolumab"},
        "patient": {"kmt2a_rearranged": True},
        "disease": {"lineage_switch_per_division": 0.5},
    },
)


#: Written next to the cache files by :func:`warm_up`: the kernel sources' stamp and the kernels it cached.
MARKER = "blinasim-warm-up.json"


@dataclass(frozen=True)
class CacheStatus:
    """What the kernel cache holds for the current kernel sources and numba version."""

    #: kernels (numba dispatchers) with machine code in the cache
    cached: int
    #: kernels of the package, inline helpers included (those are compiled into their callers)
    total: int
    #: :func:`warm_up` ran for these sources and every kernel it cached is still there
    warm: bool
    #: the folder of the cache files
    where: str

    def expected_seconds(self) -> int:
        """The time to announce: loading when warm, compiling otherwise."""
        return LOAD_SECONDS if self.warm else COMPILE_SECONDS

    def describe(self) -> str:
        """One line for the user: what happens next and how long it takes."""
        if self.warm:
            return f"loading kernels from the cache (about {LOAD_SECONDS} s, longer on a busy machine)"
        if self.cached:
            return (
                f"loading kernels, compiling those not cached yet (up to about {COMPILE_SECONDS} s on 2 cores; "
                "`blinasim warmup` does this once ahead)"
            )
        return (
            f"compiling kernels: first run after an install or a kernel change (about {COMPILE_SECONDS} s on 2 cores, "
            "up to a minute on a busy machine; once; `blinasim warmup` does this ahead)"
        )


def _kernels():
    from blinasim.kernels import CACHED_KERNELS  # lazy: importing numba takes seconds; callers decide when

    return CACHED_KERNELS


def _has_cache_entry(dispatcher) -> bool:
    """Whether the cache index of ``dispatcher`` exists and matches the current kernel sources."""
    try:
        return bool(dispatcher._cache._cache_file._load_index())
    except Exception:  # an unreadable index is a cold one
        return False


def _marker_path(kernels) -> Path | None:
    return Path(kernels[0]._cache._cache_path) / MARKER if kernels else None


def _stamp(kernels) -> str:
    return type(kernels[0]._cache).stamp if kernels else ""


def cache_status() -> CacheStatus:
    """Which kernels are in the cache, without loading or compiling any.

    Warm means: :func:`warm_up` ran for the current kernel sources and numba version (its
    marker file carries their stamp) and every kernel it cached still has its cache entry.
    """
    kernels = _kernels()
    present = {f"{d.py_func.__module__}.{d.py_func.__name__}" for d in kernels if _has_cache_entry(d)}
    warm = False
    marker = _marker_path(kernels)
    if marker is not None and marker.is_file():
        try:
            record = json.loads(marker.read_text())
            warm = record.get("stamp") == _stamp(kernels) and set(record.get("kernels", [])) <= present
        except (OSError, ValueError):
            warm = False
    where = str(marker.parent) if marker is not None else ""
    return CacheStatus(cached=len(present), total=len(kernels), warm=warm, where=where)


def warm_up() -> float:
    """Load (or compile, then cache) every kernel by running :data:`WARM_UP_RUNS`; return the seconds taken.

    The runs' results are discarded. Safe to call again: the second call only runs the tiny
    patients (well under a second once the kernels are loaded in this process).
    """
    from blinasim.core.model import simulate  # lazy: the kernels load here, when the caller asks

    start = time.perf_counter()
    for config in WARM_UP_RUNS:
        simulate(config, seed=0)
    seconds = time.perf_counter() - start
    kernels = _kernels()
    marker = _marker_path(kernels)
    if marker is not None:
        names = sorted(f"{d.py_func.__module__}.{d.py_func.__name__}" for d in kernels if d.signatures)
        try:
            marker.write_text(json.dumps({"stamp": _stamp(kernels), "kernels": names}, indent=1) + "\n")
        except OSError:  # a read-only cache: nothing to remember, the next run loads what is there
            pass
    return seconds

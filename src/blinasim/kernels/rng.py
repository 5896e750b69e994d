"""Counter-based random numbers: every draw is a pure function of
(run seed, tick, stream, agent slot, draw index).

A SplitMix64 finalizer (Steele, Lea & Flood 2014) hashes the counter; the top
53 bits give a double in [0, 1). No generator state exists, so results do not
depend on thread count or on the order in which agents are visited, two
scenarios with the same seed share their draws (common random numbers), and the
Mesa reference model can reproduce any draw by calling the same functions.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Stream ids: one per process, so that adding draws to one process never
# shifts another process's numbers.
INIT = 1
MOTILITY = 2
ENCOUNTER = 3
KILLING = 4
TCELL_FATE = 5
RESIDENT_FATE = 6
TRAFFIC_T = 7
TRAFFIC_RESIDENT = 8
MARROW_TURNOVER = 9
NORMAL_B_SUPPLY = 10
PATIENT = 11
CHEMOTHERAPY = 12
BLAST_SCALE = 13
SEIZURE = 14  # clinical.seizures: one draw per tick while neurotoxicity is graded
# 15 is kept for the tyrosine kinase inhibitor (it draws nothing today).
GLUCOCORTICOID = 16
#: physician's choice of a salvage regimen and the patient's chemosensitivity (drawn once per run, tick 0)
CHEMO_CHOICE = 17
#: treatment-related death of salvage chemotherapy (clinical.course): one exponential draw per run, tick 0
CHEMO_TOXIC_DEATH = 18


@njit(cache=True, inline="always")
def mix64(z):
    """SplitMix64 finalizer: a bijective avalanche of a uint64."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def stream_key(seed, tick, stream):
    """The key of one process at one tick; combine with :func:`uniform`."""
    z = mix64(np.uint64(seed) + np.uint64(stream) * np.uint64(0x9E3779B97F4A7C15))
    return mix64(z ^ (np.uint64(tick) * np.uint64(0xD1B54A32D192ED03)))


@njit(cache=True, inline="always")
def uniform(key, slot, k):
    """Draw number ``k`` of agent ``slot`` under ``key``: a double in [0, 1)."""
    z = key + np.uint64(slot) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(k) * np.uint64(0xBF58476D1CE4E5B9)
    return np.float64(mix64(z) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, inline="always")
def exponential(key, slot, k, mean):
    """Exponential draw with the given mean (inverse transform)."""
    return -mean * np.log(1.0 - uniform(key, slot, k))


@njit(cache=True, inline="always")
def normal(key, slot, k):
    """Standard normal (Box-Muller, uses draws ``k`` and ``k + 1``)."""
    u1 = 1.0 - uniform(key, slot, k)
    u2 = uniform(key, slot, k + 1)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


@njit(cache=True, inline="always")
def lognormal(key, slot, k, median, log_sd):
    """Lognormal draw given its median and log-sd (uses draws ``k``, ``k + 1``)."""
    return median * np.exp(log_sd * normal(key, slot, k))


@njit(cache=True)
def poisson(key, slot, k, mean):
    """Poisson draw by inversion (for small means, e.g. births per slow step).

    Uses draw ``k`` only. Means above 50 fall back to a rounded normal
    approximation (draws ``k+1``, ``k+2``), which is ample for a count.
    """
    if mean <= 0.0:
        return 0
    if mean > 50.0:
        x = mean + np.sqrt(mean) * normal(key, slot, k + 1)
        return max(0, int(np.floor(x + 0.5)))
    u = uniform(key, slot, k)
    p = np.exp(-mean)
    cdf = p
    n = 0
    while u > cdf and n < 1000:
        n += 1
        p *= mean / n
        cdf += p
    return n


@njit(cache=True)
def uniform_array(seed, tick, stream, n):
    """``n`` draws of slots 0..n-1 (draw index 0), for tests and the reference model."""
    key = stream_key(seed, tick, stream)
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        out[i] = uniform(key, i, 0)
    return out


@njit(cache=True)
def draw_uniform(seed, tick, stream, slot, k):
    """One uniform draw addressed by its full counter (callable from Python)."""
    return uniform(stream_key(seed, tick, stream), slot, k)


@njit(cache=True)
def draw_normal(seed, tick, stream, slot, k):
    """One standard normal draw addressed by its full counter (callable from Python)."""
    return normal(stream_key(seed, tick, stream), slot, k)


@njit(cache=True)
def draw_poisson(seed, tick, stream, slot, k, mean):
    """One Poisson draw addressed by its full counter (callable from Python)."""
    return poisson(stream_key(seed, tick, stream), slot, k, mean)

"""Killing and synapse release (phase ``killing``; serial killing).

A synapse lasts ``synapse_hours``; then the target dies with probability

    lysis_probability * H(e) * (1 - w_pd1 * e * PDL1_target * (1 - RO))

and the T-cell is released either way, free to engage again on the next tick
(serial killing). ``H(e) = 1 / (1 + (e / e50)^n)`` is the intrinsic, progressive
loss of effector function with exhaustion ``e``; the second factor is the
PD-1:PD-L1 brake: PD-1 rises with exhaustion (PD-1 level = ``e``), PD-L1 is the
target's, and an anti-PD-1 antibody occupying a share ``RO`` of PD-1 lifts it.
Exhaustion accrues while the T-cell is engaged: ``de/dt = k_ex * (1 - e)``,
integrated exactly. The lysis probability (regulatory T-cells):
:mod:`blinasim.core.processes.killing`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from blinasim.kernels.layout import (
    L_KIND,
    L_SLOT,
    NO_PARTNER,
    POS_DEAD,
    SITE_EMPTY,
    T_EXHAUSTION,
    T_KILLS,
    T_PARTNER,
    T_SYNAPSE_H,
    TG_ENGAGED,
    TG_KIND,
    TG_PDL1,
    TG_POS,
)
from blinasim.kernels.rng import KILLING, stream_key, uniform


@njit(cache=True, inline="always")
def effector_function(e, e50, hill):
    """Intrinsic lytic and proliferative capacity left at exhaustion ``e`` (1 when fresh)."""
    return 1.0 / (1.0 + (e / e50) ** hill)


@njit(cache=True)
def resolve_synapses(
    seed,
    tick,
    dt_hours,
    n_t,
    tcells,
    targets,
    lattice,
    lysis_probability,
    exhaustion_per_hour,
    exhaustion_e50,
    exhaustion_hill,
    pd1_inhibition,
    pd1_free,
    killed_by_kind,
):
    """Advance every synapse by one tick; kill and release those that complete.

    ``pd1_free`` is the share of PD-1 not occupied by an anti-PD-1 antibody.
    ``killed_by_kind`` (int64, indexed by target kind) accumulates kills.
    Returns the number of targets killed this tick.
    """
    t_partner, t_synapse_h = tcells[T_PARTNER], tcells[T_SYNAPSE_H]
    t_exhaustion, t_kills = tcells[T_EXHAUSTION], tcells[T_KILLS]
    tg_pos, tg_kind, tg_pdl1, tg_engaged = targets[TG_POS], targets[TG_KIND], targets[TG_PDL1], targets[TG_ENGAGED]
    site_kind, site_slot = lattice[L_KIND], lattice[L_SLOT]
    key = stream_key(seed, tick, KILLING)
    keep = np.exp(-exhaustion_per_hour * dt_hours)
    killed = 0
    for i in range(n_t):
        j = t_partner[i]
        if j == NO_PARTNER:
            continue
        t_exhaustion[i] = 1.0 - (1.0 - t_exhaustion[i]) * keep
        t_synapse_h[i] -= dt_hours
        # The timer is float32: compare with a tolerance far above its rounding
        # error (~1e-7 h) and far below a tick, so whole-tick synapses end on time.
        if t_synapse_h[i] > 1e-4:
            continue
        e = t_exhaustion[i]
        brake = 1.0 - pd1_inhibition * e * tg_pdl1[j] * pd1_free
        if uniform(key, i, 0) < lysis_probability * effector_function(e, exhaustion_e50, exhaustion_hill) * brake:
            s = tg_pos[j]
            if s >= 0:
                site_kind[s] = SITE_EMPTY
                site_slot[s] = -1
            tg_pos[j] = POS_DEAD
            killed_by_kind[tg_kind[j]] += 1
            if t_kills[i] < 65535:
                t_kills[i] += 1
            killed += 1
        tg_engaged[j] = 0
        t_partner[i] = NO_PARTNER
        t_synapse_h[i] = 0.0
    return killed

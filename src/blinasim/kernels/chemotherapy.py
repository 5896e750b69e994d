"""Salvage chemotherapy (comparator arm), cytotoxic exposure (phase ``chemotherapy``).

During a course (``combination.CombinationDrugs.chemotherapy_active``) every
cell dies on the slow clock with a per-day hazard of its own: blasts and
normal B-lineage precursors (cycling, most sensitive), other nucleated marrow
cells (myelosuppression to aplasia; they refill empty sites afterwards), and
T-cells (lymphodepletion). All blasts of the model cycle (there is no
quiescent compartment), so the hazard applies to every blast. Cells in a
synapse are spared for that step (the synapse resolves first).
Kill probabilities: :mod:`blinasim.core.processes.chemotherapy`.
"""

from __future__ import annotations

from numba import njit

from blinasim.kernels.layout import (
    KIND_BLAST,
    L_KIND,
    L_SLOT,
    NO_PARTNER,
    POS_BLOOD,
    POS_DEAD,
    SITE_EMPTY,
    SITE_OTHER,
    T_PARTNER,
    T_POS,
    TG_ENGAGED,
    TG_KIND,
    TG_POS,
)
from blinasim.kernels.rng import CHEMOTHERAPY, stream_key, uniform

# Event counter layout (int64, length 4): deaths by population.
EV_BLAST = 0
EV_NORMAL_B = 1
EV_OTHER = 2
EV_T = 3


@njit(cache=True)
def cytotoxic_exposure(
    seed,
    tick,
    n_t,
    tcells,
    n,
    targets,
    lattice,
    p_blast,
    p_normal_b,
    p_other,
    p_t,
    events,
):
    """Kill cells exposed to chemotherapy for one slow step; ``events`` accumulates deaths."""
    t_pos, t_partner = tcells[T_POS], tcells[T_PARTNER]
    tg_pos, tg_kind, tg_engaged = targets[TG_POS], targets[TG_KIND], targets[TG_ENGAGED]
    site_kind, site_slot = lattice[L_KIND], lattice[L_SLOT]
    n_sites = site_kind.shape[0]
    key = stream_key(seed, tick, CHEMOTHERAPY)
    for j in range(n):
        p = tg_pos[j]
        if p < POS_BLOOD or tg_engaged[j] != 0:
            continue
        blast = tg_kind[j] == KIND_BLAST
        if uniform(key, j, 0) < (p_blast if blast else p_normal_b):
            if p >= 0:
                site_kind[p] = SITE_EMPTY
                site_slot[p] = -1
            tg_pos[j] = POS_DEAD
            events[EV_BLAST if blast else EV_NORMAL_B] += 1
    for s in range(n_sites):
        if site_kind[s] == SITE_OTHER and uniform(key, n + s, 0) < p_other:
            site_kind[s] = SITE_EMPTY
            events[EV_OTHER] += 1
    offset = n + n_sites
    for i in range(n_t):
        if t_pos[i] < POS_BLOOD or t_partner[i] != NO_PARTNER:
            continue
        if uniform(key, offset + i, 0) < p_t:
            t_pos[i] = POS_DEAD
            events[EV_T] += 1

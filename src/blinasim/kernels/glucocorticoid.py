"""Glucocorticoid-induced apoptosis of lymphoblasts (phase ``glucocorticoid``, slow clock).

Dexamethasone kills B-lineage lymphoblasts through the glucocorticoid receptor
(the reason it leads every ALL protocol and is given as a pre-phase to debulk
before blinatumomab). While the patient carries dexamethasone, every free
B-lineage blast (CD19-positive or CD19-negative; not a lineage-switched
myeloid blast, which has left the lymphoid programme) dies with one
probability per slow step. A blast in a synapse is left to the synapse.
Kill probability: :mod:`blinasim.core.processes.glucocorticoid`.
"""

from __future__ import annotations

from numba import njit

from blinasim.kernels.layout import (
    KIND_BLAST,
    L_KIND,
    L_SLOT,
    PHENO_MYELOID,
    POS_BLOOD,
    POS_DEAD,
    SITE_EMPTY,
    TG_ENGAGED,
    TG_KIND,
    TG_PHENOTYPE,
    TG_POS,
)
from blinasim.kernels.rng import GLUCOCORTICOID, stream_key, uniform


@njit(cache=True)
def lymphoblast_apoptosis(seed, tick, n, targets, lattice, p_death):
    """Kill free B-lineage blasts with probability ``p_death``; returns the number killed."""
    tg_pos, tg_kind, tg_pheno, tg_engaged = (
        targets[TG_POS],
        targets[TG_KIND],
        targets[TG_PHENOTYPE],
        targets[TG_ENGAGED],
    )
    site_kind, site_slot = lattice[L_KIND], lattice[L_SLOT]
    key = stream_key(seed, tick, GLUCOCORTICOID)
    killed = 0
    for j in range(n):
        p = tg_pos[j]
        if p < POS_BLOOD or tg_kind[j] != KIND_BLAST or tg_engaged[j] != 0 or tg_pheno[j] == PHENO_MYELOID:
            continue
        if uniform(key, j, 0) < p_death:
            if p >= 0:
                site_kind[p] = SITE_EMPTY
                site_slot[p] = -1
            tg_pos[j] = POS_DEAD
            killed += 1
    return killed

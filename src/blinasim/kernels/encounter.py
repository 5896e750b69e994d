"""Encounters and synapse formation (phase ``encounter``; avidity model of Liu et al. 2023).

A contact between a free T-cell and a CD19+ cell forms a cytolytic synapse with
probability ``P = 1 - exp(-beta * N_bridges)``. The expected number of
drug bridges inside the contact zone is

    N_bridges = a * C / (C + KD19) * CD19 * CD3 / (CD3 + CD3_half)

where ``a`` is the share of the target's CD19 inside the contact zone, ``C``
the molar drug level and ``KD19`` the CD19-arm dissociation constant (the
CD19 arm binds first: its affinity is ~175x higher than CD3's), and the last
factor is the share of those CD19-bound drug molecules that find a CD3 partner
inside the contact (an effective 2-D saturation in CD3 density). With no drug,
no CD19 or no CD3 there is no bridge and no synapse.

Marrow: each free T-cell probes ``contacts_per_tick`` random cells of its 3x3
neighbourhood. Blood is well mixed: a free T-cell meets one of the ``n`` free
CD19+ blood targets with probability ``1 - exp(-r n)`` per tick, ``r`` the
contact rate per target (``blood_contact_per_target``, which scales with the
target density per uL), and the one it meets is drawn at random.

The free CD19+ blood targets are listed in slot order at the start of the
phase. Listing them by a scan of the whole target store every tick would cost
O(targets) for a few hundred cells, so the model keeps a list of the CD19+
blood targets (:func:`list_blood_targets`), made again only after a slow phase
has moved, added, renumbered or changed targets; between slow steps targets
only die or change partners, and :func:`free_blood_targets` drops the dead and
picks the free ones, giving the same list as a full scan.

Contact rates and the bridge factor: :mod:`blinasim.core.processes.encounter`.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from blinasim.kernels.layout import (
    L_KIND,
    L_SLOT,
    NO_PARTNER,
    POS_BLOOD,
    SITE_TARGET,
    T_ACTIVATION,
    T_CD3,
    T_EXHAUSTION,
    T_PARTNER,
    T_POS,
    T_SYNAPSE_H,
    TG_CD19,
    TG_ENGAGED,
    TG_POS,
)
from blinasim.kernels.motility import moore_neighbour
from blinasim.kernels.rng import ENCOUNTER, stream_key, uniform

# How many T-cells ahead ``form_synapses`` asks the CPU to fetch the lattice around
# a T-cell (and, half as far ahead, the targets there). Measured on the 1e6 and 1e7
# agent lattices: 8-64 all work; 16 is in the middle.
_PREFETCH_AHEAD = 16


@intrinsic
def _prefetch(typingctx, values, index):
    """Hint the CPU to fetch ``values[index]`` into cache (LLVM ``llvm.prefetch``: read,
    high locality, data). No effect on results: a hint, never a load that can fault."""

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        array = context.make_array(array_type)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, array_type, array, [args[1]], wraparound=False)
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]), "llvm.prefetch.p0i8"
        )
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.void(values, index), codegen


@njit(cache=True, inline="always")
def _prefetch_neighbourhood(q, side, n_sites, site_kind, site_slot, tg_cd19, tg_engaged, targets_too):
    """Prefetch the three lattice rows of the 3x3 block around site ``q`` and, when
    ``targets_too``, the targets sitting in the block's middle column."""
    for r in (-side, 0, side):
        s = q + r
        if s < 0 or s >= n_sites:
            continue
        if targets_too:
            j = site_slot[s]
            if j >= 0:
                _prefetch(tg_cd19, j)
                _prefetch(tg_engaged, j)
        else:
            _prefetch(site_kind, s)
            _prefetch(site_slot, s)


@njit(cache=True, inline="always")
def adhesion_probability(bridge_factor, cd19, cd3, cd3_half, beta):
    """Probability that one contact becomes a synapse (Liu 2023 avidity form)."""
    n_bridges = bridge_factor * cd19 * cd3 / (cd3 + cd3_half)
    return 1.0 - np.exp(-beta * n_bridges)


@njit(cache=True, inline="always")
def blood_meet_probability(rate_per_target, n_targets):
    """Probability that a free blood T-cell meets one of ``n_targets`` free targets in a tick."""
    return 1.0 - np.exp(-rate_per_target * n_targets)


@njit(cache=True)
def list_blood_targets(n_tg, targets, out):
    """Write the slots of the CD19+ targets in blood (engaged or not) to ``out``, in
    slot order; return how many. ``out`` needs room for ``n_tg`` slots."""
    tg_pos, tg_cd19 = targets[TG_POS], targets[TG_CD19]
    n = 0
    for j in range(n_tg):
        if tg_pos[j] == POS_BLOOD and tg_cd19[j] > 0.0:
            out[n] = j
            n += 1
    return n


@njit(cache=True)
def free_blood_targets(listed, n_listed, targets, out):
    """Drop the listed targets that have left blood (died) since the list was made,
    in place and in order, and write the free ones (not engaged) to ``out``.

    Returns ``(n_listed, n_free)``: the new length of ``listed`` and the number of
    free blood targets in ``out``.
    """
    tg_pos, tg_engaged = targets[TG_POS], targets[TG_ENGAGED]
    kept = 0
    n_free = 0
    for k in range(n_listed):
        j = listed[k]
        if tg_pos[j] != POS_BLOOD:
            continue
        listed[kept] = j
        kept += 1
        if tg_engaged[j] == 0:
            out[n_free] = j
            n_free += 1
    return kept, n_free


@njit(cache=True)
def form_synapses(
    seed,
    tick,
    n_t,
    tcells,
    targets,
    lattice,
    side,
    contacts_per_tick,
    blood_contact_per_target,
    bridge_factor,
    cd3_half,
    beta,
    synapse_hours,
    exhaustion_per_engagement,
    blood_free,
    n_blood,
):
    """Form synapses for free T-cells in marrow and blood; return how many formed.

    ``blood_free[:n_blood]`` are the slots of the free CD19+ blood targets at the
    start of the phase, in slot order (:func:`free_blood_targets`). On success the T-cell records its partner, its
    synapse timer starts, its activation is set to 1 and each engagement adds
    ``exhaustion_per_engagement`` of the remaining way to full exhaustion; the
    target is flagged as engaged (one T-cell per target at a time).
    """
    t_pos, t_partner, t_cd3 = tcells[T_POS], tcells[T_PARTNER], tcells[T_CD3]
    t_activation, t_exhaustion, t_synapse_h = tcells[T_ACTIVATION], tcells[T_EXHAUSTION], tcells[T_SYNAPSE_H]
    tg_cd19, tg_engaged = targets[TG_CD19], targets[TG_ENGAGED]
    site_kind, site_slot = lattice[L_KIND], lattice[L_SLOT]
    formed = 0
    if bridge_factor <= 0.0:
        return formed
    key = stream_key(seed, tick, ENCOUNTER)
    # P(a free blood T-cell meets one of the n free targets this tick) = 1 - exp(-rate * n).
    p_meet_blood = blood_meet_probability(blood_contact_per_target, n_blood)
    whole = int(np.floor(contacts_per_tick))
    frac = contacts_per_tick - whole
    n_sites = site_kind.shape[0]
    for i in range(n_t):
        # Memory locality: the store is in lattice order (``compaction.sort_t_cells``), so the
        # lattice and targets a T-cell a few slots ahead will probe are known now; asking
        # for them early overlaps the cache misses instead of waiting for each in turn.
        # Hints only: nothing is read or drawn that changes the result.
        if i + _PREFETCH_AHEAD < n_t and t_pos[i + _PREFETCH_AHEAD] >= 0:
            q = t_pos[i + _PREFETCH_AHEAD]
            _prefetch_neighbourhood(q, side, n_sites, site_kind, site_slot, tg_cd19, tg_engaged, False)
        if i + _PREFETCH_AHEAD // 2 < n_t and t_pos[i + _PREFETCH_AHEAD // 2] >= 0:
            q = t_pos[i + _PREFETCH_AHEAD // 2]
            _prefetch_neighbourhood(q, side, n_sites, site_kind, site_slot, tg_cd19, tg_engaged, True)
        p = t_pos[i]
        if p < POS_BLOOD or t_partner[i] != NO_PARTNER:
            continue
        target = -1
        if p >= 0:
            k = whole + (1 if uniform(key, i, 0) < frac else 0)
            for c in range(k):
                s = moore_neighbour(p, side, int(uniform(key, i, 1 + 2 * c) * 9.0))
                if site_kind[s] != SITE_TARGET:
                    continue
                j = site_slot[s]
                if tg_engaged[j] != 0 or tg_cd19[j] <= 0.0:
                    continue
                if uniform(key, i, 2 + 2 * c) < adhesion_probability(
                    bridge_factor, tg_cd19[j], t_cd3[i], cd3_half, beta
                ):
                    target = j
                    break
        elif n_blood > 0 and uniform(key, i, 0) < p_meet_blood:
            j = blood_free[int(uniform(key, i, 1) * n_blood)]
            if tg_engaged[j] == 0 and uniform(key, i, 2) < adhesion_probability(
                bridge_factor, tg_cd19[j], t_cd3[i], cd3_half, beta
            ):
                target = j
        if target >= 0:
            t_partner[i] = target
            tg_engaged[target] = 1
            t_synapse_h[i] = synapse_hours
            t_activation[i] = 1.0
            t_exhaustion[i] = 1.0 - (1.0 - t_exhaustion[i]) * (1.0 - exhaustion_per_engagement)
            formed += 1
    return formed

"""T-cell activation, proliferation, contraction, exhaustion recovery, death (phase ``tcell_fate``).

On the slow clock (``dt`` = slow step), for every T-cell not in a synapse:

* activation ``a`` decays exponentially (set to 1 at each synapse);
* exhaustion ``e`` recovers exponentially at a rate scaled by ``1 - a``, so it
  recovers in treatment-free intervals, not in the gaps between synapses
  (``exhaustion_recovery`` is rate x dt);
* division with rate ``r_homeo + r_act * g * a * H(e) * (1 - b * e)``:
  homeostatic division balances baseline death, activation drives expansion,
  exhaustion blunts it (``H`` as in killing), ``b`` is the PD-1:PD-L1 brake
  (weight x mean blast PD-L1 x free PD-1, computed by the caller) and ``g``
  the CTLA-4-blockade gain (1 without ipilimumab);
  the daughter inherits CD3, activation and exhaustion and sits beside its mother;
* death with rate ``d0 + d_contract * (1 - a)``, where ``d_contract`` (computed by
  the caller) grows with the relative excess of the T-cell count over its
  baseline: resting cells contract back towards homeostasis once stimulation ends.

The store has fixed capacity; when it is full the kernel returns the slot it
stopped at so that the caller can grow the store and resume there. A cell is
only modified after the capacity check, so resuming is exact.
Rates (regulatory-T suppression, checkpoint gains): :mod:`blinasim.core.processes.tcell_fate`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from blinasim.kernels.killing import effector_function
from blinasim.kernels.layout import (
    NO_PARTNER,
    POS_BLOOD,
    POS_DEAD,
    T_ACTIVATION,
    T_CD3,
    T_EXHAUSTION,
    T_KILLS,
    T_PARTNER,
    T_POS,
    T_SYNAPSE_H,
)
from blinasim.kernels.rng import TCELL_FATE, stream_key, uniform


@njit(cache=True)
def t_cell_fate(
    seed,
    tick,
    start,
    stop,
    n_t,
    capacity,
    tcells,
    activation_keep,
    exhaustion_recovery,
    homeostatic_division_rate,
    activated_division_rate,
    death_rate,
    contraction_rate,
    dt,
    exhaustion_e50,
    exhaustion_hill,
    pd1_brake,
    expansion_factor,
    events,
):
    """Apply one slow step of T-cell fate to slots ``start .. stop-1``.

    ``stop`` is the slot count when the step began, so daughters appended
    during the step (also across a resume) are not visited until the next one.

    ``events`` (int64[2]) accumulates births and deaths. Returns
    ``(stopped_at, n_t)``: ``stopped_at`` is -1 when done, else the slot to
    resume from after growing the store; ``n_t`` is the new slot count.
    """
    t_pos, t_partner, t_cd3, t_kills = tcells[T_POS], tcells[T_PARTNER], tcells[T_CD3], tcells[T_KILLS]
    t_activation, t_exhaustion, t_synapse_h = tcells[T_ACTIVATION], tcells[T_EXHAUSTION], tcells[T_SYNAPSE_H]
    key = stream_key(seed, tick, TCELL_FATE)
    i = start
    while i < stop:
        p = t_pos[i]
        if p < POS_BLOOD or t_partner[i] != NO_PARTNER:
            i += 1
            continue
        if n_t >= capacity:
            return i, n_t
        a = t_activation[i] * activation_keep
        t_activation[i] = a
        # Recovery only once stimulation has stopped: its rate scales with (1 - a).
        e = t_exhaustion[i] * np.exp(-exhaustion_recovery * (1.0 - a))
        t_exhaustion[i] = e
        if uniform(key, i, 0) < 1.0 - np.exp(-(death_rate + contraction_rate * (1.0 - a)) * dt):
            t_pos[i] = POS_DEAD
            events[1] += 1
        elif uniform(key, i, 1) < 1.0 - np.exp(
            -(
                homeostatic_division_rate
                + activated_division_rate
                * expansion_factor
                * a
                * effector_function(e, exhaustion_e50, exhaustion_hill)
                * (1.0 - pd1_brake * e)
            )
            * dt
        ):
            t_pos[n_t] = p
            t_partner[n_t] = NO_PARTNER
            t_cd3[n_t] = t_cd3[i]
            t_activation[n_t] = a
            t_exhaustion[n_t] = e
            t_synapse_h[n_t] = 0.0
            t_kills[n_t] = 0
            n_t += 1
            events[0] += 1
        i += 1
    return -1, n_t

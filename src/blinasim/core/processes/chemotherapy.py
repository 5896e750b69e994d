"""Salvage chemotherapy, the comparator arm (phase ``chemotherapy``, slow clock).

During a course (:meth:`blinasim.clinical.combination.CombinationDrugs.chemotherapy_active`)
every cell not in a synapse dies with a per-day hazard of its own: blasts,
normal B cells, other nucleated marrow cells (myelosuppression; their refill
pauses and ramps back, see :mod:`blinasim.core.processes.marrow_turnover`) and
T-cells (lymphodepletion).

The hazards are the patient's regimen's (:class:`blinasim.clinical.combination.SalvageRegimen`:
one of the TOWER regimens, the physician's choice among them, or the generic course).
Config: ``treatment.chemotherapy``, ``treatment.chemotherapy_start_day``, ``[chemotherapy]``.
Kernel: :func:`blinasim.kernels.chemotherapy.cytotoxic_exposure`.
Reference: ``ReferenceModel.expose_to_chemotherapy`` (``CD19Cell.expose``,
``OtherMarrowCell.expose``, ``TCell.expose``).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from blinasim.clinical.combination import SalvageRegimen
from blinasim.core.state import P_BLAST, P_NORMAL_B, P_OTHER_MARROW, P_T_CELL
from blinasim.kernels import chemotherapy


class KillProbabilities(NamedTuple):
    """Per-slow-step death probabilities under exposure, in the kernel's parameter order."""

    blast: float
    normal_b: float
    other_marrow: float
    t_cell: float


def kill_probabilities(regimen: SalvageRegimen, dt_days: float) -> KillProbabilities:
    """Death probabilities over ``dt_days`` of exposure, from the regimen's per-day hazards."""
    return KillProbabilities(
        blast=-math.expm1(-regimen.blast_kill_per_day * dt_days),
        normal_b=-math.expm1(-regimen.normal_b_kill_per_day * dt_days),
        other_marrow=-math.expm1(-regimen.other_marrow_kill_per_day * dt_days),
        t_cell=-math.expm1(-regimen.t_cell_kill_per_day * dt_days),
    )


def expose(model: Any, dt_days: float) -> None:
    """Cytotoxic exposure of every cell for ``dt_days``, counted as deaths of its population."""
    st, tg, tc = model.state, model.state.targets, model.state.tcells
    ev = np.zeros(4, dtype=np.int64)
    chemotherapy.cytotoxic_exposure(
        model.run_seed,
        model.tick,
        tc.n,
        tc.record,
        tg.n,
        tg.record,
        st.lattice,
        *kill_probabilities(model.combination.regimen, dt_days),
        ev,
    )
    model.deaths[P_BLAST] += ev[chemotherapy.EV_BLAST]
    model.deaths[P_NORMAL_B] += ev[chemotherapy.EV_NORMAL_B]
    model.deaths[P_OTHER_MARROW] += ev[chemotherapy.EV_OTHER]
    model.deaths[P_T_CELL] += ev[chemotherapy.EV_T]
    tg.dead += int(ev[chemotherapy.EV_BLAST] + ev[chemotherapy.EV_NORMAL_B])
    tc.dead += int(ev[chemotherapy.EV_T])


def run(model: Any) -> None:
    """One slow step of exposure, during a course only."""
    if model.combination.chemotherapy_active(model.tick_end_hours / 24.0):
        expose(model, model.dt_hours * model.slow_every / 24.0)

"""Turnover of the other nucleated marrow cells (phase ``marrow_turnover``, slow clock).

Other marrow cells (myeloid, erythroid) die at ``d x reserve`` and empty sites
refill at ``d x reserve x c / (1 - c) x refill``, which keeps the normal
cellularity ``c`` as the equilibrium; the patient's hematopoietic reserve sets
how fast an emptied marrow refills (count recovery), ``refill`` the pause and
ramp after chemotherapy
(:meth:`blinasim.clinical.combination.CombinationDrugs.marrow_refill_factor`).

Config: ``marrow.normal_cellularity``, ``marrow.other_death_rate_per_day``,
``patient.hematopoietic_reserve``, ``chemotherapy.marrow_recovery_days``.
Kernel: :func:`blinasim.kernels.marrow_turnover.marrow_turnover`.
Reference: ``ReferenceModel._marrow_turnover`` (``OtherMarrowCell.turnover``).
"""

from __future__ import annotations

import math
from typing import Any

from blinasim.core.state import P_OTHER_MARROW
from blinasim.kernels import marrow_turnover
from blinasim.params.schema import Config


def turnover_probabilities(config: Config, refill: float, dt_days: float) -> tuple[float, float]:
    """Per-slow-step death probability of an other marrow cell and refill probability of an empty site."""
    c = config.marrow.normal_cellularity
    d = config.marrow.other_death_rate_per_day * config.patient.hematopoietic_reserve
    return -math.expm1(-d * dt_days), -math.expm1(-d * c / (1.0 - c) * refill * dt_days)


def run(model: Any) -> None:
    """Death of other marrow cells and refill of empty sites, site by site."""
    dt_days = model.dt_hours * model.slow_every / 24.0
    refill = model.combination.marrow_refill_factor(model.tick_end_hours / 24.0)
    p_other_death, p_refill = turnover_probabilities(model.config, refill, dt_days)
    born, died = marrow_turnover.marrow_turnover(
        model.run_seed, model.tick, model.state.lattice, p_other_death, p_refill
    )
    model.births[P_OTHER_MARROW] += born
    model.deaths[P_OTHER_MARROW] += died

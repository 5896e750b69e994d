"""Dexamethasone debulking (phase ``glucocorticoid``, slow clock).

Every dose of dexamethasone the protocol gives (premedication, the pre-phase
for high burden, the CRS course) adds to one exposure, the amount ``D`` left
with the effect half-life (:meth:`blinasim.clinical.cytokines.DrugEffects.dex_amount_mg`,
the same exposure that suppresses cytokines). Free B-lineage blasts die with
the hazard ``k_max * D / (D + ED50)`` (``dexamethasone.blast_kill_per_day_max``,
``dexamethasone.ed50_mg``): a 5-day pre-phase of 10 mg/m2/day lowers the
blast burden before the first infusion, which is its clinical purpose.

Config: ``dexamethasone.blast_kill_per_day_max``, ``dexamethasone.ed50_mg``,
``dexamethasone.effect_half_life_h``.
Kernel: :func:`blinasim.kernels.glucocorticoid.lymphoblast_apoptosis`.
Reference: ``ReferenceModel._glucocorticoid`` (``CD19Cell.glucocorticoid_death``).
"""

from __future__ import annotations

import math
from typing import Any

from blinasim.core.state import P_BLAST
from blinasim.kernels import glucocorticoid
from blinasim.params.schema import Config


def hazard_per_day(config: Config, dex_amount_mg: float) -> float:
    """Death rate of a free lymphoblast at the exposure ``dex_amount_mg``."""
    dex = config.dexamethasone
    if dex_amount_mg <= 0.0:
        return 0.0
    return dex.blast_kill_per_day_max * dex_amount_mg / (dex_amount_mg + dex.ed50_mg)


def cumulative_hazard(model: Any, start_h: float, end_h: float) -> float:
    """The hazard integrated from ``start_h`` to ``end_h`` (hours; midpoint rule, steps of at most 1 h)."""
    if end_h <= start_h:
        return 0.0
    half_life = model.config.dexamethasone.effect_half_life_h
    n = max(1, math.ceil((end_h - start_h) - 1e-9))
    width = (end_h - start_h) / n
    total = 0.0
    for i in range(n):
        amount = model.drug_effects.dex_amount_mg(start_h + (i + 0.5) * width, half_life)
        total += hazard_per_day(model.config, amount)
    return total * width / 24.0


def step_probability(model: Any) -> float:
    """This slow step's death probability: the hazard integrated since the last slow step
    (``model.glucocorticoid_clock_h``, set with the model's drug plan, :class:`blinasim.core.patient.PatientModel`).

    The first step integrates from the first dose, so a pre-phase given before the first
    infusion (the lattice starts at it) acts on the baseline blasts as a whole; the
    leukemia's regrowth during those days is not simulated (docs/model.md 7.17).
    """
    if model.config.dexamethasone.blast_kill_per_day_max <= 0.0:
        return 0.0
    end_h = model.tick_end_hours
    start_h = model.glucocorticoid_clock_h
    model.glucocorticoid_clock_h = end_h
    return -math.expm1(-cumulative_hazard(model, start_h, end_h))


def run(model: Any) -> None:
    """One slow step of glucocorticoid-induced apoptosis while dexamethasone is on board."""
    p = step_probability(model)
    if p <= 0.0:
        return
    tg = model.state.targets
    killed = glucocorticoid.lymphoblast_apoptosis(model.run_seed, model.tick, tg.n, tg.record, model.state.lattice, p)
    model.deaths[P_BLAST] += killed
    tg.dead += killed

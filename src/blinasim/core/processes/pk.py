"""Drug exposure (phase ``pk``, fast clock): serum blinatumomab and its immediate effects.

The exact one-compartment solution advances the serum level over the tick
(:class:`blinasim.clinical.pk.OneCompartmentPK`); from the level follow the
T-cell redistribution drive (formulas in
:mod:`blinasim.core.processes.trafficking`), the bridge factor of synapse
formation (:func:`blinasim.core.processes.encounter.bridge_factor`) and the
checkpoint-inhibitor occupancy and CTLA-4 blockade at the end of the tick
(:class:`blinasim.clinical.combination.CombinationDrugs`), and the tyrosine kinase
inhibitor's BCR::ABL1 inhibition and T-cell suppression
(:class:`blinasim.clinical.tki.TkiExposure`).

Config: ``drug.*``, ``tcells.margination_*``, ``checkpoint.*``, ``tki.*``. No agents and no
random draws: the reference model runs this same function.
"""

from __future__ import annotations

from typing import Any

from blinasim.core.processes.encounter import bridge_factor
from blinasim.core.processes.trafficking import margination_effect, margination_keep


def run(model: Any) -> None:
    """Advance the drug level over the tick; update redistribution, bridge factor and checkpoint levels."""
    cfg = model.config
    model.concentration = model.pk.advance(model.concentration, model.dose_rate, model.dt_hours)
    c = model.concentration
    effect = margination_effect(cfg, c)
    keep = margination_keep(cfg, model.dt_hours)
    model.redistribution_adaptation = effect + (model.redistribution_adaptation - effect) * keep
    model.redistribution_drive = max(0.0, effect - model.redistribution_adaptation)
    model.bridge_factor = bridge_factor(cfg, c)
    day = model.tick_end_hours / 24.0
    model.pd1_occupancy = model.combination.pd1_occupancy(day)
    model.ctla4_blockade = model.combination.ctla4_blockade(day)
    if model.tki.active:
        model.abl1_inhibition = model.tki.abl1_inhibition(day)
        model.tki_t_cell_suppression = model.tki.tcell_suppression(day)

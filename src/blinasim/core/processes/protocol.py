"""The protocol (phase ``protocol``, fast clock): toxicity rules, premedication and the infusion rate of this tick.

Config: ``treatment.*`` (regimen, schedule, cycles, premedication), ``protocol.*``
(holds, restarts, discontinuation by grade), ``dexamethasone.*``, ``tocilizumab.*``.
Engine: :class:`blinasim.clinical.protocol.ProtocolEngine`. No agents and no
random draws: the reference model runs this same function.
"""

from __future__ import annotations

from typing import Any


def run(model: Any) -> None:
    """Apply the toxicity rules to the grades of the last tick and set this tick's infusion rate."""
    cyt = model.cytokines
    model.dose_rate = model.protocol.step(model.tick * model.dt_hours, cyt.crs_grade, cyt.neuro_grade)

"""The protocol (phase ``protocol``, fast clock): toxicity rules, premedication and the infusion rate of this tick.

Config: ``treatment.*`` (regimen, schedule, cycles, premedication), ``protocol.*``
(holds, restarts, discontinuation by grade, seizures), ``dexamethasone.*``, ``tocilizumab.*``,
``toxicity.seizure_hazard_per_day``.
Engine: :class:`blinasim.clinical.protocol.ProtocolEngine`; seizures:
:class:`blinasim.clinical.seizures.SeizureModel` (one counter-based draw per
tick from stream ``SEIZURE`` while neurotoxicity is graded). No agents: the
reference model runs this same function.
"""

from __future__ import annotations

from typing import Any


def run(model: Any) -> None:
    """Draw a seizure, apply the toxicity rules to the grades of the last tick and set this tick's infusion rate."""
    cyt = model.cytokines
    seizure = model.seizures.step(model.tick, cyt.neuro_grade)
    model.dose_rate = model.protocol.step(model.tick * model.dt_hours, cyt.crs_grade, cyt.neuro_grade, seizure)

"""The in-vitro co-culture of Philipp 2022 as a model run: the T-cells' lytic function under continuous exposure.

Two calibration targets (:data:`blinasim.trials.calibration.targets.TARGETS`,
``invitro_*``) come from this assay: the function left after 7 days, and
its fall from day 7 to day 28.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from blinasim.core.model import BlinatumomabModel
from blinasim.kernels.killing import effector_function
from blinasim.kernels.layout import POS_BLOOD
from blinasim.params.schema import load_config

#: The in-vitro co-culture of Philipp 2022, in model terms: a full lattice of blasts replenished by
#: division, a fixed set of fresh T-cells (no division, death or contraction, no exhaustion at entry), no
#: blood, a constant drug level, no dexamethasone and no toxicity rules.
IN_VITRO: dict[str, Any] = {
    "simulation.lattice_size": 48,
    "simulation.days": 28.0,
    "simulation.record_every_hours": 24.0,
    "patient.marrow_blast_fraction": 0.9,
    "patient.marrow_cellularity": 1.0,
    "patient.normal_b_fraction": 0.0,
    "patient.t_cells_per_ul": 0.0,
    "patient.b_cells_per_ul": 0.0,
    "patient.peripheral_blasts_per_ul": 0.0,
    "disease.blast_birth_rate_per_day": 1.0,
    "disease.blast_death_rate_per_day": 0.0,
    "tcells.death_rate_per_day": 0.0,
    "tcells.activated_division_per_day": 0.0,
    "tcells.contraction_rate_per_day": 0.0,
    # The co-culture's T-cells come fresh from healthy donors: no chronic exposure to a leukemia.
    "tcells.entry_exhaustion_per_blast_fraction": 0.0,
    "treatment.regimen": "custom",
    "treatment.schedule": [{"start_day": 0.0, "end_day": 28.0, "dose_ug_per_day": 28.0}],
    "treatment.dexamethasone_premedication": False,
    "treatment.dexamethasone_prephase": "never",
    "protocol.crs_hold_grade": 5,
    "protocol.crs_discontinue_grade": 5,
    "protocol.tocilizumab_grade": 5,
    "protocol.neuro_hold_grade": 5,
    "protocol.seizure_hold_grade": 5,
    "protocol.seizure_discontinue_count": 100,
    "protocol.neuro_discontinue_grade": 5,
}


def in_vitro_assay(
    overrides: dict[str, Any], seed: int, days: tuple[float, ...] = (1.0, 7.0, 28.0)
) -> dict[str, float]:
    """Run the co-culture with the candidate's parameters and read the T-cells' remaining lytic
    function (the mean intrinsic effector function of the live T-cells, 1 when fresh) on ``days``.

    Philipp 2022 measured lysis in a standard assay with fresh targets at each time point, i.e. a
    read-out of the T-cells' capacity independent of how many targets the long-term culture had
    left; the mean effector function is the model's counterpart. Returns the function on each day
    and the two quantities compared with the study.
    """
    config = load_config(None, {**overrides, **IN_VITRO})
    model = BlinatumomabModel(config, seed=seed)
    out: dict[str, float] = {}
    tcfg = config.tcells
    for day in days:
        while model.tick < min(model.n_ticks, round(day * 24.0 / model.dt_hours)):
            model.step()
        store = model.state.tcells
        alive = store.view("pos") >= POS_BLOOD
        e = store.view("exhaustion")[alive].astype(np.float64)
        out[f"invitro_function_day{day:g}"] = (
            float(np.mean(effector_function(e, tcfg.exhaustion_e50, tcfg.exhaustion_hill))) if e.size else math.nan
        )
    d7, d28 = out.get("invitro_function_day7", math.nan), out.get("invitro_function_day28", math.nan)
    out["invitro_function_day7"] = d7
    out["invitro_day28_over_day7"] = d28 / d7 if d7 > 0 else math.nan
    return out


def run_assay(job: tuple[dict[str, Any], int]) -> dict[str, float]:
    """:func:`in_vitro_assay` of ``(overrides, seed)`` on the default days (picklable, for any runner)."""
    overrides, seed = job
    return in_vitro_assay(overrides, seed)

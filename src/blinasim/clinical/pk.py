"""Blinatumomab pharmacokinetics: a linear one-compartment model with
continuous infusion, integrated exactly over each tick.

    dC/dt = R / V - (CL / V) C

For a rate ``R`` held constant over ``dt`` the exact solution is
``C(t + dt) = Css + (C(t) - Css) exp(-CL dt / V)`` with ``Css = R / CL``.
Units: rate in ug/day, CL in L/h, V in L, concentration in pg/mL
(1 ug/L = 1000 pg/mL).

Covariates on clearance (docs/model.md, "Pharmacokinetic covariates"): body
surface area as an allometric power ``(BSA / 1.73 m2) ** k`` (the only
covariate of the population PK across children and adults, Clements 2020),
and renal function: creatinine clearance below the label's normal range
(90 mL/min) lowers clearance by a constant factor (~21% for 30-89 mL/min);
below 30 mL/min the label has no data and the configuration refuses it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from blinasim.kernels import rng

PG_PER_ML_PER_UG_PER_L = 1000.0
REFERENCE_BSA_M2 = 1.73


@dataclass(frozen=True)
class OneCompartmentPK:
    """Linear one-compartment PK of one patient."""

    clearance_l_per_h: float
    volume_l: float

    @property
    def elimination_per_h(self) -> float:
        return self.clearance_l_per_h / self.volume_l

    @property
    def half_life_h(self) -> float:
        return math.log(2.0) / self.elimination_per_h

    def steady_state_pg_per_ml(self, rate_ug_per_day: float) -> float:
        """Steady-state serum level for a constant infusion rate."""
        return rate_ug_per_day / 24.0 / self.clearance_l_per_h * PG_PER_ML_PER_UG_PER_L

    def advance(self, c_pg_per_ml: float, rate_ug_per_day: float, dt_hours: float) -> float:
        """Exact level after ``dt_hours`` at a constant rate."""
        css = self.steady_state_pg_per_ml(rate_ug_per_day)
        return css + (c_pg_per_ml - css) * math.exp(-self.elimination_per_h * dt_hours)

    def profile(self, rates_ug_per_day: np.ndarray, dt_hours: float, c0_pg_per_ml: float = 0.0) -> np.ndarray:
        """Levels at the end of each of a sequence of ticks with the given rates."""
        out = np.empty(len(rates_ug_per_day), dtype=np.float64)
        c = c0_pg_per_ml
        for i, r in enumerate(rates_ug_per_day):
            c = self.advance(c, float(r), dt_hours)
            out[i] = c
        return out


def molar(c_pg_per_ml: float, molecular_weight_kda: float) -> float:
    """pg/mL to mol/L (1 pg/mL of a 55 kDa protein is ~18 fM)."""
    return c_pg_per_ml * 1e-12 / molecular_weight_kda


def renal_clearance_factor(creatinine_clearance_ml_per_min: float, impaired_below: float, factor: float) -> float:
    """Clearance multiplier for renal function: ``factor`` below ``impaired_below`` mL/min
    (mild to moderate impairment, the label's 30-89 mL/min), 1 at normal function.

    A step, not a slope: the label reports one effect for the whole impaired range and
    no data below 30 mL/min (the schema refuses such patients rather than extrapolate)."""
    return factor if creatinine_clearance_ml_per_min < impaired_below else 1.0


def patient_clearance(
    typical_l_per_h: float,
    log_sd: float,
    bsa_m2: float,
    bsa_exponent: float,
    seed: int,
    renal_factor: float = 1.0,
) -> float:
    """This patient's clearance: typical value, BSA covariate, renal factor
    (:func:`renal_clearance_factor`) and a lognormal between-patient deviation drawn
    from the run seed (stream ``PATIENT``)."""
    eta = log_sd * rng.draw_normal(seed, 0, rng.PATIENT, 0, 0) if log_sd > 0 else 0.0
    return typical_l_per_h * (bsa_m2 / REFERENCE_BSA_M2) ** bsa_exponent * renal_factor * math.exp(eta)

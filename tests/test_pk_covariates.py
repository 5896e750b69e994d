"""Covariates on blinatumomab clearance: body surface area (Clements 2020 against the label's
"no significant effect in adults"), renal impairment, and children's per-m2 dosing."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from blinasim.clinical.pk import REFERENCE_BSA_M2, OneCompartmentPK, patient_clearance, renal_clearance_factor
from blinasim.clinical.protocol import build_schedule
from blinasim.core.patient import plan_drug
from blinasim.core.seeds import run_seed
from blinasim.params.schema import ConfigError, load_config
from blinasim.trials.cohort import draw_cohort
from tests.conftest import run

DEFAULTS = load_config(None, {})
K = DEFAULTS.drug.clearance_bsa_exponent
CL = DEFAULTS.drug.clearance_l_per_h
LOG_SD = DEFAULTS.drug.clearance_log_sd


def typical_css(rate_ug_per_day: float, bsa_m2: float, exponent: float = K) -> float:
    """Steady state (pg/mL) of the typical patient (no between-patient deviation)."""
    return OneCompartmentPK(patient_clearance(CL, 0.0, bsa_m2, exponent, 0), 5.98).steady_state_pg_per_ml(
        rate_ug_per_day
    )


def test_bsa_exponent_reproduces_the_published_effects():
    # Clements 2020: the smallest child (0.37 m2) had 63% lower clearance than the median adult (1.88 m2) ...
    assert (0.37 / 1.88) ** K == pytest.approx(0.37, abs=0.02)
    # ... and clearance changed by at most 25% over the adult BSA range.
    assert (2.2 / 1.6) ** K - 1.0 <= 0.25
    # The typical adult steady state at a flat 28 ug/day moves less than one between-patient sd across 1.6-2.2 m2.
    assert typical_css(28.0, 1.6) / typical_css(28.0, 2.2) < math.exp(LOG_SD)


def _adult_trial_bsa_p_value(exponent: float, trial: int, n: int) -> float:
    """p-value of the slope of log clearance on log BSA in one virtual MT103-211-like adult trial."""
    patients = draw_cohort("mt103_211", n, trial)
    bsa = np.array([math.sqrt(p["patient.weight_kg"] * p["patient.height_cm"] / 3600.0) for p in patients])
    cl = np.array(
        [patient_clearance(CL, LOG_SD, b, exponent, run_seed(trial, i, 0)) for i, b in enumerate(bsa)], dtype=float
    )
    return stats.linregress(np.log(bsa), np.log(cl)).pvalue


def test_adult_bsa_effect_is_rarely_significant_at_trial_size_but_proportional_scaling_would_be():
    """At the size of MT103-211 (189 adults), the BSA effect on clearance is significant (p < 0.05) in
    fewer than half of the virtual trials: the label's "no significant effect". Proportional scaling
    (exponent 1) would be significant in most, so the check can fail."""
    trials = range(120)
    power = np.mean([_adult_trial_bsa_p_value(K, t, 189) < 0.05 for t in trials])
    power_proportional = np.mean([_adult_trial_bsa_p_value(1.0, t, 189) < 0.05 for t in trials])
    assert power < 0.5
    assert power_proportional > 0.5
    assert power_proportional > power


@pytest.mark.parametrize("bsa", [0.5, 0.8, 1.2, 1.6])
def test_children_on_15_ug_per_m2_reach_adult_like_levels(bsa):
    """A child on 15 ug/m2/day reaches a typical steady state within one between-patient sd of the
    typical adult on 28 ug/day (von Stackelberg 2016: PK consistent across age groups)."""
    adult = typical_css(28.0, REFERENCE_BSA_M2)
    child = typical_css(15.0 * bsa, bsa)
    assert math.exp(-LOG_SD) < child / adult < math.exp(LOG_SD)


def test_a_child_run_reaches_rate_over_its_clearance():
    ds = run(
        treatment__regimen="mrd",
        simulation__days=2.0,  # t1/2 ~3 h at this clearance: steady state well before day 2
        drug__clearance_log_sd=0.0,
        patient__weight_kg=20.0,
        patient__height_cm=115.0,
    )
    bsa = math.sqrt(20.0 * 115.0 / 3600.0)
    assert float(ds.dose_rate[-1]) == pytest.approx(15.0 * bsa)
    assert ds.attrs["clearance_l_per_h"] == pytest.approx(CL * (bsa / REFERENCE_BSA_M2) ** K)
    assert float(ds.bite_concentration[-1]) == pytest.approx(typical_css(15.0 * bsa, bsa), rel=1e-3)


# ------------------------------------------------------------------ renal impairment


def _clearance(**over) -> float:
    cfg = load_config(None, over)
    return plan_drug(cfg, 123, 10, cfg.simulation.dt_hours).clearance_l_per_h


def test_renal_impairment_lowers_clearance_by_the_labelled_share():
    normal = _clearance()
    for crcl in (30.0, 45.0, 60.0, 89.0):
        impaired = _clearance(**{"patient.creatinine_clearance_ml_per_min": crcl})
        assert impaired / normal == pytest.approx(0.79)
    assert _clearance(**{"patient.creatinine_clearance_ml_per_min": 90.0}) == normal
    assert _clearance(**{"patient.creatinine_clearance_ml_per_min": 140.0}) == normal
    # The steady state rises by 1 / 0.79 (~27%), inside the between-patient spread.
    assert 1.0 / 0.79 < math.exp(LOG_SD)


def test_normal_renal_function_leaves_clearance_bit_identical():
    for seed in range(20):
        assert patient_clearance(CL, LOG_SD, 1.8, K, seed) == patient_clearance(CL, LOG_SD, 1.8, K, seed, 1.0)
    assert renal_clearance_factor(DEFAULTS.patient.creatinine_clearance_ml_per_min, 90.0, 0.79) == 1.0


def test_severe_renal_impairment_is_refused_with_the_allowed_range():
    with pytest.raises(ConfigError, match=r"creatinine_clearance_ml_per_min.*30"):
        load_config(None, {"patient.creatinine_clearance_ml_per_min": 20.0})


def test_renal_factor_follows_its_parameters():
    assert renal_clearance_factor(50.0, 60.0, 0.5) == 0.5
    assert renal_clearance_factor(70.0, 60.0, 0.5) == 1.0
    assert _clearance(
        **{"patient.creatinine_clearance_ml_per_min": 50.0, "drug.renal_impairment_clearance_factor": 0.5}
    ) == pytest.approx(0.5 * _clearance())


# ------------------------------------------------------------------ children's dosing


def _rates(**over) -> list[float]:
    cfg = load_config(None, over)
    return [s.rate_ug_per_day for s in build_schedule(cfg.treatment, cfg.patient).segments]


def test_label_doses_children_per_m2_below_45_kg_and_flat_above():
    small = {"patient.weight_kg": 25.0, "patient.height_cm": 125.0}
    bsa = math.sqrt(25.0 * 125.0 / 3600.0)
    assert _rates(**small) == pytest.approx([5.0 * bsa, 15.0 * bsa])
    # An adolescent of 50 kg gets the flat 9 -> 28 ug/day of the label.
    assert _rates(**{"patient.weight_kg": 50.0, "patient.height_cm": 160.0}) == [9.0, 28.0]


def test_mt103_205_doses_every_child_per_m2_never_above_the_flat_dose():
    for patient in draw_cohort("mt103_205", 60, 4):
        cfg = load_config(None, patient)
        bsa = cfg.patient.body_surface_area_m2
        step, target = _rates(**patient)[:2]  # cycle 1: step-up, then target
        assert step == pytest.approx(min(5.0 * bsa, 9.0))
        assert target == pytest.approx(min(15.0 * bsa, 28.0))

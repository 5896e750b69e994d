"""Pharmacokinetics (exact one-compartment) and the clinical schedule engine."""

from __future__ import annotations

import math

import numpy as np
import pytest

from blinasim.clinical.pk import OneCompartmentPK, molar, patient_clearance
from blinasim.clinical.protocol import build_schedule
from blinasim.core.model import BlinatumomabModel
from blinasim.params.schema import load_config
from tests.conftest import make_config, run


def test_advance_is_the_exact_solution():
    pk = OneCompartmentPK(2.22, 5.98)
    c = pk.advance(0.0, 28.0, 3.0)
    css = 28.0 / 24.0 / 2.22 * 1000.0
    assert c == pytest.approx(css * (1.0 - math.exp(-2.22 / 5.98 * 3.0)), rel=1e-12)
    # Many small steps equal one big step (exact integration, no Euler error).
    c_small = 0.0
    for _ in range(300):
        c_small = pk.advance(c_small, 28.0, 0.01)
    assert c_small == pytest.approx(c, rel=1e-10)
    assert pk.half_life_h == pytest.approx(math.log(2) * 5.98 / 2.22)


def test_level_after_a_day_of_constant_infusion_is_rate_over_clearance():
    ds = run(treatment__regimen="flat", simulation__days=1.0, drug__clearance_log_sd=0.6)
    cl = ds.attrs["clearance_l_per_h"]
    expected = 28.0 / 24.0 / cl * 1000.0  # pg/mL
    assert float(ds.bite_concentration.sel(time=1.0)) == pytest.approx(expected, rel=0.01)


def test_typical_patient_steady_state_matches_hand_calculation():
    # 28 ug/day at CL 2.22 L/h -> 525.5 pg/mL; the label mean (616) includes between-patient variability.
    ds = run(treatment__regimen="flat", simulation__days=1.0, drug__clearance_log_sd=0.0)
    k = load_config(None, {}).drug.clearance_bsa_exponent  # allometric BSA covariate (Clements 2020)
    assert ds.attrs["clearance_l_per_h"] == pytest.approx(2.22 * (ds.attrs["body_surface_area_m2"] / 1.73) ** k)
    assert float(ds.bite_concentration[-1]) == pytest.approx(28 / 24 / ds.attrs["clearance_l_per_h"] * 1000, rel=1e-3)


def test_step_up_at_day_8_and_washout_in_the_break():
    # The schedule as written: the rules that withhold for toxicity are switched off (grade 5: never), so
    # that a neurotoxicity hold of the default patient does not move the break.
    never = {f"protocol__{k}": 5 for k in ("crs_hold_grade", "neuro_hold_grade", "seizure_hold_grade")}
    never |= {"protocol__crs_discontinue_grade": 5, "protocol__neuro_discontinue_grade": 5}
    cfg = make_config(simulation__days=30.0, simulation__lattice_size=16, simulation__record_every_hours=1.0, **never)
    ds = BlinatumomabModel(cfg)
    ds.run()
    ds = ds.to_dataset()
    rate = ds.dose_rate
    assert float(rate.sel(time=6.9, method="nearest")) == 9.0
    assert float(rate.sel(time=7.1, method="nearest")) == 28.0
    c_before = float(ds.bite_concentration.sel(time=7.0))
    c_after = float(ds.bite_concentration.sel(time=8.0))
    assert c_after / c_before == pytest.approx(28.0 / 9.0, rel=0.01)
    # Infusion stops at day 28: below 1% of steady state within 12 h (t1/2 ~2 h).
    assert float(ds.dose_rate.sel(time=28.5)) == 0.0
    assert float(ds.bite_concentration.sel(time=28.5)) < 0.01 * c_after


def test_between_patient_clearance_is_lognormal_around_the_typical_value():
    draws = np.array([patient_clearance(2.22, 0.6, 1.73, 1.0, seed) for seed in range(4000)])
    assert np.median(draws) == pytest.approx(2.22, rel=0.05)
    assert np.std(np.log(draws)) == pytest.approx(0.6, rel=0.05)


def test_molar_conversion():
    # 1 pg/mL of a 55 kDa protein is ~18 fM.
    assert molar(1.0, 55.0) == pytest.approx(18.2e-15, rel=0.01)


def _segments(**over):
    cfg = load_config(None, over)
    return build_schedule(cfg.treatment, cfg.patient).segments


def test_rr_step_up_two_cycles():
    segs = _segments(**{"treatment.cycles": 2})
    assert [(s.start_day, s.end_day, s.rate_ug_per_day, s.cycle) for s in segs] == [
        (0.0, 7.0, 9.0, 1),
        (7.0, 28.0, 28.0, 1),
        (42.0, 70.0, 28.0, 2),
    ]


def test_maintenance_cycles_have_the_long_break():
    segs = _segments(**{"treatment.cycles": 7})
    starts = [s.start_day for s in segs if s.cycle > 1]
    # Cycles 1-5 are followed by 2 weeks off, cycle 6 by 8 weeks off.
    assert starts == [42.0, 84.0, 126.0, 168.0, 210.0, 294.0]


def test_flat_mrd_none_and_bsa_dosing():
    flat = _segments(**{"treatment.regimen": "flat"})
    assert flat[0].rate_ug_per_day == 28.0 and flat[0].start_day == 0.0
    mrd = _segments(**{"treatment.regimen": "mrd", "treatment.cycles": 2})
    assert [s.rate_ug_per_day for s in mrd] == [28.0, 28.0] and mrd[1].start_day == 42.0
    assert _segments(**{"treatment.regimen": "none"}) == ()
    child = load_config(None, {"patient.weight_kg": 30.0, "patient.height_cm": 135.0})
    bsa = child.patient.body_surface_area_m2
    segs = build_schedule(child.treatment, child.patient).segments
    assert segs[0].rate_ug_per_day == pytest.approx(5.0 * bsa)
    assert segs[1].rate_ug_per_day == pytest.approx(15.0 * bsa)
    # A heavy patient gets the flat dose, never more.
    adult = _segments(**{"patient.weight_kg": 120.0, "patient.height_cm": 190.0})
    assert adult[1].rate_ug_per_day == 28.0


def test_custom_schedule_is_followed():
    ds = run(
        treatment__regimen="custom",
        treatment__schedule=[
            {"start_day": 0.5, "end_day": 1.5, "dose_ug_per_day": 5.0},
            {"start_day": 2.0, "end_day": 3.0, "dose_ug_per_day": 60.0},
        ],
        simulation__lattice_size=16,
    )
    rate = ds.dose_rate
    assert float(rate.sel(time=0.25, method="nearest")) == 0.0
    assert float(rate.sel(time=1.0, method="nearest")) == 5.0
    assert float(rate.sel(time=1.75, method="nearest")) == 0.0
    assert float(rate.sel(time=2.5, method="nearest")) == 60.0

"""Clinical endpoints on hand-made trajectories and on real runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from blinasim import simulate as blinasim_simulate
from blinasim.clinical import endpoints
from blinasim.params.schema import load_config
from tests.conftest import NO_TOX_RULES, run

CFG = load_config(None, {"treatment.cycles": 2})  # rr_step_up: infusion ends on days 28 and 70
TIMES = np.arange(0.0, 85.0, 1.0)


def flat(value):
    return np.full(TIMES.shape, float(value))


def test_assessment_days_are_the_ends_of_the_infusions():
    assert endpoints.assessment_days(CFG) == [28.0, 70.0]
    assert endpoints.assessment_days(load_config(None, {"treatment.regimen": "mrd", "treatment.cycles": 1})) == [28.0]


def respond(bf, anc=1500.0, plt=150.0, times=TIMES, days=(28.0, 70.0)):
    """The response of a trajectory with flat blood counts and no circulating blasts."""
    const = np.ones(len(times))
    return endpoints.response(times, bf, 0.0 * const, anc * const, plt * const, list(days), CFG)


@pytest.mark.parametrize(
    ("blasts", "anc", "plt", "expected"),
    [
        (0.03, 1500.0, 150.0, (1.0, 0.0)),  # < 5% with full recovery: CR
        (0.03, 800.0, 70.0, (0.0, 1.0)),  # < 5% with partial recovery: CRh
        (0.06, 1500.0, 150.0, (0.0, 0.0)),  # 6% blasts: no response
        (0.03, 200.0, 20.0, (0.0, 0.0)),  # no count recovery: no CR/CRh
    ],
)
def test_cr_and_crh(blasts, anc, plt, expected):
    bf = np.where(TIMES < 20, 0.6, blasts)
    r = respond(bf, anc, plt)
    assert (r.cr, r.crh) == expected
    assert (r.day == 28.0) if sum(expected) else math.isnan(r.day)


def test_three_percent_at_day_40_is_a_cr_and_six_percent_is_not():
    # A trajectory that reaches 3% only by day 40 responds at the cycle-2 assessment.
    bf = np.interp(TIMES, [0, 40, 84], [0.7, 0.03, 0.03])
    r = respond(bf)
    assert (r.cr, r.day) == (1.0, 70.0)
    bf6 = np.interp(TIMES, [0, 40, 84], [0.7, 0.06, 0.06])
    assert (respond(bf6).cr, respond(bf6).crh) == (0.0, 0.0)


def test_response_is_not_assessable_before_the_first_assessment():
    short = TIMES[TIMES <= 20]
    r = respond(np.full(short.shape, 0.01), times=short, days=(28.0,))
    assert math.isnan(r.cr) and math.isnan(r.crh) and math.isnan(r.day)


def test_mrd_response_needs_below_1e4_after_cycle_1():
    assert endpoints.mrd_response(TIMES, flat(2e-4), [28.0], CFG) == (0.0, pytest.approx(np.nan, nan_ok=True))
    ok, day = endpoints.mrd_response(TIMES, flat(5e-5), [28.0], CFG)
    assert ok == 1.0 and day == 28.0


def test_mrd_response_counts_any_assessment_within_the_assessed_cycles():
    # MT103-211 counts an MRD response within the first two cycles: MRD 1e-3 at the end of cycle 1
    # and below 1e-4 at the end of cycle 2 is a response on day 70
    mrd = np.where(TIMES < 60, 1e-3, 5e-5)
    assert endpoints.mrd_response(TIMES, mrd, [28.0, 70.0], CFG) == (1.0, 70.0)
    assert endpoints.mrd_response(TIMES, mrd, [28.0], CFG)[0] == 0.0
    # the first day below the threshold is the response's day, later ones do not move it
    assert endpoints.mrd_response(TIMES, flat(5e-5), [28.0, 70.0], CFG) == (1.0, 28.0)
    # an assessment after the run is not read; none within it: not assessable
    short = TIMES[TIMES <= 40]
    assert endpoints.mrd_response(short, np.where(short < 60, 1e-3, 0.0), [28.0, 70.0], CFG)[0] == 0.0
    assert all(math.isnan(v) for v in endpoints.mrd_response(short, flat(0.0)[: len(short)], [70.0], CFG))


def test_relapse_day_and_type():
    bf = np.interp(TIMES, [0, 28, 50, 84], [0.7, 0.01, 0.01, 0.3])
    mrd = bf * 1.2
    zero, half = flat(0.0), flat(0.8)
    day, kind = endpoints.relapse(TIMES, bf, mrd, zero, zero, 28.0, math.nan, CFG)
    first = TIMES[(TIMES > 28) & (bf >= 0.05)][0]
    assert (day, kind) == (first, "cd19_positive")
    assert endpoints.relapse(TIMES, bf, mrd, half, zero, 28.0, math.nan, CFG)[1] == "cd19_negative"
    assert endpoints.relapse(TIMES, bf, mrd, half, half, 28.0, math.nan, CFG)[1] == "lineage_switch"
    # No response, no relapse.
    assert endpoints.relapse(TIMES, bf, mrd, zero, zero, math.nan, math.nan, CFG) == (
        pytest.approx(np.nan, nan_ok=True),
        "none",
    )
    # MRD relapse: MRD back to >= 1e-4 after a complete MRD response.
    mrd2 = np.interp(TIMES, [0, 28, 40, 84], [1e-3, 0.0, 0.0, 1e-3])
    day, kind = endpoints.relapse(TIMES, flat(0.0), mrd2, zero, zero, math.nan, 28.0, CFG)
    assert day == TIMES[(TIMES > 28) & (mrd2 >= 1e-4)][0] and kind == "cd19_positive"


def test_assess_on_a_real_run_matches_the_dataset_scalars():
    ds = run(simulation__days=30.0, simulation__lattice_size=48)
    ep = endpoints.assess(ds)
    assert ep.cr_crh == float(ds.cr_crh) or (math.isnan(ep.cr_crh) and np.isnan(float(ds.cr_crh)))
    # The same without the stored counts: recomputed from normal hematopoiesis.
    again = endpoints.assess(ds.drop_vars(["neutrophils_per_ul", "platelets_per_nl"]))
    assert again.response == ep.response or all(math.isnan(v) for v in (again.cr, ep.cr))
    assert ep.relapse_type == str(ds.relapse_type.values)
    assert float(ds.normal_hematopoiesis[0]) > 0


def test_kaplan_meier_by_hand():
    from blinasim.clinical.endpoints import kaplan_meier

    km = kaplan_meier([1.0, 2.0, 2.0, 3.0, 4.0], [True, True, False, True, False])
    assert list(km.times) == [1.0, 2.0, 3.0]
    assert list(km.at_risk) == [5, 4, 2] and list(km.events) == [1, 1, 1]
    assert km.survival == pytest.approx([0.8, 0.6, 0.3])
    assert km.at(0.5) == 1.0 and km.at(2.5) == pytest.approx(0.6) and km.at(10.0) == pytest.approx(0.3)
    assert km.median() == 3.0
    assert all(lo <= s <= hi for lo, s, hi in zip(km.lower, km.survival, km.upper, strict=True))
    none = kaplan_meier([5.0, 6.0], [False, False])
    assert none.times.size == 0 and none.at(100.0) == 1.0 and math.isnan(none.median())
    with pytest.raises(ValueError, match="durations"):
        kaplan_meier([-1.0], [True])


def test_relapse_free_survival_counts_responders_from_their_response():
    from blinasim.trials.trial import relapse_free_survival

    rows = [
        {"trial": "t", "cr_crh": 1.0, "response_day": 28.0, "relapse_day": 40.0, "follow_up_day": 84.0},
        {"trial": "t", "cr_crh": 1.0, "response_day": 28.0, "relapse_day": math.nan, "follow_up_day": 84.0},
        {"trial": "t", "cr_crh": 0.0, "response_day": math.nan, "relapse_day": math.nan, "follow_up_day": 84.0},
    ]
    km = relapse_free_survival(rows, "t")
    assert list(km.times) == [12.0] and km.survival == pytest.approx([0.5])


@pytest.mark.slow
def test_hematopoietic_reserve_slows_count_recovery_but_keeps_the_normal_marrow():
    """Without drug a slow reserve keeps the marrow at its baseline (turnover and refill are both
    slower); after blinatumomab clears a blast-filled marrow, a slow reserve refills it later,
    which is what separates a CRh (partial count recovery) from a CR."""
    healthy = {
        "simulation__days": 20.0,
        "treatment__regimen": "none",
        "patient__marrow_blast_fraction": 0.0,
        "patient__marrow_cellularity": 0.5,  # the normal cellularity (marrow.normal_cellularity)
    }
    for reserve in (0.3, 1.0):
        other = run(patient__hematopoietic_reserve=reserve, **healthy).other_marrow_cells.values
        assert abs(other[-1] / other[0] - 1.0) < 0.1
    common = {
        "simulation__days": 28.0,
        "patient__marrow_blast_fraction": 0.9,  # a packed marrow: next to no normal hematopoiesis at baseline
        "patient__marrow_t_cell_fraction": 0.15,
        "patient__treg_fraction_of_cd4": 0.0,
        # the refill is the claim: no toxicity stop (a neurotoxicity at 9 ug/day ends treatment) cuts the clearance
        **NO_TOX_RULES,
    }
    normal = run(patient__hematopoietic_reserve=1.0, **common)
    slow = run(patient__hematopoietic_reserve=0.25, **common)
    assert float(normal.marrow_blast_fraction[-1]) < 0.05 and float(slow.marrow_blast_fraction[-1]) < 0.05
    assert float(slow.normal_hematopoiesis[-1]) < float(normal.normal_hematopoiesis[-1]) - 0.15


# ------------------------------------------------------------ yes/no endpoints, defined once


def test_yes_no_endpoints_are_defined_once_with_unique_names():
    names = [e.name for e in endpoints.YES_NO_ENDPOINTS]
    assert len(names) == len(set(names))
    assert endpoints.ENDPOINT_BY_NAME.keys() == set(names)
    assert [e.name for e in endpoints.TRIAL_ENDPOINTS] == [
        "cr_crh",
        "cr",
        "crh",
        "cri",
        "cr_crh_cri",
        "cr_cri",
        "mrd_response",
        "crs_any",
        "crs_grade3",
        "neurotox_any",
        "neurotox_grade3",
        "seizure",
    ]
    with pytest.raises(ValueError, match="comparison"):
        endpoints.YesNoEndpoint("x", "y", "==", 1.0, "")


@pytest.mark.parametrize(
    ("name", "values", "expected"),
    [
        ("crs_any", [0.0, 1.0, 2.0, 4.0], [0, 1, 1, 1]),
        ("crs_grade3", [2.0, 3.0, 4.0], [0, 1, 1]),
        ("neurotox_grade3", [0.0, 3.0], [0, 1]),
        ("seizure", [0.0, 1.0, 2.0], [0, 1, 1]),  # one seizure or more
        ("cr_crh", [0.0, 1.0], [0, 1]),
        ("b_depleted_day2", [0.5, 1.0, 3.0], [1, 0, 0]),  # below 1/uL
        ("t_nadir_day1", [0.5, 1.0, 1.25], [1, 1, 0]),  # within the first day
        ("t_expansion_2x", [1.5, 2.0, 2.5], [0, 0, 1]),  # above twice baseline
    ],
)
def test_each_endpoint_compares_its_read_out_with_its_threshold(name, values, expected):
    e = endpoints.ENDPOINT_BY_NAME[name]
    assert [bool(e.holds(v)) for v in values] == [bool(x) for x in expected]
    assert e.flags([*values, math.nan]).tolist()[:-1] == [float(x) for x in expected]
    assert math.isnan(e.flags([math.nan])[0])


def test_the_seizure_endpoint_is_a_seizure_of_grade_3_or_more():
    """``seizure`` counts the run scalar ``seizures``; that is a seizure of grade >= 3 because every modelled
    seizure is ICANS grade 3 (a model with lower seizure grades would have to count them apart)."""
    from blinasim.clinical.seizures import SEIZURE_GRADE

    e = endpoints.ENDPOINT_BY_NAME["seizure"]
    assert e in endpoints.TRIAL_ENDPOINTS and e.source in endpoints.RUN_SCALARS
    assert SEIZURE_GRADE >= 3
    assert e.count([0.0, 1.0, 2.0, math.nan]) == (2, 3)


def test_count_leaves_not_assessable_patients_out():
    e = endpoints.ENDPOINT_BY_NAME["crs_any"]
    assert e.count([0.0, 1.0, math.nan, 3.0]) == (2, 3)
    assert e.count([]) == (0, 0)
    assert endpoints.ENDPOINT_BY_NAME["cr_crh"].count([math.nan, math.nan]) == (0, 0)


def test_patient_read_outs_of_a_real_run():
    config = load_config(None, {"simulation.days": 3.0, "simulation.lattice_size": 32})
    ds = blinasim_simulate(config)
    out = endpoints.patient_read_outs(ds, config.patient.blood_volume_l)
    assert list(out)[: len(endpoints.RUN_SCALARS)] == list(endpoints.RUN_SCALARS)
    assert isinstance(out["relapse_type"], str) and out["relapse_type"] == str(ds.relapse_type.values)
    assert all(isinstance(v, float) for k, v in out.items() if k != "relapse_type")
    assert out["follow_up_day"] == 3.0
    cycle1 = ds.cycle.values == 1
    assert out["crs_signal_peak_cycle1"] == float(ds.crs_signal.values[cycle1].max())
    assert out["neuro_exposure_peak_cycle1"] == float(ds.neuro_exposure.values[cycle1].max())
    assert out["blood_b_day2_per_ul"] == endpoints.kinetics(ds, config.patient.blood_volume_l)["blood_b_day2_per_ul"]
    assert math.isnan(out["t_peak_d14_21_ratio"])  # a 3-day run has no day 14-21


def _blood_dataset(b_per_ul, t_per_ul, times, volume_l=5.0):
    import xarray as xr

    ul = volume_l * 1e6
    b = np.zeros((len(times), 2))
    tc = np.zeros((len(times), 2))
    b[:, 1] = np.asarray(b_per_ul) * ul
    tc[:, 1] = np.asarray(t_per_ul) * ul
    return xr.Dataset(
        {"normal_b_cells": (("time", "compartment"), b), "t_cells": (("time", "compartment"), tc)},
        coords={"time": times, "compartment": ["marrow", "blood"]},
    )


def test_kinetics_reads_depletion_nadir_and_expansion_off_a_hand_made_trajectory():
    times = np.arange(0, 22.0, 0.25)
    b = 100.0 * np.exp(-3.0 * times)  # 100/uL -> 0.25/uL at day 2
    t = np.where(times < 0.75, 1000.0 - 1200.0 * times, 100.0 + 150.0 * (times - 0.75))
    ds = _blood_dataset(b, t, times)
    k = endpoints.kinetics(ds, 5.0)
    assert k["blood_b_day2_per_ul"] == pytest.approx(100.0 * math.exp(-6.0))
    assert k["t_nadir_day"] == 0.75
    assert k["t_peak_d14_21_ratio"] == pytest.approx((100.0 + 150.0 * 20.25) / 1000.0)
    short = endpoints.kinetics(ds.sel(time=slice(0, 10)), 5.0)
    assert math.isnan(short["t_peak_d14_21_ratio"])

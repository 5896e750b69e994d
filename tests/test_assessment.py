"""Response assessed on the trial's protocol for every arm, with CR/CRh/CRi from modelled blood counts.

Three layers: the assessment days (the same for every arm, with or without blinatumomab), the
blood-count model (steady state, crowding, aplasia and recovery, against its analytic steady
state), and the trials' response definitions at their edges.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from blinasim.clinical import blood_counts, endpoints
from blinasim.params.schema import ConfigError, load_config
from blinasim.trials.trial import ASSESSMENT_DAYS, TRIAL_SETTINGS, patient_config
from tests.conftest import run

#: The arms of a comparison, as config overrides (2 cycles' worth of assessments each).
ARMS = {
    "blinatumomab": {"treatment.regimen": "rr_step_up"},
    "chemotherapy": {"treatment.regimen": "none", "treatment.chemotherapy": "salvage"},
    "checkpoint_alone": {"treatment.regimen": "none", "treatment.checkpoint_inhibitor": "nivolumab"},
    "no_treatment": {"treatment.regimen": "none"},
    "blinatumomab_chemotherapy": {"treatment.regimen": "rr_step_up", "treatment.chemotherapy": "salvage"},
}


def arm_config(arm: str, **extra):
    return load_config(None, {"treatment.cycles": 2, **ARMS[arm], **extra})


# ------------------------------------------------------------------ assessment days


def test_every_arm_is_assessed_on_the_blinatumomab_days_by_default():
    days = {arm: endpoints.assessment_days(arm_config(arm)) for arm in ARMS}
    assert days["blinatumomab"] == [28.0, 70.0]  # the end of the infusion of cycles 1 and 2
    assert all(d == days["blinatumomab"] for d in days.values()), days


def test_protocol_days_apply_to_every_arm_relative_to_the_treatment_start():
    protocol = {"endpoints.assessment_days": [21.0, 56.0, 84.0], "treatment.start_day": 7.0}
    for arm in ARMS:
        assert endpoints.assessment_days(arm_config(arm, **protocol)) == [28.0, 63.0, 91.0], arm


def test_the_trials_protocol_days_are_those_the_blinatumomab_schedule_gives():
    # MT103-211: the protocol's days are where the trial's own schedule ends its infusions, so
    # setting them changes nothing for the blinatumomab arm and fixes them for any other arm.
    config = patient_config("mt103_211", {"treatment.cycles": 2, "treatment.regimen": "rr_step_up"})
    assert config.endpoints.assessment_days == ASSESSMENT_DAYS["mt103_211"]
    derived = config.with_overrides({"endpoints.assessment_days": []})
    assert endpoints.assessment_days(config) == endpoints.assessment_days(derived) == [28.0, 70.0]
    assert TRIAL_SETTINGS["blast"]["endpoints.assessment_days"] == [28.0]
    assert max(ASSESSMENT_DAYS["tower"]) <= 84.0  # TOWER: best response within 12 weeks


@pytest.mark.parametrize(
    ("days", "problem"),
    [([70.0, 28.0], "strictly ascending"), ([0.0], "> 0"), ([28.0, 28.0], "strictly ascending")],
)
def test_bad_assessment_days_get_one_clear_message(days, problem):
    with pytest.raises(ConfigError, match="endpoints.assessment_days") as err:
        load_config(None, {"endpoints.assessment_days": days})
    assert problem in str(err.value)


def test_crh_thresholds_cannot_exceed_the_cr_thresholds():
    with pytest.raises(ConfigError, match="crh_platelets_per_nl"):
        load_config(None, {"endpoints.crh_platelets_per_nl": 150.0})


@pytest.mark.parametrize("arm", ["chemotherapy", "checkpoint_alone", "no_treatment"])
def test_an_arm_without_blinatumomab_is_scored(arm):
    """The issue's finding: a salvage arm had no assessment days and cr_crh NaN."""
    ds = run(
        simulation__days=30.0,
        simulation__lattice_size=40,
        simulation__record_every_hours=6.0,
        treatment__cycles=1,
        **{k.replace(".", "__"): v for k, v in ARMS[arm].items()},
    )
    for name in ("cr_crh", "cr", "crh", "cri", "cr_crh_cri", "cr_cri", "mrd_response"):
        assert float(ds[name]) in (0.0, 1.0), (arm, name)
    assert ds.neutrophils_per_ul.attrs["units"] == "1/uL" and ds.platelets_per_nl.attrs["units"] == "1/nL"
    assert float(ds.neutrophils_per_ul[0]) == load_config(None).patient.neutrophils_per_ul


# ------------------------------------------------------------------ the blood-count model

CFG = load_config(None)
ANC = blood_counts.neutrophils(CFG)
PLT = blood_counts.platelets(CFG)
T = np.arange(0.0, 120.25, 0.25)


def steady(lin: blood_counts.Lineage, c_ref: float, h: float) -> float:
    """The analytic steady state: C = C_ref x h^(1 / (1 + gamma))."""
    return c_ref * h ** (1.0 / (1.0 + lin.feedback))


@pytest.mark.parametrize("lin", [ANC, PLT], ids=["neutrophils", "platelets"])
@pytest.mark.parametrize("h0", [0.1, 0.4, 1.0])
def test_counts_stay_at_the_entry_count_while_the_marrow_does(lin, h0):
    counts = blood_counts.count_series(T, np.full(T.shape, h0), lin)
    np.testing.assert_allclose(counts, lin.entry_count, rtol=1e-9)


@pytest.mark.parametrize("lin", [ANC, PLT], ids=["neutrophils", "platelets"])
def test_clearing_a_crowded_marrow_raises_counts_to_the_analytic_steady_state(lin):
    h = np.where(T < 10.0, 0.3, 1.0)
    counts = blood_counts.count_series(T, h, lin)
    c_ref = lin.reference_count(0.3)
    assert c_ref == pytest.approx(lin.entry_count / 0.3 ** (1 / (1 + lin.feedback)))
    assert counts[-1] == pytest.approx(steady(lin, c_ref, 1.0), rel=1e-3)
    assert counts.min() >= lin.entry_count - 1e-9  # no dip; a transient rebound above it is Friberg's


@pytest.mark.parametrize("lin", [ANC, PLT], ids=["neutrophils", "platelets"])
def test_blasts_crowding_the_marrow_lower_the_counts(lin):
    h = np.interp(T, [0.0, 20.0, 120.0], [0.5, 0.1, 0.1])  # leukemic growth without treatment
    counts = blood_counts.count_series(T, h, lin)
    c_ref = lin.reference_count(0.5)
    assert counts[-1] < 0.5 * lin.entry_count
    assert counts[-1] == pytest.approx(steady(lin, c_ref, 0.1), rel=1e-2)


def test_aplasia_then_recovery_neutrophils_before_platelets():
    # Salvage chemotherapy empties the marrow for three weeks (days 3-24); it refills by day 32.
    h = np.interp(T, [0.0, 3.0, 5.0, 24.0, 32.0, 120.0], [1.0, 1.0, 0.02, 0.02, 1.0, 1.0])
    anc = blood_counts.count_series(T, h, ANC)
    plt = blood_counts.count_series(T, h, PLT)
    for counts, lin in ((anc, ANC), (plt, PLT)):
        assert counts.min() < lin.entry_count / 3  # a deep nadir
        assert counts[-1] == pytest.approx(lin.entry_count, rel=0.02)  # back at baseline
    # Neutrophils fall first (shorter maturation and life in blood) ...
    assert T[anc < 0.5 * ANC.entry_count][0] < T[plt < 0.5 * PLT.entry_count][0]
    # ... both stay low while the marrow is empty, and recover only after it refills.
    for counts, lin in ((anc, ANC), (plt, PLT)):
        nadir = T[np.argmin(counts)]
        assert 5.0 < nadir < 32.0
        assert counts[T == 24.0][0] < lin.entry_count / 3
        assert T[(T > nadir) & (counts > 0.9 * lin.entry_count)][0] > 24.0


def test_blasts_suppress_the_output_of_the_normal_marrow_beside_them():
    h = np.array([1.0, 0.5, 0.5, 0.5, np.nan])
    bf = np.array([0.0, 0.0, 0.5, 1.0, 0.2])
    k = CFG.counts.leukemic_suppression
    np.testing.assert_allclose(blood_counts.marrow_output(h, bf, CFG), [1.0, 0.5, 0.5 * 0.5**k, 0.0, 0.0], rtol=1e-12)
    pure_crowding = CFG.with_overrides({"counts.leukemic_suppression": 0.0})
    np.testing.assert_allclose(blood_counts.marrow_output(h[:4], bf[:4], pure_crowding), h[:4])


def test_the_count_of_a_normal_marrow_is_capped_at_the_upper_limit_of_normal():
    assert ANC.reference_count(1e-4) == CFG.counts.neutrophils_upper_normal_per_ul
    assert ANC.reference_count(0.0) == CFG.counts.neutrophils_upper_normal_per_ul
    assert PLT.reference_count(1.0) == CFG.patient.platelets_per_nl


@pytest.mark.parametrize("lin", [ANC, PLT], ids=["neutrophils", "platelets"])
def test_a_given_recovered_count_sets_the_entry_count_from_the_crowded_marrow(lin):
    """With the patient's recovered count given, the entry count is the crowded marrow's steady
    state below it, and clearing the marrow brings the count back to it, whatever the burden."""
    from dataclasses import replace

    given = replace(lin, recovered=0.4 * lin.upper_normal)
    for u0 in (0.05, 0.5):
        h = np.where(T < 10.0, u0, 1.0)
        counts = blood_counts.count_series(T, h, given)
        assert counts[0] == pytest.approx(steady(given, 0.4 * lin.upper_normal, u0), rel=1e-12)
        assert counts[-1] == pytest.approx(0.4 * lin.upper_normal, rel=1e-3)
    # The recovered count too is capped at the upper limit of normal.
    assert replace(lin, recovered=10 * lin.upper_normal).entry_and_reference(1.0) == (lin.upper_normal,) * 2
    # Unset, the entry count is the input and the recovered count is inferred from it.
    assert lin.entry_and_reference(0.3) == (lin.entry_count, lin.reference_count(0.3))


def test_recovered_counts_come_from_the_config_and_reach_the_run():
    cfg = load_config(
        None, {"patient.platelets_recovered_per_nl": 120.0, "patient.neutrophils_recovered_per_ul": 2500.0}
    )
    assert blood_counts.platelets(cfg).recovered == 120.0 and blood_counts.neutrophils(cfg).recovered == 2500.0
    ds = run(
        simulation__days=2.0,
        simulation__lattice_size=32,
        patient__marrow_blast_fraction=0.8,
        patient__platelets_recovered_per_nl=120.0,
    )
    # A marrow 80% full of blasts holds the platelets far below what it holds once cleared.
    assert 0.0 < float(ds.platelets_per_nl[0]) < 0.3 * 120.0


def test_counts_are_recomputed_from_a_stored_run():
    ds = run(simulation__days=6.0, simulation__lattice_size=32)
    anc, plt = blood_counts.blood_counts(
        ds.time.values, ds.normal_hematopoiesis.values, ds.marrow_blast_fraction.values, load_config(None)
    )
    np.testing.assert_array_equal(anc, ds.neutrophils_per_ul.values)
    np.testing.assert_array_equal(plt, ds.platelets_per_nl.values)


# ------------------------------------------------------------------ response definitions

DAYS = [28.0, 70.0]
TIMES = np.arange(0.0, 85.0, 1.0)
GOOD = {"bf": 0.01, "pb": 0.0, "anc": 1500.0, "plt": 150.0}


def category(**kwargs):
    v = {**GOOD, **kwargs}
    return endpoints.category(v["bf"], v["pb"], v["anc"], v["plt"], CFG)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, endpoints.CR),
        ({"anc": 1000.0}, endpoints.CRH),  # "> 1,000/uL": exactly 1,000 is not full recovery
        ({"plt": 100.0}, endpoints.CRH),
        ({"anc": 600.0, "plt": 60.0}, endpoints.CRH),
        ({"anc": 500.0, "plt": 60.0}, endpoints.BLASTS_CLEARED),  # "> 500/uL"
        ({"anc": 2000.0, "plt": 40.0}, endpoints.CRI),  # TOWER CRi: ANC recovered, platelets not
        ({"anc": 300.0, "plt": 120.0}, endpoints.CRI),  # TOWER CRi: platelets recovered, ANC not
        ({"anc": 300.0, "plt": 30.0}, endpoints.BLASTS_CLEARED),  # INO-VATE CRi only
        ({"bf": 0.05}, endpoints.NO_RESPONSE),  # "< 5%"
        ({"pb": 25.0}, endpoints.NO_RESPONSE),  # circulating blasts
    ],
)
def test_response_categories_at_their_edges(values, expected):
    assert category(**values) == expected


def series(**phases):
    """Trajectories that are ``GOOD`` except where a phase (before, from day) changes them."""
    out = {k: np.full(TIMES.shape, v) for k, v in GOOD.items()}
    for name, (value, from_day) in phases.items():
        out[name] = np.where(TIMES >= from_day, value, out[name])
    return out


def respond(s):
    return endpoints.response(TIMES, s["bf"], s["pb"], s["anc"], s["plt"], DAYS, CFG)


def test_best_response_over_the_assessment_days_dates_the_remission_from_the_first():
    # CRh at day 28 (platelets 70), CR at day 70 (platelets back to 150 from day 50).
    plt = np.where(TIMES < 50, 70.0, 150.0)
    r = respond({**series(), "plt": plt})
    assert (r.cr, r.crh, r.cri, r.cr_crh, r.cr_crh_cri, r.cr_cri) == (1.0, 0.0, 0.0, 1.0, 1.0, 1.0)
    assert r.day == 28.0


def test_cri_and_ino_vate_cr_cri_are_not_cr_crh():
    r = respond(series(plt=(40.0, 0.0)))
    assert (r.cr, r.crh, r.cri, r.cr_crh, r.cr_crh_cri, r.cr_cri) == (0.0, 0.0, 1.0, 0.0, 1.0, 1.0)
    assert math.isnan(r.day)
    r = respond(series(plt=(30.0, 0.0), anc=(300.0, 0.0)))
    assert (r.cri, r.cr_crh_cri, r.cr_cri) == (0.0, 0.0, 1.0)


def test_marrow_blasts_above_5_percent_on_both_days_is_no_response():
    r = respond(series(bf=(0.2, 0.0)))
    assert (r.cr, r.cr_crh, r.cr_crh_cri, r.cr_cri) == (0.0, 0.0, 0.0, 0.0) and math.isnan(r.day)


def test_a_run_that_ends_before_the_first_assessment_is_not_assessable():
    short = TIMES <= 20
    s = {k: v[short] for k, v in series().items()}
    r = endpoints.response(TIMES[short], s["bf"], s["pb"], s["anc"], s["plt"], DAYS, CFG)
    assert all(math.isnan(x) for x in (r.cr, r.crh, r.cri, r.cr_crh, r.cr_crh_cri, r.cr_cri, r.day))

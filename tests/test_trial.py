"""Virtual-trial helpers: confidence intervals and endpoint rates."""

from __future__ import annotations

import json
import math

import pytest

from blinasim.trials.trial import Rate, rates, run_cohorts


def test_wilson_interval():
    r = Rate(43, 100)
    lo, hi = r.ci95
    assert r.value == 0.43
    assert lo == pytest.approx(0.3373, abs=1e-3) and hi == pytest.approx(0.5283, abs=1e-3)
    lo0, hi0 = Rate(0, 10).ci95
    assert lo0 == pytest.approx(0.0, abs=1e-12) and 0.25 < hi0 < 0.3
    assert math.isnan(Rate(0, 0).value)


def test_rates_skip_not_assessable_patients():
    rows = [
        {
            "trial": "t",
            "cr_crh": 1.0,
            "cr": 1.0,
            "crh": 0.0,
            "mrd_response": math.nan,
            "max_crs_grade": 3.0,
            "max_neurotoxicity_grade": 0.0,
        },
        {
            "trial": "t",
            "cr_crh": 0.0,
            "cr": 0.0,
            "crh": 0.0,
            "mrd_response": 1.0,
            "max_crs_grade": 1.0,
            "max_neurotoxicity_grade": 1.0,
        },
        {
            "trial": "t",
            "cr_crh": math.nan,
            "cr": math.nan,
            "crh": math.nan,
            "mrd_response": 0.0,
            "max_crs_grade": 0.0,
            "max_neurotoxicity_grade": 4.0,
        },
    ]
    r = rates(rows, "t")
    assert (r["cr_crh"].successes, r["cr_crh"].n) == (1, 2)
    assert (r["mrd_response"].successes, r["mrd_response"].n) == (1, 2)
    assert (r["crs_any"].successes, r["crs_grade3"].successes) == (2, 1)
    assert r["neurotox_grade3"].successes == 1


def test_run_cohorts_is_reproducible_and_uses_the_patients():
    cohort = {"mt103_211": [{"simulation.days": 1.0, "simulation.lattice_size": 16, "treatment.regimen": "flat"}] * 2}
    import blinasim.trials.trial as trial

    saved = dict(trial.TRIAL_SETTINGS)
    trial.TRIAL_SETTINGS["mt103_211"] = {"simulation.lattice_size": 16}
    try:
        a = run_cohorts(cohort, seed=3, workers=1)
        b = run_cohorts(cohort, seed=3, workers=1)
    finally:
        trial.TRIAL_SETTINGS.clear()
        trial.TRIAL_SETTINGS.update(saved)
    assert [r["patient"] for r in a] == [0, 1]
    assert json.dumps(a) == json.dumps(b)  # NaN-safe equality of the endpoint records


def test_treg_split_counts_by_the_duell_cutoff():
    from blinasim.trials.trial import TREG_CUTOFF, treg_split

    def patient(treg, cr_crh):
        return {"trial": "mt103_211", "cr_crh": cr_crh, "attributes": {"patient.treg_fraction_of_cd4": treg}}

    low, high = TREG_CUTOFF / 2, TREG_CUTOFF * 2
    results = [patient(low, 1.0), patient(low, 1.0), patient(high, 1.0), patient(low, 0.0), patient(high, 0.0)]
    results += [patient(high, math.nan), {"trial": "blast", "cr_crh": 1.0, "attributes": {}}]
    split = treg_split(results)
    assert (split["responders_below"].successes, split["responders_below"].n) == (2, 3)
    assert (split["nonresponders_above"].successes, split["nonresponders_above"].n) == (1, 2)
    assert (split["response_below"].successes, split["response_below"].n) == (2, 3)
    assert (split["response_above"].successes, split["response_above"].n) == (1, 2)

"""The calibrated defaults against the trials, on a smaller virtual trial than docs/validation.md's.

docs/validation.md runs 200 + 200 virtual patients; this runs a smaller trial of
fresh patients (another seed than the calibration's and the verification's) and checks
each claimed endpoint (``blinasim.trials.calibration.CLAIMED``) the way the documentation
does: the trial's value lies inside the model's Wilson interval.

The interval is Bonferroni-adjusted to the number of claims (a family-wise 95%): with six
claimed endpoints each checked at 95%, a model that reproduced every trial exactly would
still fail one of them in about a quarter of such small trials (1 - 0.95^6 = 0.26). The
documentation's 200-patient verification reports plain 95% intervals per endpoint.
"""

from __future__ import annotations

import pytest

from blinasim.trials.calibration import CLAIMED, TARGET_BY_NAME
from blinasim.trials.cohort import draw_cohort
from blinasim.trials.trial import rates, run_cohorts, wilson_ci

N_PATIENTS = 40
SEED = 31
#: Family-wise 95% over the claims (Bonferroni).
CONFIDENCE = 1.0 - 0.05 / len(CLAIMED)


@pytest.fixture(scope="module")
def trial_results():
    cohorts = {trial: draw_cohort(trial, N_PATIENTS, SEED) for trial in ("mt103_211", "blast")}
    return run_cohorts(cohorts, SEED, workers=2)


@pytest.mark.slow
@pytest.mark.parametrize(("trial", "endpoint"), CLAIMED)
def test_claimed_endpoint_lands_on_its_trial(trial_results, trial, endpoint):
    rate = rates(trial_results, trial)[endpoint]
    _, lo, hi = wilson_ci(rate.successes, rate.n, CONFIDENCE)
    target = TARGET_BY_NAME[endpoint].value
    assert rate.n >= N_PATIENTS - 2, f"too few assessable patients: {rate}"
    assert lo <= target <= hi, (
        f"{trial} {endpoint}: model {rate}, {CONFIDENCE:.1%} CI {lo:.2f}-{hi:.2f}, trial {target}"
    )


@pytest.mark.slow
def test_r_r_response_is_lower_than_mrd_response(trial_results):
    """The separation the Treg mechanism was built for: MRD response well above R/R CR/CRh."""
    cr_crh = rates(trial_results, "mt103_211")["cr_crh"].value
    mrd = rates(trial_results, "blast")["mrd_response"].value
    assert mrd - cr_crh > 0.15

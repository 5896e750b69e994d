"""The calibrated defaults against the trials, at full size, with a check that can fail.

The full-size tests (marker ``validation``; ``.ci/run`` runs them as a step of their own after
the main suite) run the calibrated virtual trials at the size of docs/validation.md's
verification: 200 MT103-211-like and 200 BLAST-like patients drawn from cohort seed
:data:`SEED`. Each claimed endpoint (:data:`blinasim.trials.calibration.CLAIMED`) passes when
the trial's value (:data:`blinasim.trials.calibration.TARGET_BY_NAME`) lies inside the model's
Wilson interval at a family-wise 95% level over the six claims (Bonferroni: each interval at
1 - 0.05/6 = 99.17%). At 200 patients that accepts CR/CRh only between 0.34 and 0.52.

The seed was fixed, written here and in docs/validation.md and committed before the result
was seen. Calibration used seed 2024 and the verifications seeds 7, 11, 31 and 47; none of
them is reused (8191, 60317 and 51977, earlier validation seeds, are retired). If a claim fails, the test fails: the interval is not widened and the seed is
not changed after the fact.

The cheap tests below show that the same check fails a wrong model: it rejects the recorded
200-patient trials of two parameter sets that the calibration rejected
(``docs/calibration/verify_*.json``), synthetic rates off their targets, and the recorded
trials of the adopted defaults once a target is shifted.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from blinasim.trials.calibration import CLAIMED, TARGET_BY_NAME
from blinasim.trials.cohort import draw_cohort
from blinasim.trials.trial import Rate, rates, run_cohorts, wilson_ci

#: Patients per trial: the size of docs/validation.md's verification.
N_PATIENTS = 200
#: The cohort and run seed, fixed before the result was seen (docs/validation.md, "Validation test").
#: Never used in calibration (2024) or verification (7, 11, 31, 47). 8191, the seed before it, had been
#: seen twice by the time the model was recalibrated for burden (docs/validation.md, "Neurotoxicity
#: onset and burden"); this fresh seed was fixed and committed before that model's result was seen.
#: Seed 51977 was fixed for the model with the spleen and lymph nodes, which failed on it (CRS grade >= 3)
#: and was not adopted ("CRS and burden: the lymphoid tissue"). Seed 80621 was fixed and committed with
#: the model whose T-cells regrow in the cleared marrow, before its result was seen ("Response depth as
#: the trials count it"); 60317 had validated the model before it. Seed 44417 was fixed for dexamethasone
#: once per path, which failed on it (CR/CRh). Seed 71775 was fixed for the four-cohort re-fit of CR/CRh,
#: which failed on it (CRS of any grade; "Re-fit of CR/CRh on four cohorts"). Seed 77546 was fixed and
#: committed with the same re-fit and a stage 7 fitted on four cohorts, before that model's result was
#: seen ("Stage 7 on four cohorts"). Seed 48108 was fixed and committed with the cohorts' marrow T-cell
#: share median at 0.08 and its stage 7 on four cohorts, before that model's result was seen ("CR/CRh at
#: the four-cohort mapping").
SEED = 48108
#: The family-wise level over the claims.
FAMILY_LEVEL = 0.95
#: Each claim's Wilson interval: Bonferroni over the claims (1 - 0.05/6 = 99.17%).
CONFIDENCE = 1.0 - (1.0 - FAMILY_LEVEL) / len(CLAIMED)
#: Patients whose endpoint cannot be assessed (NaN) are not counted; at most this many per claim.
MAX_NOT_ASSESSABLE = 2

RECORDS = Path(__file__).resolve().parent.parent / "docs" / "calibration"


@dataclass(frozen=True)
class Verdict:
    """One claimed endpoint checked against its trial.

    Attributes
    ----------
    trial, endpoint
        The claim (a pair of :data:`blinasim.trials.calibration.CLAIMED`).
    rate
        The model's rate on the virtual trial.
    low, high
        The model's Wilson interval at the per-claim confidence.
    target
        The trial's published value.
    """

    trial: str
    endpoint: str
    rate: Rate
    low: float
    high: float
    target: float

    @property
    def inside(self) -> bool:
        """Whether the trial's value lies inside the model's interval."""
        return self.low <= self.target <= self.high

    def __str__(self) -> str:
        return (
            f"{self.trial:10s} {self.endpoint:16s} {self.rate.value:6.3f} ({self.rate.successes:3d}/{self.rate.n:3d})  "
            f"{self.low:.3f}-{self.high:.3f}  {self.target:6.3f}  {'inside' if self.inside else 'OUTSIDE'}"
        )


def check_claims(
    trial_rates: dict[str, dict[str, Rate]],
    claims: tuple[tuple[str, str], ...] = CLAIMED,
    targets: dict[str, float] | None = None,
    family_level: float = FAMILY_LEVEL,
) -> list[Verdict]:
    """Check each claimed endpoint: is the trial's value inside the model's Wilson interval?

    Parameters
    ----------
    trial_rates
        The model's endpoint rates per trial, as :func:`blinasim.trials.trial.rates` returns them.
    claims
        The ``(trial, endpoint)`` pairs checked.
    targets
        The trial value per endpoint; by default :data:`blinasim.trials.calibration.TARGET_BY_NAME`.
    family_level
        The family-wise confidence over all claims; each interval is at ``1 - (1 - family_level) / len(claims)``
        (Bonferroni).

    Returns
    -------
    list of Verdict
        One per claim, in the order of ``claims``.
    """
    confidence = 1.0 - (1.0 - family_level) / len(claims)
    verdicts = []
    for trial, endpoint in claims:
        rate = trial_rates[trial][endpoint]
        _, low, high = wilson_ci(rate.successes, rate.n, confidence)
        target = TARGET_BY_NAME[endpoint].value if targets is None else targets[endpoint]
        verdicts.append(Verdict(trial, endpoint, rate, low, high, target))
    return verdicts


def verdict_table(verdicts: list[Verdict], family_level: float = FAMILY_LEVEL) -> str:
    """The verdicts as a table, with the per-claim confidence in the header."""
    confidence = 1.0 - (1.0 - family_level) / len(verdicts)
    head = f"{'trial':10s} {'endpoint':16s} {'model':>6s} (k/n)      {confidence:.2%} CI   {'trial':>6s}  verdict"
    return "\n".join([head, *map(str, verdicts)])


def recorded_rates(name: str) -> dict[str, dict[str, Rate]]:
    """The endpoint rates of a recorded virtual trial (``docs/calibration/<name>.json``, every patient)."""
    patients = json.loads((RECORDS / f"{name}.json").read_text())["patients"]
    return {trial: rates(patients, trial) for trial in ("mt103_211", "blast")}


def available_cpus() -> int:
    """The CPUs this process may run on (every patient runs alone; results do not depend on it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# --- the full-size validation ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trial_results():
    cohorts = {trial: draw_cohort(trial, N_PATIENTS, SEED) for trial in ("mt103_211", "blast")}
    return run_cohorts(cohorts, SEED, workers=available_cpus())


@pytest.fixture(scope="module")
def verdicts(trial_results):
    trial_rates = {trial: rates(trial_results, trial) for trial in ("mt103_211", "blast")}
    found = check_claims(trial_rates)
    print(f"\nvalidation, seed {SEED}, {N_PATIENTS} + {N_PATIENTS} patients:\n{verdict_table(found)}")
    return {(v.trial, v.endpoint): v for v in found}


@pytest.mark.slow
@pytest.mark.validation
@pytest.mark.parametrize(("trial", "endpoint"), CLAIMED)
def test_claimed_endpoint_lands_on_its_trial(verdicts, trial, endpoint):
    verdict = verdicts[trial, endpoint]
    table = verdict_table(list(verdicts.values()))
    assert verdict.rate.n >= N_PATIENTS - MAX_NOT_ASSESSABLE, f"too few assessable patients: {verdict}\n{table}"
    assert verdict.inside, f"{trial} {endpoint} misses its trial (seed {SEED}):\n{table}"


@pytest.mark.slow
@pytest.mark.validation
def test_r_r_response_is_lower_than_mrd_response(trial_results):
    """The separation the Treg mechanism was built for: MRD response well above R/R CR/CRh."""
    cr_crh = rates(trial_results, "mt103_211")["cr_crh"].value
    mrd = rates(trial_results, "blast")["mrd_response"].value
    assert mrd - cr_crh > 0.15


# --- the check can fail (cheap: recorded trials and synthetic rates) -----------------------------------------------


def test_family_wise_level_is_bonferroni_over_the_six_claims():
    assert len(CLAIMED) == 6
    assert CONFIDENCE == pytest.approx(1 - 0.05 / 6)
    assert N_PATIENTS == 200


def test_check_rejects_the_rejected_stage3_candidate():
    """Stage 3's best candidate (docs/validation.md, "not adopted"; 200 + 200 patients, seed 7): CR/CRh 0.78
    and CRS of any grade 0.04 against 0.43 and 0.14."""
    found = {v.endpoint: v for v in check_claims(recorded_rates("verify_candidate37"))}
    assert not found["cr_crh"].inside, found["cr_crh"]
    assert not found["crs_any"].inside, found["crs_any"]


def test_check_rejects_the_stage6_defaults_on_neurotoxicity():
    """The stage-6 defaults (200 + 200 patients, seed 11) never produced neurotoxicity of grade >= 3: 0.15 is claimed."""
    found = {v.endpoint: v for v in check_claims(recorded_rates("verify_defaults"))}
    assert found["neurotox_grade3"].rate.successes == 0
    assert not found["neurotox_grade3"].inside, found["neurotox_grade3"]


def test_check_accepts_the_verified_defaults_and_rejects_them_against_a_shifted_target():
    """The adopted defaults' verification (seed 11) passes every claim; the same rates fail once a target moves
    by ten points (CR/CRh 0.53 instead of 0.43, MRD response 0.68 instead of 0.78)."""
    trial_rates = recorded_rates("verify_stage7")
    found = check_claims(trial_rates)
    assert all(v.inside for v in found), verdict_table(found)
    targets = {name: TARGET_BY_NAME[name].value for _, name in CLAIMED}
    for endpoint, shift in (("cr_crh", +0.10), ("mrd_response", -0.10)):
        shifted = check_claims(trial_rates, targets={**targets, endpoint: targets[endpoint] + shift})
        assert [v.endpoint for v in shifted if not v.inside] == [endpoint], verdict_table(shifted)


def on_target(n: int) -> dict[str, dict[str, Rate]]:
    """Synthetic rates of an ``n``-patient model that lands on every claimed target (to the nearest patient)."""
    model: dict[str, dict[str, Rate]] = {trial: {} for trial, _ in CLAIMED}
    for trial, endpoint in CLAIMED:
        model[trial][endpoint] = Rate(round(TARGET_BY_NAME[endpoint].value * n), n)
    return model


def test_check_rejects_synthetic_rates_off_their_targets():
    """Synthetic 200-patient trials: on every target all pass; a model ten points off in one claim (or without any
    CRS) fails that claim and only that one."""
    assert all(v.inside for v in check_claims(on_target(N_PATIENTS)))
    for (trial, endpoint), wrong in {
        ("mt103_211", "cr_crh"): 66,  # 0.33
        ("mt103_211", "neurotox_any"): 120,  # 0.60
        ("mt103_211", "crs_any"): 0,
        ("blast", "mrd_response"): 136,  # 0.68
    }.items():
        model = on_target(N_PATIENTS)
        model[trial][endpoint] = Rate(wrong, N_PATIENTS)
        failed = [(v.trial, v.endpoint) for v in check_claims(model) if not v.inside]
        assert failed == [(trial, endpoint)]


def test_cr_crh_acceptance_band_at_full_size():
    """At 200 patients the check accepts CR/CRh only within 0.34-0.52 (the old 40-patient test: 0.23-0.63)."""

    def band(n: int) -> tuple[float, float]:
        accepted = []
        for k in range(n + 1):
            model = on_target(n)
            model["mt103_211"]["cr_crh"] = Rate(k, n)
            if check_claims(model)[CLAIMED.index(("mt103_211", "cr_crh"))].inside:
                accepted.append(k / n)
        return accepted[0], accepted[-1]

    assert band(N_PATIENTS) == (pytest.approx(0.34), pytest.approx(0.52))
    old_low, old_high = band(40)
    assert old_low < 0.25 and old_high > 0.6

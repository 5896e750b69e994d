"""Salvage chemotherapy as the TOWER regimens, its clinical course, and the TOWER-like randomised experiment."""

from __future__ import annotations

import math
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from blinasim.clinical.combination import (
    REGIMENS,
    CombinationDrugs,
    chemosensitivity,
    chemotherapy_assessment_days,
    chemotherapy_regimen,
    choose_regimen,
    regimen_shares,
)
from blinasim.clinical.course import chemotherapy_plan
from blinasim.experiments.spec import ExperimentError, parse_experiment
from blinasim.experiments.trial_report import allocate
from blinasim.params.schema import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[1]


def chemo_config(**overrides):
    return load_config(None, {"treatment.regimen": "none", **overrides})


# ------------------------------------------------------------------ regimens


@pytest.mark.parametrize("name", REGIMENS)
def test_each_regimen_spreads_its_log_kill_over_its_course(name):
    """h = ln(10) * log_kill * potency * s / course_days: a course of exposure removes
    log_kill * potency * s logs of blasts; the other hazards are the regimen's own keys."""
    cfg = chemo_config(**{"treatment.chemotherapy": name, "chemotherapy.potency_scale": 0.7})
    r = chemotherapy_regimen(cfg, seed=123)
    ch = cfg.chemotherapy
    days = getattr(ch, f"{name}_course_days")
    logs = r.blast_kill_per_day * days / math.log(10.0)
    assert logs == pytest.approx(getattr(ch, f"{name}_blast_log_kill") * 0.7 * r.sensitivity)
    assert r.other_marrow_kill_per_day == getattr(ch, f"{name}_other_marrow_kill_per_day")
    assert r.marrow_recovery_days == getattr(ch, f"{name}_marrow_recovery_days")
    assert r.t_cell_kill_per_day == getattr(ch, f"{name}_t_cell_kill_per_day")
    assert r.normal_b_kill_per_day == pytest.approx(r.blast_kill_per_day * ch.normal_b_relative_kill)
    drugs = CombinationDrugs(cfg, 0.0, 123)
    assert drugs.chemotherapy_active(0.0) and not drugs.chemotherapy_active(days + 0.01)
    assert drugs.marrow_refill_factor(days + r.marrow_recovery_days / 2) == pytest.approx(0.5)


def test_physicians_choice_draws_tower_proportions_reproducibly():
    """Each seed gives one regimen, the same every time; over many seeds the mix is TOWER's
    (FLAG +/- anthracycline 45%, HiDAC 17%, HD-MTX 12%, clofarabine 26%) within 4 standard errors."""
    cfg = chemo_config(**{"treatment.chemotherapy": "physicians_choice"})
    n = 4000
    drawn = [choose_regimen(cfg, seed) for seed in range(n)]
    assert drawn[:50] == [choose_regimen(cfg, seed) for seed in range(50)]
    counts = Counter(drawn)
    shares = regimen_shares(cfg)
    assert shares["flag"] + shares["flag_ida"] == pytest.approx(0.45)
    for name, p in shares.items():
        assert abs(counts[name] / n - p) < 4 * math.sqrt(p * (1 - p) / n), (name, counts[name] / n, p)
    only_mtx = chemo_config(
        **{
            "treatment.chemotherapy": "physicians_choice",
            "chemotherapy.share_flag": 0.0,
            "chemotherapy.share_hidac": 0.0,
            "chemotherapy.share_clofarabine": 0.0,
        }
    )
    assert {choose_regimen(only_mtx, s) for s in range(200)} == {"hd_mtx"}


def test_chemosensitivity_is_log_normal_with_the_configured_spread():
    cfg = chemo_config(**{"treatment.chemotherapy": "flag"})
    logs = np.log([chemosensitivity(cfg, s) for s in range(3000)])
    assert abs(np.median(logs)) < 0.05
    assert np.std(logs) == pytest.approx(cfg.chemotherapy.sensitivity_log_sd, rel=0.08)
    flat = chemo_config(**{"treatment.chemotherapy": "flag", "chemotherapy.sensitivity_log_sd": 0.0})
    assert chemosensitivity(flat, 5) == 1.0


def test_the_generic_salvage_course_keeps_its_own_keys():
    cfg = chemo_config(**{"treatment.chemotherapy": "salvage", "chemotherapy.blast_kill_per_day": 1.3})
    r = chemotherapy_regimen(cfg, seed=9)
    assert (r.name, r.blast_kill_per_day, r.sensitivity) == ("salvage", 1.3, 1.0)
    assert chemotherapy_regimen(load_config(None, {}), seed=9) is None


def test_a_chemotherapy_arm_is_assessed_before_each_next_course():
    cfg = chemo_config(**{"treatment.chemotherapy": "hidac", "treatment.chemotherapy_start_day": 2.0})
    assert chemotherapy_assessment_days(cfg) == [30.0, 58.0]


def test_chemotherapy_plan_gives_consolidation_after_the_lattice_run():
    cfg = chemo_config(**{"treatment.chemotherapy": "flag_ida", "course.plan": "chemotherapy"})
    cycles, induction, assessment_day = chemotherapy_plan(cfg, seed=1, t_end_lattice=84.0)
    assert induction == 2 and assessment_day == 56.0
    assert cycles[:2] == [(0.0, 5.0), (28.0, 33.0)]
    assert [s for s, _ in cycles[2:]] == [84.0, 112.0][: cfg.chemotherapy.consolidation_courses]


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"treatment.chemotherapy": "7+3"}, "treatment.chemotherapy"),
        ({"course.plan": "chemotherapy"}, "course.plan 'chemotherapy' follows a salvage-chemotherapy arm"),
        (
            {
                "chemotherapy.share_flag": 0.0,
                "chemotherapy.share_hidac": 0.0,
                "chemotherapy.share_hd_mtx": 0.0,
                "chemotherapy.share_clofarabine": 0.0,
            },
            "physician's choice needs at least one regimen",
        ),
    ],
)
def test_bad_chemotherapy_settings_are_named(overrides, fragment):
    with pytest.raises(ConfigError) as exc:
        load_config(None, overrides)
    assert fragment in str(exc.value)


# ------------------------------------------------------------------ randomisation


def test_permuted_blocks_allocate_exactly_two_to_one_and_reproducibly():
    arms = allocate(7, 90, {"blinatumomab": 2, "chemotherapy": 1})
    assert arms == allocate(7, 90, {"blinatumomab": 2, "chemotherapy": 1})
    for b in range(30):
        assert sorted(arms[3 * b : 3 * b + 3]) == ["blinatumomab", "blinatumomab", "chemotherapy"]
    assert arms != allocate(8, 90, {"blinatumomab": 2, "chemotherapy": 1})


@pytest.mark.parametrize(
    ("allocation", "fragment"),
    [
        ("{ blinatumomab = 2, chemo = 1 }", "'chemo' is not an arm"),
        ("{ blinatumomab = 2 }", "needs at least 2 arms"),
        ("{ blinatumomab = 2, chemotherapy = 0 }", "must be a whole number >= 1"),
    ],
)
def test_bad_allocations_are_named(tmp_path, allocation, fragment):
    import tomllib

    text = (
        (ROOT / "experiments/tower.toml")
        .read_text()
        .replace("allocation = { blinatumomab = 2, chemotherapy = 1 }", f"allocation = {allocation}")
    )
    with pytest.raises(ExperimentError) as exc:
        parse_experiment(tomllib.loads(text), ROOT / "experiments")
    assert fragment in str(exc.value)


# ------------------------------------------------------------------ end to end


TINY_TOWER = """
[experiment]
name = "tiny_tower"
seed = 5
allocation = { blinatumomab = 2, chemotherapy = 1 }

[base]
simulation.lattice_size = 16
simulation.days = 30.0
course.step_days = 2.0
course.follow_up_days = 365.0

[[arm]]
name = "blinatumomab"
course.plan = "tower"

[[arm]]
name = "chemotherapy"
treatment.regimen = "none"
treatment.chemotherapy = "physicians_choice"
course.plan = "chemotherapy"

[sampler]
method = "cohort"
cohort = "mt103_211"
n = 6
"""


def blinasim(*args):
    return subprocess.run(
        [sys.executable, "-m", "blinasim.cli", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_tower_experiment_runs_through_sweep_and_report_scores_both_arms(tmp_path):
    """`blinasim sweep` + `blinasim report` on a tiny TOWER-like trial: the randomised comparison
    lists both arms with assessable CR and CR/CRh/CRi, EFS/OS per arm and the hazard ratios."""
    exp = tmp_path / "tower.toml"
    exp.write_text(TINY_TOWER)
    store = tmp_path / "tower.zarr"
    proc = blinasim("sweep", exp, "--out", store, "--workers", "2", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    assert "12 done, 0 failed" in proc.stdout
    proc = blinasim("report", store, "--out", tmp_path / "rep", "--formats", "")
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "rep/summary.md").read_text()
    assert "## Randomised comparison (blinatumomab vs chemotherapy, 2:1)" in text
    # The six drawn patients have 25-70% marrow blasts (two groups of the pooled analysis), so the
    # report splits them by burden in both arms.
    assert "## Response and survival by baseline marrow blasts" in text
    import pandas as pd

    rates = pd.read_csv(tmp_path / "rep/randomised_rates.csv").set_index("arm")
    assert rates.loc["blinatumomab", "n"] == 4 and rates.loc["chemotherapy", "n"] == 2
    assert (rates[["cr_n", "cr_crh_cri_n"]] == rates[["n", "n"]].values).all().all()  # every patient assessable
    tests = pd.read_csv(tmp_path / "rep/randomised_tests.csv")
    assert set(tests.endpoint) == {"efs", "os"}
    burden = pd.read_csv(tmp_path / "rep/burden_groups.csv")
    assert set(burden.arm) == {"blinatumomab", "chemotherapy"} and set(burden.group) == {">= 50%", "25-50%"}
    assert (burden.groupby("arm").patients.first() > 0).all()
    surv = pd.read_csv(tmp_path / "rep/randomised_survival.csv").set_index("arm")
    assert list(surv.index) == ["blinatumomab", "chemotherapy"]
    # The trial's targets (MT103-211: blinatumomab on its step-up schedule) are compared in the
    # blinatumomab arm only; the chemotherapy arm's rates stand without a target, and the summary says why.
    trial = pd.read_csv(tmp_path / "rep/trial_rates.csv")
    blina, chemo = trial[trial.arm == "blinatumomab"], trial[trial.arm == "chemotherapy"]
    assert blina.set_index("endpoint").loc["crs_any", "target"] == pytest.approx(0.14)
    assert blina.target.notna().sum() == 5 and chemo.target.isna().all() and chemo.target_in_ci.isna().all()
    assert (
        "Arm 'chemotherapy' does not give the trial's treatment, so its rates are not compared with the trial's "
        "targets: treatment.regimen 'none' (the trial 'rr_step_up'), treatment.chemotherapy 'physicians_choice' "
        "(the trial 'none')." in text
    )
    # Response depth: of each arm's CR/CRh, the complete MRD responders, counted again from the store;
    # MT103-211's published 82% beside the blinatumomab arm only.
    from blinasim.experiments.store import open_results

    ds = open_results(store)
    depth = pd.read_csv(tmp_path / "rep/response_depth.csv").set_index("arm")
    for a, arm in enumerate(ds.arm.values):
        response, mrd = ds.cr_crh.values[a].ravel(), ds.mrd_response.values[a].ravel()
        counted = (response == 1) & np.isfinite(mrd)
        assert depth.loc[arm, "responders"] == counted.sum()
        assert depth.loc[arm, "mrd_responders"] == np.sum(mrd[counted] == 1)
    assert depth.responders.sum() > 0  # the comparison above is not empty
    assert depth.loc["blinatumomab", "published"] == pytest.approx(0.82)
    assert np.isnan(depth.loc["chemotherapy", "published"])
    assert "## Response depth: complete MRD response of the CR/CRh (95% Wilson interval)" in text

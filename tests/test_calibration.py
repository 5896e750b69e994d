"""Calibration targets, read-outs and score (blinasim.trials.calibration)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import xarray as xr

from blinasim.params.schema import load_config
from blinasim.trials.calibration import (
    GRADE3,
    PARAMETERS,
    TARGET_BY_NAME,
    TARGETS,
    Target,
    in_vitro_assay,
    kinetics,
    score,
    spaced_thresholds,
    summarise,
    to_overrides,
)


def test_rate_misses_are_in_units_of_the_trials_standard_error():
    t = Target("x", 0.43, "rate", 189, "")
    se = math.sqrt(0.43 * 0.57 / 189)
    assert t.miss(0.43) == 0.0
    assert t.miss(0.43 + 2 * se) == pytest.approx(2.0)
    assert t.miss(0.43 - se) == pytest.approx(-1.0)
    assert math.isnan(t.miss(math.nan))


def test_one_sided_targets_count_only_shortfalls():
    t = Target("x", 0.9, "at_least", 20, "")
    assert t.miss(1.0) == 0.0 and t.miss(0.9) == 0.0
    assert t.miss(0.8) < 0
    v = Target("y", 0.75, "at_least_value", 0, "", unit=0.1)
    assert v.miss(0.9) == 0.0 and v.miss(0.55) == pytest.approx(-2.0)


def test_log_ratio_counts_a_factor_of_two_as_one_unit():
    t = TARGET_BY_NAME["invitro_day28_over_day7"]
    assert t.miss(t.value) == pytest.approx(0.0, abs=1e-12)
    assert t.miss(2 * t.value) == pytest.approx(1.0)
    assert t.miss(t.value / 4) == pytest.approx(-2.0)


def test_score_sums_squares_and_penalises_missing_values():
    values = {t.name: t.value for t in TARGETS}
    total, misses = score(values)
    assert total == pytest.approx(0.0, abs=1e-12)
    values["cr_crh"] = math.nan
    total, misses = score(values)
    assert total == 25.0 and math.isnan(misses["cr_crh"])


def _blood_dataset(b_per_ul, t_per_ul, times, volume_l=5.0):
    ul = volume_l * 1e6
    comp = ["marrow", "blood"]
    b = np.zeros((len(times), 2))
    tc = np.zeros((len(times), 2))
    b[:, 1] = np.asarray(b_per_ul) * ul
    tc[:, 1] = np.asarray(t_per_ul) * ul
    return xr.Dataset(
        {"normal_b_cells": (("time", "compartment"), b), "t_cells": (("time", "compartment"), tc)},
        coords={"time": times, "compartment": comp},
    )


def test_kinetics_reads_depletion_nadir_and_expansion_off_a_hand_made_trajectory():
    times = np.arange(0, 22.0, 0.25)
    b = 100.0 * np.exp(-3.0 * times)  # 100/uL -> 0.25/uL at day 2
    t = np.where(times < 0.75, 1000.0 - 1200.0 * times, 100.0 + 150.0 * (times - 0.75))
    ds = _blood_dataset(b, t, times)
    k = kinetics(ds, 5.0)
    assert k["blood_b_day2_per_ul"] == pytest.approx(100.0 * math.exp(-6.0))
    assert k["t_nadir_day"] == 0.75
    assert k["t_peak_d14_21_ratio"] == pytest.approx((100.0 + 150.0 * 20.25) / 1000.0)
    short = kinetics(ds.sel(time=slice(0, 10)), 5.0)
    assert math.isnan(short["t_peak_d14_21_ratio"])


def test_summarise_turns_patients_into_target_values():
    rows = [
        {"trial": "mt103_211", "cr_crh": 1.0, "max_crs_grade": 3.0, "max_neurotoxicity_grade": 1.0},
        {"trial": "mt103_211", "cr_crh": 0.0, "max_crs_grade": 0.0, "max_neurotoxicity_grade": 0.0},
        {"trial": "mt103_211", "cr_crh": math.nan, "max_crs_grade": 1.0, "max_neurotoxicity_grade": 4.0},
        {
            "trial": "blast",
            "mrd_response": 1.0,
            "blood_b_day2_per_ul": 0.5,
            "t_nadir_day": 0.5,
            "t_peak_d14_21_ratio": 2.5,
        },
        {
            "trial": "blast",
            "mrd_response": 0.0,
            "blood_b_day2_per_ul": 3.0,
            "t_nadir_day": 1.5,
            "t_peak_d14_21_ratio": 1.2,
        },
    ]
    assays = [{"invitro_day28_over_day7": 0.1, "invitro_function_day7": 0.8}] * 2
    v = summarise(rows, assays)
    assert v["cr_crh"] == 0.5  # the not-assessable patient is left out
    assert v["crs_any"] == pytest.approx(2 / 3) and v["crs_grade3"] == pytest.approx(1 / 3)
    assert v["neurotox_any"] == pytest.approx(2 / 3) and v["neurotox_grade3"] == pytest.approx(1 / 3)
    assert v["mrd_response"] == 0.5 and v["b_depleted_day2"] == 0.5
    assert v["t_nadir_day1"] == 0.5 and v["t_expansion_2x"] == 0.5
    assert v["invitro_day28_over_day7"] == pytest.approx(0.1)


def test_spaced_thresholds_move_grades_1_and_3_and_keep_the_shape():
    template = [100.0, 400.0, 1500.0, 5000.0]
    assert spaced_thresholds(100.0, 1500.0, template) == pytest.approx(template)
    moved = spaced_thresholds(50.0, 200.0, template)
    assert moved[0] == pytest.approx(50.0) and moved[2] == pytest.approx(200.0)
    # grade 2 sits as far between grades 1 and 3 on a log scale as before; grade 4 as far beyond
    position = np.log(np.array(moved) / 50.0) / np.log(200.0 / 50.0)
    assert position == pytest.approx(np.log(np.array(template) / 100.0) / np.log(15.0))
    assert all(b > a for a, b in itertools.pairwise(moved))
    with pytest.raises(ValueError, match="grade 1 < grade 3"):
        spaced_thresholds(300.0, 200.0, template)


def test_grade3_search_parameter_keeps_the_default_grade_1_and_the_shape():
    thresholds = to_overrides({GRADE3: 2000.0})["toxicity.crs_il6_thresholds_pg_per_ml"]
    default = load_config(None).toxicity.crs_il6_thresholds_pg_per_ml
    assert thresholds == pytest.approx(spaced_thresholds(default[0], 2000.0, default))


def test_in_vitro_function_falls_with_exposure_and_faster_with_faster_exhaustion():
    slow = in_vitro_assay({"tcells.exhaustion_per_engaged_day": 0.05}, seed=3, days=(1.0, 7.0))
    fast = in_vitro_assay({"tcells.exhaustion_per_engaged_day": 0.5}, seed=3, days=(1.0, 7.0))
    assert 0.0 < slow["invitro_function_day7"] <= slow["invitro_function_day1"] <= 1.0
    assert fast["invitro_function_day7"] < slow["invitro_function_day7"]


def test_calibration_script_runs_resumes_from_a_warm_start_and_starts_from_the_defaults(tmp_path):
    """scripts/calibrate.py end to end on one patient per trial: candidate 0 is the defaults,
    every candidate is recorded with its values and score, and a warm start keeps the earlier
    candidates and searches only --parameters."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "calibrate.py"
    common = ["--n", "1", "--assays", "1", "--workers", "1", "--seed", "3"]

    def calibrate(out, *args):
        subprocess.run(
            [sys.executable, str(script), *common, *args, "--out", str(out)],
            check=True,
            capture_output=True,
            cwd=tmp_path,
        )
        return json.loads(out.read_text())

    first = tmp_path / "stage1.json"
    stage1 = calibrate(first, "--trials", "2", "--startup", "1")
    assert [r["candidate"] for r in stage1["records"]] == [0, 1]
    assert stage1["records"][0]["params"]["tcells.contacts_per_hour"] == load_config(None).tcells.contacts_per_hour
    for r in stage1["records"]:
        assert set(r["values"]) == {t.name for t in TARGETS} and r["score"] > 0
    stage2 = calibrate(
        tmp_path / "stage2.json",
        "--trials",
        "1",
        "--parameters",
        "tcells.contacts_per_hour",
        "--warm-start",
        str(first),
    )
    assert [r["candidate"] for r in stage2["records"]] == [0, 1, 2]
    assert stage2["records"][1]["params"] == stage1["records"][1]["params"]  # kept as run
    defaults = stage1["records"][0]["params"]
    searched = stage2["records"][2]["params"]
    assert set(searched) == set(PARAMETERS)
    assert {k: v for k, v in searched.items() if v != defaults[k]}.keys() <= {"tcells.contacts_per_hour"}
    assert stage2["best"]["score"] == min(r["score"] for r in stage2["records"])

    # --start: candidate 0 is the given earlier candidate, and what is not searched keeps its values.
    stage3 = calibrate(
        tmp_path / "stage3.json",
        "--trials",
        "2",
        "--startup",
        "1",
        "--parameters",
        "tcells.contacts_per_hour",
        "--start",
        f"{first}:1",
    )
    start = stage1["records"][1]["params"]
    assert stage3["records"][0]["params"] == start
    moved = {k for k, v in stage3["records"][1]["params"].items() if v != start[k]}
    assert moved == {"tcells.contacts_per_hour"}


def test_toxicity_calibration_script_sets_gain_and_mappings_from_percentiles(tmp_path):
    """scripts/calibrate_toxicity.py end to end on 3 patients: three recorded steps, the IL-6 gain
    scaled by the grade-1 threshold over the 86th percentile of step 1's peaks, and mappings whose
    grade-3 levels are the 97th (CRS) and 85th (neurotoxicity) percentiles of step 2's peaks."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "calibrate_toxicity.py"
    out = tmp_path / "stage7.json"
    subprocess.run(
        [sys.executable, str(script), "--n", "3", "--seed", "5", "--workers", "1", "--json", str(out)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    rec = json.loads(out.read_text())
    assert [s["step"][0] for s in rec["steps"]] == ["1", "2", "3"]
    default = load_config(None)
    step1, step2 = rec["steps"][0], rec["steps"][1]
    gain = rec["result"]["cytokines.il6_per_ifng"]
    assert gain == pytest.approx(
        default.cytokines.il6_per_ifng * 100.0 / np.quantile(step1["crs_peaks"], 0.86), rel=1e-9
    )
    crs = rec["result"]["toxicity.crs_il6_thresholds_pg_per_ml"]
    neuro = rec["result"]["toxicity.neuro_thresholds_pg_per_ml"]
    assert crs[0] == 100.0 and crs[2] == pytest.approx(np.quantile(step2["crs_peaks"], 0.97), abs=0.05)
    assert neuro[0] == pytest.approx(np.quantile(step2["neuro_peaks"], 0.5), abs=0.05)
    assert neuro[2] == pytest.approx(np.quantile(step2["neuro_peaks"], 0.85), abs=0.05)
    assert rec["steps"][2]["overrides"]["toxicity.crs_il6_thresholds_pg_per_ml"] == crs


def test_rr_scan_script_reports_cr_crh_and_the_peak_signals(tmp_path):
    """scripts/calibrate_rr_scan.py end to end on 2 patients with an override: the JSON holds the
    override, each patient's cycle-1 peak CRS signal and CR/CRh, and the printed CRS rate is the
    share of peaks at or above the grade-1 threshold."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "calibrate_rr_scan.py"
    out = tmp_path / "scan.json"
    proc = subprocess.run(
        [
            *(sys.executable, str(script), "--n", "2", "--seed", "5", "--workers", "1", "--json", str(out)),
            *("--set", "tcells.treg_suppression_half=0.03"),
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    rec = json.loads(out.read_text())
    assert rec["overrides"] == {"tcells.treg_suppression_half": 0.03}
    assert len(rec["peaks"]) == len(rec["cr_crh"]) == 2 and all(p > 0 for p in rec["peaks"])
    grade1 = load_config(None).toxicity.crs_il6_thresholds_pg_per_ml[0]
    assert f"CRS any grade {np.mean(np.array(rec['peaks']) >= grade1):.3f}" in proc.stdout

"""Calibration (blinasim.trials.calibration): targets and score, the quantile-to-threshold mapping,
the stages as functions (on a stand-in runner), and ``blinasim calibrate`` end to end."""

from __future__ import annotations

import itertools
import math
from typing import ClassVar

import numpy as np
import pytest

from blinasim.params.schema import load_config
from blinasim.trials.calibration import (
    CLAIMED,
    GRADE3,
    PARAMETERS,
    TARGET_BY_NAME,
    TARGETS,
    TRIAL_TARGETS,
    Target,
    in_vitro_assay,
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


# ------------------------------------------------------------ targets, defined once


def test_rate_targets_count_the_endpoints_of_their_trial():
    from blinasim.clinical.endpoints import ENDPOINT_BY_NAME

    for t in TARGETS:
        if t.trial:
            assert t.name in ENDPOINT_BY_NAME, t.name  # the endpoint of the same name
        else:
            assert t.kind in ("log_ratio", "at_least_value")  # the in-vitro assay's read-outs
    assert CLAIMED == tuple((t.trial, t.name) for t in TARGETS if t.claimed)
    assert {name for _, name in CLAIMED} == {t.name for t in TARGETS if t.kind == "rate"}
    assert TRIAL_TARGETS["mt103_211"] == ("cr_crh", "crs_any", "crs_grade3", "neurotox_any", "neurotox_grade3")
    assert TRIAL_TARGETS["blast"][0] == "mrd_response"


def test_summarise_counts_like_the_trial_rates():
    from blinasim.trials.trial import rates

    rows = [
        {"trial": "mt103_211", "cr_crh": float(i % 3 == 0), "cr": 0.0, "crh": 0.0, "mrd_response": math.nan,
         "max_crs_grade": float(i % 5), "max_neurotoxicity_grade": float(i % 4)}
        for i in range(11)
    ]  # fmt: skip
    rows[4]["cr_crh"] = math.nan
    values = summarise(rows, [])
    trial = rates(rows, "mt103_211")
    for name in TRIAL_TARGETS["mt103_211"]:
        assert values[name] == trial[name].value, name  # bit for bit: one definition


def test_current_values_are_the_defaults():
    from blinasim.trials.calibration import current_values

    values = current_values()
    config = load_config(None)
    assert list(values) == list(PARAMETERS)
    assert values["tcells.contacts_per_hour"] == config.tcells.contacts_per_hour
    assert values[GRADE3] == config.toxicity.crs_il6_thresholds_pg_per_ml[2]


# ------------------------------------------------------------ the quantile-to-threshold mapping


def test_a_threshold_at_the_level_reached_by_a_share_is_crossed_by_that_share():
    from blinasim.trials.calibration import level_reached_by, share_reaching

    peaks = np.linspace(10.0, 1000.0, 101)  # quantiles land on data points
    for rate in (0.03, 0.14, 0.5, 0.86):
        level = level_reached_by(peaks, rate)
        assert level == pytest.approx(np.quantile(peaks, 1 - rate))
        assert share_reaching(peaks, level) == pytest.approx(rate, abs=1 / 101)


def test_the_il6_gain_puts_the_share_of_crs_any_on_the_grade_1_threshold():
    from blinasim.trials.calibration import il6_gain, level_reached_by

    base = np.random.default_rng(1).lognormal(3.0, 1.2, 240)  # peaks per unit gain, between patients
    gain = 1.9
    new = il6_gain(gain, 100.0, gain * base, 0.14)
    assert new == gain * 100.0 / np.quantile(gain * base, 0.86)
    # The peak CRS signal is proportional to the gain: with the new gain, 14% of patients reach grade 1.
    assert level_reached_by(new * base, 0.14) == pytest.approx(100.0, rel=1e-12)


def test_toxicity_thresholds_sit_on_the_quantiles_and_keep_grade_1_of_crs():
    from blinasim.trials.calibration import toxicity_thresholds

    tox = load_config(None).toxicity
    crs = np.linspace(20.0, 600.0, 50)
    neuro = np.linspace(5.0, 300.0, 50)
    out = toxicity_thresholds(crs, neuro, tox)
    c, n = out["toxicity.crs_il6_thresholds_pg_per_ml"], out["toxicity.neuro_thresholds_pg_per_ml"]
    assert c[0] == round(tox.crs_il6_thresholds_pg_per_ml[0], 1)
    assert c[2] == round(float(np.quantile(crs, 0.97)), 1)
    assert n[0] == round(float(np.quantile(neuro, 0.5)), 1) and n[2] == round(float(np.quantile(neuro, 0.85)), 1)
    assert c == [round(v, 1) for v in spaced_thresholds(tox.crs_il6_thresholds_pg_per_ml[0], float(np.quantile(crs, 0.97)), tox.crs_il6_thresholds_pg_per_ml)]  # fmt: skip
    load_config(None, out)  # valid thresholds


# ------------------------------------------------------------ the stages, on a stand-in runner


class StandIn:
    """A runner that stands in for the simulations (stages tested in milliseconds).

    Patient ``i`` has a cycle-1 peak CRS signal proportional to the IL-6 gain it runs with
    (``base[i]`` per unit gain), a neurotoxicity peak ``neuro[i]``, grades from the thresholds it
    runs with, CR/CRh in every other patient. Every call is recorded.
    """

    def __init__(self, n: int = 40):
        rng = np.random.default_rng(7)
        self.base = rng.lognormal(3.5, 1.0, n)
        self.neuro = rng.lognormal(4.0, 0.6, n)
        self.calls: list[tuple[object, list]] = []

    def map(self, fn, items):
        from blinasim.trials.calibration import run_assay
        from blinasim.trials.trial import run_patient

        items = list(items)
        self.calls.append((fn, items))
        if fn is run_patient:
            return [self.patient(*job) for job in items]
        assert fn is run_assay
        return [{"invitro_function_day7": 0.5, "invitro_day28_over_day7": 0.2} for _ in items]

    def patient(self, trial, i, overrides, seed):
        config = load_config(None, overrides)
        crs = config.cytokines.il6_per_ifng * self.base[i]
        neuro = self.neuro[i]
        grade = sum(crs >= t for t in config.toxicity.crs_il6_thresholds_pg_per_ml)
        ngrade = sum(neuro >= t for t in config.toxicity.neuro_thresholds_pg_per_ml)
        response = float(i % 2)
        return {
            "trial": trial, "patient": i, "cr_crh": response, "cr": response, "crh": 0.0, "mrd_response": response,
            "max_crs_grade": float(grade), "max_neurotoxicity_grade": float(ngrade),
            "crs_signal_peak_cycle1": crs, "neuro_exposure_peak_cycle1": neuro,
            "blood_b_day2_per_ul": 0.5, "t_nadir_day": 0.75, "t_peak_d14_21_ratio": 1.5,
        }  # fmt: skip


def cohort(n):
    return [{"patient.t_cells_per_ul": 500.0}] * n


def test_stage7_sets_the_gain_then_the_thresholds_on_one_runner():
    from blinasim.trials.calibration import calibrate_toxicity, level_reached_by
    from blinasim.trials.trial import run_patient

    fake = StandIn(40)
    lines: list[str] = []
    start = {"tcells.treg_suppression_half": 0.03}
    rec = calibrate_toxicity({5: cohort(40)}, start, runner=fake, on_message=lines.append)
    assert [s.step[0] for s in rec.steps] == ["1", "2", "3"]
    assert [fn for fn, _ in fake.calls] == [run_patient] * 3  # three runs of the cohort on the same runner
    assert all(job[3] == 5 and job[2]["tcells.treg_suppression_half"] == 0.03 for _, jobs in fake.calls for job in jobs)
    default = load_config(None)
    gain = rec.result["cytokines.il6_per_ifng"]
    assert gain == default.cytokines.il6_per_ifng * 100.0 / np.quantile(rec.steps[0].crs_peaks, 0.86)
    # Step 2's peaks scale with the gain: 14% of the cohort reach the unchanged grade-1 threshold.
    assert level_reached_by(rec.steps[1].crs_peaks, 0.14) == pytest.approx(100.0)
    crs = rec.result["toxicity.crs_il6_thresholds_pg_per_ml"]
    neuro = rec.result["toxicity.neuro_thresholds_pg_per_ml"]
    assert crs[0] == 100.0 and crs[2] == pytest.approx(np.quantile(rec.steps[1].crs_peaks, 0.97), abs=0.05)
    assert neuro[0] == pytest.approx(np.quantile(rec.steps[1].neuro_peaks, 0.5), abs=0.05)
    assert neuro[2] == pytest.approx(np.quantile(rec.steps[1].neuro_peaks, 0.85), abs=0.05)
    assert rec.steps[2].overrides == {**start, **rec.result}
    # On the cohort it was fitted to, the rates come out at the targets.
    check = rec.steps[2].rates
    assert check["crs_any"] == pytest.approx(0.14, abs=1 / 40) and check["crs_grade3"] == pytest.approx(
        0.03, abs=1 / 40
    )
    assert check["neurotox_any"] == pytest.approx(0.5, abs=1 / 40)
    assert len(lines) == 6 and lines[0].startswith("1: current settings (") and "crs_any" in lines[0]
    assert lines[1].startswith("  cytokines.il6_per_ifng ")
    js = rec.to_json()
    assert list(js) == ["n", "seeds", "overrides", "steps", "result"] and js["overrides"] == start
    assert list(js["steps"][0]) == ["step", "overrides", "rates", "crs_peaks", "neuro_peaks"]


def test_stage6_reports_cr_crh_and_the_peak_quantiles():
    from blinasim.trials.calibration import rr_scan

    fake = StandIn(20)
    scan = rr_scan(cohort(20), 5, {"cytokines.il6_per_ifng": 2.0}, runner=fake)
    assert scan.cr_crh == 0.5 and scan.n == 20 and scan.grade1 == 100.0
    assert scan.peaks == pytest.approx(list(2.0 * fake.base))
    assert scan.crs_any == np.mean(2.0 * fake.base >= 100.0)
    assert scan.quantiles()[0.86] == pytest.approx(np.quantile(2.0 * fake.base, 0.86))
    text = scan.format()
    assert text.splitlines()[0] == "CR/CRh 0.500 (20 patients, seed 5, overrides {'cytokines.il6_per_ifng': 2.0})"
    assert f"CRS any grade {scan.crs_any:.3f} (peak cycle-1 CRS signal >= 100 pg/mL)" in text
    assert scan.to_json() == {
        "overrides": {"cytokines.il6_per_ifng": 2.0},
        "peaks": scan.peaks,
        "cr_crh": [0.0, 1.0] * 10,
    }


def test_search_starts_from_the_defaults_and_runs_every_candidate_on_one_runner(tmp_path):
    import json

    from blinasim.trials.calibration import current_values, run_assay, search
    from blinasim.trials.trial import run_patient

    fake = StandIn(4)
    out = tmp_path / "stage1.json"
    lines: list[str] = []
    rec = search(2, 3, startup=1, assays=2, seed=3, out=out, runner=fake, on_message=lines.append)
    assert [r["candidate"] for r in rec["records"]] == [0, 1, 2]
    assert rec["records"][0]["params"] == current_values()
    for r in rec["records"]:
        assert list(r["values"]) == [t.name for t in TARGETS] and r["score"] > 0
    assert rec["best"]["score"] == min(r["score"] for r in rec["records"])
    assert json.loads(out.read_text()) == json.loads(json.dumps(rec))
    # Each candidate: 2 + 2 patients with the run seeds of seed 3, then 2 assays (seeds 3 and 4).
    assert [fn for fn, _ in fake.calls] == [run_patient, run_assay] * 3
    jobs = fake.calls[0][1]
    assert [(j[0], j[1], j[3]) for j in jobs] == [
        ("mt103_211", 0, 3),
        ("mt103_211", 1, 3),
        ("blast", 0, 3),
        ("blast", 1, 3),
    ]
    assert [seed for _, seed in fake.calls[1][1]] == [3, 4]
    assert len(lines) == 3 and lines[0].startswith("[ 0] score ")

    # A warm start keeps the earlier candidates and moves only the searched parameter.
    rec2 = search(2, 1, seed=3, parameters=["tcells.contacts_per_hour"], warm_start=str(out), runner=fake)
    assert [r["candidate"] for r in rec2["records"]] == [0, 1, 2, 3]
    assert [r.get("stage") for r in rec2["records"]] == ["warm start"] * 3 + [None]
    moved = {k for k, v in rec2["records"][3]["params"].items() if v != current_values()[k]}
    assert moved <= {"tcells.contacts_per_hour"} and set(rec2["records"][3]["params"]) == set(PARAMETERS)

    # --start: candidate 0 is the earlier candidate; what is not searched keeps its values.
    rec3 = search(2, 2, startup=1, seed=3, parameters=["tcells.contacts_per_hour"], start=f"{out}:1", runner=fake)
    earlier = rec["records"][1]["params"]
    assert rec3["records"][0]["params"] == earlier
    assert {k for k, v in rec3["records"][1]["params"].items() if v != earlier[k]} == {"tcells.contacts_per_hour"}


def test_search_refuses_bad_options_before_running_anything(tmp_path, monkeypatch):
    import json
    import sys

    from blinasim.trials.calibration import CalibrationError, search

    fake = StandIn(2)
    with pytest.raises(CalibrationError, match=r"parameters: unknown \['tcells.nope'\]; allowed: tcells.contacts"):
        search(1, 1, parameters=["tcells.nope"], runner=fake)
    with pytest.raises(CalibrationError, match="start='missing.json:0': expected JSON:CANDIDATE"):
        search(1, 1, start="missing.json:0", runner=fake)
    earlier = tmp_path / "earlier.json"
    earlier.write_text(json.dumps({"n": 24, "seed": 2024, "records": []}))
    with pytest.raises(CalibrationError, match="n/seed 24/2024 differ from 1/3"):
        search(1, 1, seed=3, warm_start=str(earlier), runner=fake)
    monkeypatch.setitem(sys.modules, "optuna", None)  # as if optuna were not installed
    with pytest.raises(CalibrationError, match=r'needs optuna: pip install "blinasim\[calibration\]"'):
        search(1, 1, runner=fake)
    assert fake.calls == []


# ------------------------------------------------------------ blinasim calibrate


def invoke(*args):
    from typer.testing import CliRunner

    from blinasim.cli import app

    return CliRunner().invoke(app, ["calibrate", *args])


def test_calibrate_command_lists_its_stages():
    result = invoke("--help")
    assert result.exit_code == 0
    for stage in ("search", "scan", "toxicity", "verify"):
        assert stage in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scan", "--set", "tcells.nosuch=1"], "unknown key"),
        (["toxicity", "--set", "novalue"], "expected KEY=VALUE"),
        (["verify", "--json", "/nonexistent/dir/v.json"], "directory '/nonexistent/dir' does not exist"),
        (["scan", "--workers", "1", "--scheduler", "tcp://127.0.0.1:1"], "give at most one of"),
        (["search", "--parameters", "tcells.nope"], "--parameters: unknown ['tcells.nope']"),
        (["search", "--start", "missing.json:3"], "--start 'missing.json:3': expected JSON:CANDIDATE"),
    ],
)
def test_calibrate_bad_input_is_one_clear_message(args, message):
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_calibrate_search_without_optuna_says_how_to_install_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "optuna", None)
    result = invoke("search", "--workers", "1")
    assert result.exit_code == 2
    assert 'the calibration search needs optuna: pip install "blinasim[calibration]"' in result.output


SCRIPTS = __import__("pathlib").Path(__file__).resolve().parents[1] / "scripts"


def script(name, *args, cwd):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, str(SCRIPTS / name), *args], check=True, capture_output=True, text=True, cwd=cwd
    )


def test_calibration_search_script_end_to_end(tmp_path):
    """scripts/calibrate.py (``blinasim calibrate search``) on one patient per trial: candidate 0 is
    the defaults, with every target's value and the score, written to --out and printed as best."""
    import json

    from blinasim.trials.calibration import current_values

    out = tmp_path / "stage1.json"
    proc = script("calibrate.py", "--n", "1", "--trials", "1", "--assays", "1", "--workers", "1", "--seed", "3",
                  "--out", str(out), cwd=tmp_path)  # fmt: skip
    rec = json.loads(out.read_text())
    assert [r["candidate"] for r in rec["records"]] == [0]
    assert rec["records"][0]["params"] == current_values()
    assert set(rec["records"][0]["values"]) == {t.name for t in TARGETS} and rec["best"]["score"] > 0
    assert proc.stdout.startswith("[ 0] score ") and "best: {" in proc.stdout


class TwoCohorts(StandIn):
    """:class:`StandIn` whose patients differ between cohorts: seed ``s`` reads ``base`` from ``offset[s]``."""

    offset: ClassVar[dict[int, int]] = {5: 0, 6: 20}

    def patient(self, trial, i, overrides, seed):
        return super().patient(trial, self.offset[seed] + i, overrides, seed)


def test_stage7_pools_the_peaks_of_several_cohorts_each_on_its_own_seed():
    from blinasim.trials.calibration import calibrate_toxicity, level_reached_by
    from blinasim.trials.trial import run_patient

    fake = TwoCohorts(40)
    rec = calibrate_toxicity({5: cohort(20), 6: cohort(20)}, runner=fake)
    assert rec.n == 40 and rec.seeds == [5, 6] and rec.to_json()["seeds"] == [5, 6]
    # Each step is one batch of both cohorts, each patient on its own cohort's seed and index.
    for fn, jobs in fake.calls:
        assert fn is run_patient and [(j[3], j[1]) for j in jobs] == [(s, i) for s in (5, 6) for i in range(20)]
    default = load_config(None)
    pooled = default.cytokines.il6_per_ifng * fake.base
    assert sorted(rec.steps[0].crs_peaks) == sorted(pooled)
    gain = rec.result["cytokines.il6_per_ifng"]
    assert gain == pytest.approx(default.cytokines.il6_per_ifng * 100.0 / np.quantile(pooled, 0.86), rel=1e-12)
    # The pooled gain is neither cohort's own: the first cohort alone would have asked for another.
    alone = default.cytokines.il6_per_ifng * 100.0 / np.quantile(pooled[:20], 0.86)
    assert abs(gain - alone) > 1e-6 * gain
    assert level_reached_by(rec.steps[1].crs_peaks, 0.14) == pytest.approx(100.0)


def test_stage7_needs_a_cohort():
    from blinasim.trials.calibration import calibrate_toxicity

    with pytest.raises(ValueError, match="at least one cohort"):
        calibrate_toxicity({}, runner=StandIn(1))


def test_toxicity_script_sets_gain_and_mappings_from_percentiles(tmp_path):
    """scripts/calibrate_toxicity.py (``blinasim calibrate toxicity``) end to end on 3 short runs:
    three recorded steps, the IL-6 gain scaled by the grade-1 threshold over the 86th percentile
    of step 1's peaks, and mappings whose grade-3 levels are the 97th (CRS) and 85th
    (neurotoxicity) percentiles of step 2's peaks."""
    import json

    out = tmp_path / "stage7.json"
    proc = script("calibrate_toxicity.py", "--n", "3", "--seed", "5", "--workers", "1", "--set",
                  "simulation.days=8", "--json", str(out), cwd=tmp_path)  # fmt: skip
    rec = json.loads(out.read_text())
    assert [s["step"][0] for s in rec["steps"]] == ["1", "2", "3"]
    assert rec["overrides"] == {"simulation.days": 8}
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
    assert proc.stdout.splitlines()[0].startswith("1: current settings (")


def test_rr_scan_script_reports_cr_crh_and_the_peak_signals(tmp_path):
    """scripts/calibrate_rr_scan.py (``blinasim calibrate scan``) end to end on 2 short runs with an
    override: the JSON holds the overrides, each patient's cycle-1 peak CRS signal and CR/CRh, and
    the printed CRS rate is the share of peaks at or above the grade-1 threshold."""
    import json

    out = tmp_path / "scan.json"
    proc = script("calibrate_rr_scan.py", "--n", "2", "--seed", "5", "--workers", "1", "--json", str(out),
                  "--set", "tcells.treg_suppression_half=0.03", "--set", "simulation.days=8", cwd=tmp_path)  # fmt: skip
    rec = json.loads(out.read_text())
    assert rec["overrides"] == {"tcells.treg_suppression_half": 0.03, "simulation.days": 8}
    assert len(rec["peaks"]) == len(rec["cr_crh"]) == 2 and all(p > 0 for p in rec["peaks"])
    grade1 = load_config(None).toxicity.crs_il6_thresholds_pg_per_ml[0]
    assert f"CRS any grade {np.mean(np.array(rec['peaks']) >= grade1):.3f}" in proc.stdout
    assert len(proc.stdout.splitlines()) == 2 + 7  # CR/CRh, CRS, seven quantiles


def test_chemotherapy_script_pools_cohorts_each_on_its_own_seed(tmp_path):
    """scripts/calibrate_chemotherapy.py with ``--seed`` given twice: the record names both seeds, the
    pooled CR/CRh/CRi is the mean of the cohorts' (equal sizes), and each cohort's runs are, patient by
    patient, what that cohort gives run alone on its seed; a repeated seed is refused with one message."""
    import json
    import subprocess
    import sys

    args = ["--n", "2", "--workers", "1", "--scales", "0.5", "--hazards", "0.001", "--fit-hazard", "0.001"]
    pooled, alone = tmp_path / "pooled.json", tmp_path / "alone.json"
    proc = script("calibrate_chemotherapy.py", *args, "--seed", "5", "--seed", "6", "--out", str(pooled), cwd=tmp_path)
    script("calibrate_chemotherapy.py", *args, "--seed", "6", "--out", str(alone), cwd=tmp_path)
    rec, one = json.loads(pooled.read_text()), json.loads(alone.read_text())
    assert rec["seeds"] == [5, 6] and one["seeds"] == [6] and rec["n"] == 2
    (row,), (row6,) = rec["scan"], one["scan"]
    by_seed = row["cr_crh_cri_by_seed"]
    assert set(by_seed) == {"5", "6"} and "cr_crh_cri_by_seed" not in row6
    assert row["cr_crh_cri"] == pytest.approx((by_seed["5"] + by_seed["6"]) / 2, abs=1e-12)
    assert by_seed["6"] == pytest.approx(row6["cr_crh_cri"], abs=1e-12)
    # Patient by patient: the second cohort's runs in the pooled scan are the runs of that cohort alone.
    assert [r for r in rec["runs"] if r["seed"] == 6] == one["runs"]
    assert [r["seed"] for r in rec["runs"]] == [5, 5, 6, 6]
    assert [r for r in rec["runs"] if r["seed"] == 5] != one["runs"]
    assert "CR/CRh/CRi by cohort: seed 5 " in proc.stdout
    refused = subprocess.run(
        [sys.executable, str(SCRIPTS / "calibrate_chemotherapy.py"), "--seed", "7", "--seed", "7"],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.strip() == "error: --seed 7 given more than once: give each cohort's seed once"


def test_course_settings_of_a_survival_scan_are_checked():
    """Stage 8's sensitivities take ``KEY=NUMBER`` course settings; anything else gets one message naming
    the item and what is allowed."""
    from blinasim.trials.calibration.survival import course_settings

    assert course_settings(["course.regrowth_log_sd=1", "course.trm_mean_days=365"]) == {
        "course.regrowth_log_sd": 1.0,
        "course.trm_mean_days": 365.0,
    }
    with pytest.raises(
        ValueError, match="'patient.weight_kg' is not a course setting; one of .*course.trm_probability"
    ):
        course_settings(["patient.weight_kg=70"])
    with pytest.raises(ValueError, match="expected course.trm_probability=NUMBER"):
        course_settings(["course.trm_probability=high"])

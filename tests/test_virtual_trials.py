"""Virtual trials through the experiment machinery: the cohort sampler, the trial experiments and their report."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import blinasim
from blinasim.clinical.endpoints import RUN_SCALARS
from blinasim.core.seeds import run_seed
from blinasim.experiments.experiment import Experiment, ExperimentError
from blinasim.experiments.report import make_report
from blinasim.experiments.store import open_results, run_config
from blinasim.experiments.sweep import InProcessExecutor
from blinasim.trials.cohort import COHORTS, draw_cohort
from blinasim.trials.trial import TRIAL_SETTINGS, cohort_settings, rates, run_cohorts

ROOT = Path(__file__).resolve().parents[1]


def cohort_experiment(sampler: dict, base: dict | None = None, arms: list | None = None, seed: int = 5) -> dict:
    data = {"experiment": {"name": "trial", "seed": seed}, "base": base or {}, "sampler": sampler}
    if arms is not None:
        data["arm"] = arms
    return data


def problems(data: dict) -> list[str]:
    with pytest.raises(ExperimentError) as info:
        Experiment.from_dict(data)
    return info.value.problems


@pytest.mark.parametrize("name", sorted(COHORTS))
def test_cohort_sampler_draws_the_patients_of_cohort_py(name):
    exp = Experiment.from_dict(cohort_experiment({"method": "cohort", "cohort": name, "n": 5}, seed=42))
    plan = exp.plan
    spec = COHORTS[name]
    assert plan.n_samples == 5 and plan.n_runs == 5
    assert plan.parameters == [a.key for a in spec.attributes]
    patients = draw_cohort(name, 5, 42)  # the draw seed is the root seed
    for s, patient in enumerate(patients):
        overrides = plan.overrides(0, s)
        assert overrides == {k: patient[k] for k in plan.parameters}
        config = plan.config_dict(0, s)
        # Fixed cohort settings and the trial's simulation settings reach every patient through the base.
        for key, value in {**patient, **cohort_settings(name)}.items():
            node = config
            for part in key.split("."):
                node = node[part]
            assert node == value, key
    assert cohort_settings(name) == {**spec.fixed, **TRIAL_SETTINGS[name]}


def test_cohort_is_reproducible_from_the_root_seed():
    def rows(root_seed, **sampler):
        plan = Experiment.from_dict(
            cohort_experiment({"method": "cohort", "cohort": "blast", "n": 4, **sampler}, seed=root_seed)
        ).plan
        return plan.samples.rows, plan.fingerprint

    a, fa = rows(3)
    b, fb = rows(3)
    c, fc = rows(4)
    assert a == b and fa == fb
    assert a != c and fa != fc
    # sampler.seed draws other patients; the run seeds still come from the root seed.
    d, fd = rows(3, seed=4)
    assert d == c and fd not in (fa, fc)


def test_cohort_sampler_bad_inputs_are_named():
    p = problems(cohort_experiment({"method": "cohort", "cohort": "mt103_212", "n": 3}))
    assert len(p) == 1
    assert "sampler.cohort = 'mt103_212': unknown cohort" in p[0]
    assert "'mt103_211'" in p[0] and "'blast'" in p[0]

    p = problems(cohort_experiment({"method": "cohort", "cohort": "blast", "n": 0}))
    assert p == ["sampler.n = 0: Input should be greater than or equal to 1"]

    p = problems(cohort_experiment({"method": "cohort", "cohort": "blast"}))
    assert p == ["sampler.n: required with method = 'cohort' (the number of virtual patients, >= 1)"]

    p = problems(cohort_experiment({"method": "cohort", "n": 3}))
    assert len(p) == 1 and p[0].startswith("sampler.cohort: required with method = 'cohort'; known cohorts:")

    sampler = {
        "method": "cohort",
        "cohort": "blast",
        "n": 3,
        "levels": 4,
        "file": "x.csv",
        "parameters": {"patient.t_cells_per_ul": {"low": 100.0, "high": 900.0}},
    }
    p = problems(cohort_experiment(sampler))
    allowed = "allowed keys with method = 'cohort': method, cohort, n, seed"
    assert len(p) == 3 and all(allowed in line for line in p)
    assert any(line.startswith("sampler.levels = 4: not used with method = 'cohort'") for line in p)
    assert any(line.startswith("sampler.file = 'x.csv': not used") for line in p)
    assert any(line.startswith("sampler.parameters = {'patient.t_cells_per_ul'") for line in p)

    p = problems(
        {
            "experiment": {"seed": 1},
            "sampler": {
                "method": "lhs",
                "n": 2,
                "cohort": "blast",
                "parameters": {"patient.weight_kg": {"low": 50.0, "high": 90.0}},
            },
        }
    )
    assert p == ["sampler.cohort = 'blast': only used with method = 'cohort', not 'lhs'"]

    # An arm may not set a drawn attribute: that is the sampler's.
    p = problems(
        cohort_experiment(
            {"method": "cohort", "cohort": "blast", "n": 2}, arms=[{"name": "x", "patient.t_cells_per_ul": 300.0}]
        )
    )
    assert p == ["arm 'x' and the sampler both set patient.t_cells_per_ul; set each key in one place"]


def test_base_and_arms_override_the_trial_settings():
    exp = Experiment.from_dict(
        cohort_experiment(
            {"method": "cohort", "cohort": "mt103_211", "n": 2},
            base={"simulation": {"days": 3.0}, "treatment.cycles": 1},
            arms=[{"name": "step_up"}, {"name": "flat", "treatment.regimen": "flat"}],
        )
    )
    plan = exp.plan
    assert plan.base["simulation"]["days"] == 3.0 and plan.base["treatment"]["cycles"] == 1
    assert plan.base["simulation"]["lattice_size"] == TRIAL_SETTINGS["mt103_211"]["simulation.lattice_size"]
    assert plan.config(0, 1).treatment.regimen == "rr_step_up"
    assert plan.config(1, 1).treatment.regimen == "flat"
    assert plan.overrides(1, 1)["patient.t_cells_per_ul"] == plan.overrides(0, 1)["patient.t_cells_per_ul"]
    assert "simulation.days=3.0 (cohort: 84.0, set in [base])" in plan.summary()


@pytest.mark.parametrize("name", ["mt103_211", "blast"])
def test_trial_experiments_validate(name):
    exp = Experiment.from_toml(ROOT / "experiments" / f"{name}.toml")
    plan = exp.plan
    assert exp.spec.sampler.method == "cohort" and exp.spec.sampler.cohort == name
    assert plan.n_samples == 200 and plan.replicates == 1
    patients = draw_cohort(name, 200, plan.root_seed)
    # Every run is the run_cohorts patient with the same seed: same config (the run seed is passed
    # separately in both routes) and same run seed.
    for s in (0, 199):
        ours = plan.config(0, s).model_dump()
        theirs = blinasim.load_config(None, {**patients[s], **TRIAL_SETTINGS[name]}).model_dump()
        ours["simulation"].pop("seed"), theirs["simulation"].pop("seed")
        assert ours == theirs
        assert plan.seed(s, 0) == run_seed(plan.root_seed, s, 0)
    regimen = {"mt103_211": "rr_step_up", "blast": "mrd"}[name]
    cycles = {"mt103_211": 2, "blast": 1}[name]
    cfg = plan.config(0, 0)
    assert cfg.treatment.regimen == regimen and cfg.treatment.cycles == cycles


def test_a_sweep_runs_the_same_simulations_as_run_cohorts(tmp_path):
    """A tiny MT103-211 cohort (2 patients, 2 days): the sweep's endpoints equal run_cohorts' for the same seed."""
    seed = 13
    text = f"""
[experiment]
name = "tiny_trial"
seed = {seed}

[base]
simulation.days = 2.0

[sampler]
method = "cohort"
cohort = "mt103_211"
n = 2
"""
    path = tmp_path / "trial.toml"
    path.write_text(text)
    store = tmp_path / "trial.zarr"
    result = Experiment.from_toml(path).run(store, executor=InProcessExecutor(), progress=False)
    assert result.ok
    ds = open_results(store)

    patients = draw_cohort("mt103_211", 2, seed)
    direct = run_cohorts({"mt103_211": patients}, seed, {"simulation.days": 2.0}, workers=1)
    for s, row in enumerate(direct):
        assert int(ds.run_seed.values[s, 0]) == run_seed(seed, s, 0)
        assert run_config(ds, 0, s).simulation.lattice_size == TRIAL_SETTINGS["mt103_211"]["simulation.lattice_size"]
        for name in RUN_SCALARS:
            stored = ds[name].values[0, s, 0]
            stored = str(stored) if isinstance(row[name], str) else float(stored)
            if isinstance(stored, float) and math.isnan(stored):
                assert math.isnan(row[name]), name
            else:
                assert stored == row[name], name
        # Whole time courses too, not just the (mostly not yet assessable) endpoints of a 2-day run.
        config = blinasim.load_config(None, {**patients[s], **TRIAL_SETTINGS["mt103_211"], "simulation.days": 2.0})
        again = blinasim.simulate(config, seed=run_seed(seed, s, 0))
        np.testing.assert_array_equal(ds.mrd.values[0, s, 0], again.mrd.values)
        np.testing.assert_array_equal(ds.t_cells.values[0, s, 0], again.t_cells.values)
        # The 2-year clinical course of the trial's plan comes with every run (course.plan from the
        # trial settings), stored with its coded causes.
        assert again.course_time.values[-1] == pytest.approx(730.0)
        np.testing.assert_array_equal(ds.course_mrd.values[0, s, 0], again.course_mrd.values)
    assert ds.event_cause.attrs["flag_meanings"].split()[0] == "none"

    # The report gives the trial's rates with Wilson intervals, the same counts as trial.rates.
    rep = make_report(store, tmp_path / "rep", formats=("png",), variables=["mrd"])
    assert rep.trial is not None and rep.cohort == "mt103_211"
    want = rates(direct, "mt103_211")
    for name in ("crs_any", "crs_grade3"):
        row = rep.trial.set_index("endpoint").loc[name]
        assert (row.events, row.n) == (want[name].successes, want[name].n)
        assert row.ci_low == pytest.approx(want[name].ci95[0], abs=1e-12)
        assert row.ci_high == pytest.approx(want[name].ci95[1], abs=1e-12)
    crs3 = rep.trial.set_index("endpoint").loc["crs_grade3"]
    assert crs3.target == pytest.approx(0.03)
    text = (tmp_path / "rep" / "summary.md").read_text()
    assert "## Virtual trial 'mt103_211': rates per arm (95% Wilson interval)" in text
    assert (tmp_path / "rep" / "trial_rates.csv").is_file() and (tmp_path / "rep" / "trial_strata.csv").is_file()
    strata = rep.strata
    assert set(strata.attribute) == {a.key for a in COHORTS["mt103_211"].attributes}
    assert (strata.groupby(["attribute", "endpoint", "arm"]).n.sum() == 2).all()
    meta = json.loads(ds.attrs["sampler"])
    assert meta["method"] == "cohort" and meta["cohort"] == "mt103_211" and meta["seed"] == seed
    # The drawn attributes are sample coordinates of the store.
    for key in meta["parameters"]:
        assert list(ds[key].values) == [p[key] for p in patients]


# ------------------------------------------------------------ the verification scripts, end to end


def run_script(name: str, *args: str, cwd: Path):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / name), *args], check=True, capture_output=True, text=True, cwd=cwd
    )


@pytest.fixture(scope="module")
def verification(tmp_path_factory):
    """scripts/virtual_trial.py (``blinasim calibrate verify``) on 2 + 2 patients (the MT103-211-like
    ones followed for 30 days) on two local worker processes: its JSON and what it printed."""
    d = tmp_path_factory.mktemp("verify")
    out = d / "trial.json"
    proc = run_script(
        "virtual_trial.py", "--n", "2", "--seed", "7", "--workers", "2", "--set", "simulation.days=30",
        "--json", str(out), cwd=d,
    )  # fmt: skip
    return json.loads(out.read_text()), proc.stdout, d


def test_virtual_trial_script_prints_a_verdict_for_every_claimed_endpoint(verification):
    from blinasim.trials.calibration import CLAIMED, TARGET_BY_NAME, TARGETS, score, summarise

    data, stdout, _ = verification
    assert stdout.startswith("4 virtual patients in ")
    assert "(seed 7, overrides {'simulation.days': 30})" in stdout.splitlines()[0]
    patients = data["patients"]
    assert [(p["trial"], p["patient"]) for p in patients] == [
        ("mt103_211", 0),
        ("mt103_211", 1),
        ("blast", 0),
        ("blast", 1),
    ]
    for p in patients:  # each patient carries the attributes it was drawn with
        assert p["attributes"] == draw_cohort(p["trial"], 2, 7)[p["patient"]]
    assert {p["follow_up_day"] for p in patients} == {30.0}
    lines = stdout.splitlines()
    for trial in ("mt103_211", "blast"):
        block = lines[lines.index(f"{trial}:") + 1 :]
        block = block[: block.index("")]  # the trial's table: a header, a rule, one row per endpoint
        assert block[0].split()[:2] == ["endpoint", "rate"] and set(block[1]) == {"-"}
        for name, rate in rates(patients, trial).items():
            key = f"{trial}.{name}"
            e = data["endpoints"][key]
            assert (e["value"], e["n"]) == (pytest.approx(rate.value, nan_ok=True), rate.n)
            assert e["ci95"] == pytest.approx(list(rate.ci95), nan_ok=True)
            row = next(line for line in block if line.split()[0] == name)
            assert str(rate) in row
            if (trial, name) in CLAIMED:
                target = TARGET_BY_NAME[name].value
                inside = e["ci95"][0] <= target <= e["ci95"][1]
                assert e["target"] == target
                assert row.endswith(("inside" if inside else "MISS") + f" (trial {target:.2f})")
            else:
                assert e["target"] is None and "(trial" not in row
    # The other targets from the same patients, counted with the same endpoint definitions.
    assert list(data["targets"]) == [t.name for t in TARGETS]
    values = summarise(patients, [])
    for t in TARGETS:
        if t.trial:
            assert data["targets"][t.name] == pytest.approx(values[t.name], nan_ok=True)
    assert data["targets"]["crs_any"] == pytest.approx(rates(patients, "mt103_211")["crs_any"].value, nan_ok=True)
    total, misses = score(data["targets"])
    assert data["score"] == pytest.approx(total) and f"  score {total:.1f}" in lines
    assert data["misses"] == pytest.approx(misses, nan_ok=True)
    assert set(data["treg_split"]) == {"responders_below", "nonresponders_above", "response_below", "response_above"}
    assert any(line.startswith("regulatory T-cells, MT103-211-like (Duell 2017") for line in lines)


def test_validation_figures_script_draws_the_figures_of_the_verification(verification):
    data, _, d = verification
    calibration = d / "search.json"
    calibration.write_text(
        json.dumps(
            {"records": [{"values": {"cr_crh": 0.3 + 0.1 * k, "mrd_response": 0.6 + 0.05 * k}} for k in range(3)]}
        )
    )
    out = d / "figures"
    proc = run_script("validation_figures.py", str(d / "trial.json"), "--out", str(out), "--calibration",
                      str(calibration), cwd=d)  # fmt: skip
    assert proc.stdout.strip() == f"wrote figures to {out}"
    stems = ("validation_targets", "calibration_cr_vs_mrd")
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{s}.{e}" for s in stems for e in ("png", "svg"))
    for stem in stems:
        assert (out / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert "<svg" in (out / f"{stem}.svg").read_text()[:2000]
    # The target panel names each claimed endpoint and the score.
    svg = (out / "validation_targets.svg").read_text()
    assert f"all calibration targets, score {data['score']:.1f}" in svg

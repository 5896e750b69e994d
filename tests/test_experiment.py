"""Experiment files: validation before anything runs, samplers, seeds."""

from __future__ import annotations

import numpy as np
import pytest

import blinasim
import blinasim.experiments.sweep
from blinasim.core.seeds import run_seed
from blinasim.experiments.experiment import Experiment, ExperimentError
from tests.sweep_helpers import TINY_BASE, experiment_text, write_experiment


def load(tmp_path, **kwargs) -> Experiment:
    return Experiment.from_toml(write_experiment(tmp_path, **kwargs))


def problems(tmp_path, **kwargs) -> str:
    with pytest.raises(ExperimentError) as info:
        load(tmp_path, **kwargs)
    return "\n".join(info.value.problems)


# ------------------------------------------------------------------ valid


def test_plan_of_a_grid_experiment(tmp_path):
    exp = load(tmp_path)
    plan = exp.plan
    assert [a.name for a in plan.arms] == ["step_up", "flat"]
    assert plan.n_samples == 2 and plan.replicates == 2 and plan.n_runs == 8
    assert plan.parameters == ["patient.t_cells_per_ul"]
    cfg = plan.config(1, 1)
    assert cfg.treatment.regimen == "flat" and cfg.patient.t_cells_per_ul == 900.0
    assert cfg.simulation.days == 0.5 and cfg.simulation.lattice_size == 16
    assert cfg.simulation.seed == 11  # the root seed
    # Arms of one (sample, replicate) are adjacent in submission order.
    assert plan.runs()[:2] == [(0, 0, 0), (1, 0, 0)]


def test_run_seeds_come_from_root_sample_and_replicate_never_the_arm(tmp_path):
    plan = load(tmp_path).plan
    for s in range(plan.n_samples):
        for r in range(plan.replicates):
            assert plan.seed(s, r) == run_seed(11, s, r)
    seeds = {plan.seed(s, r) for s in range(2) for r in range(2)}
    assert len(seeds) == 4
    # Without a sampler, sample 0 / replicate 0 is exactly `blinasim run` with the root seed.
    exp = load(tmp_path, sampler="")
    assert exp.plan.seed(0, 0) == run_seed(exp.plan.base["simulation"]["seed"])


def test_base_file_and_inline_keys_and_default_root_seed(tmp_path):
    (tmp_path / "base.toml").write_text("[simulation]\nseed = 99\ndays = 3.0\n[patient]\nweight_kg = 60.0\n")
    text = experiment_text(base='[base]\nfile = "base.toml"\nsimulation.days = 0.5\n', sampler="", arms="")
    text = text.replace("seed = 11\n", "")
    (tmp_path / "exp.toml").write_text(text)
    exp = Experiment.from_toml(tmp_path / "exp.toml")
    assert exp.plan.root_seed == 99
    cfg = exp.plan.config(0, 0)
    assert cfg.simulation.days == 0.5 and cfg.patient.weight_kg == 60.0
    assert [a.name for a in exp.plan.arms] == ["base"]


def test_quoted_and_nested_keys_are_the_same(tmp_path):
    a = load(tmp_path, arms='[[arm]]\nname = "x"\n"treatment.regimen" = "flat"\n')
    b = load(tmp_path, arms='[[arm]]\nname = "x"\n[arm.treatment]\nregimen = "flat"\n')
    assert a.plan.arms == b.plan.arms
    assert a.plan.fingerprint == b.plan.fingerprint


def test_grid_is_the_product_of_its_axes(tmp_path):
    sampler = """
    [sampler]
    method = "grid"
    [sampler.parameters]
    "patient.t_cells_per_ul" = { low = 100.0, high = 1000.0, num = 3, scale = "log" }
    "patient.marrow_blast_fraction" = { values = [0.2, 0.5] }
    "treatment.cycles" = { values = [1, 2] }
    """
    plan = load(tmp_path, sampler=sampler).plan
    assert plan.n_samples == 12
    t = sorted({row[0] for row in plan.samples.rows})
    assert np.allclose(t, [100.0, 316.227766, 1000.0])
    assert {row[2] for row in plan.samples.rows} == {1, 2}


def test_latin_hypercube_stratifies_and_is_reproducible(tmp_path):
    sampler = """
    [sampler]
    method = "lhs"
    n = 10
    [sampler.parameters]
    "patient.marrow_blast_fraction" = { low = 0.0, high = 1.0 }
    "treatment.cycles" = { low = 1, high = 4 }
    """
    a = load(tmp_path, sampler=sampler).plan.samples
    b = load(tmp_path, sampler=sampler).plan.samples
    assert a.rows == b.rows
    x = np.array([row[0] for row in a.rows])
    assert sorted(np.floor(x * 10).astype(int)) == list(range(10))  # one point per stratum
    assert all(isinstance(row[1], int) and 1 <= row[1] <= 4 for row in a.rows)
    c = load(tmp_path, sampler=sampler.replace("n = 10", "n = 10\nseed = 5")).plan.samples
    assert c.rows != a.rows


def test_random_log_scale_stays_in_bounds(tmp_path):
    sampler = """
    [sampler]
    method = "random"
    n = 200
    [sampler.parameters]
    "patient.t_cells_per_ul" = { low = 10.0, high = 10000.0, scale = "log" }
    """
    samples = load(tmp_path, sampler=sampler).plan.samples
    x = np.array([row[0] for row in samples.rows])
    assert x.min() >= 10.0 and x.max() <= 10000.0
    # Log-uniform: about a third of the draws in each decade.
    assert 0.2 < np.mean(x < 100.0) < 0.47
    assert np.allclose(samples.design[:, 0], np.log10(x))


def test_sobol_and_morris_sizes(tmp_path):
    params = """
    [sampler.parameters]
    "patient.t_cells_per_ul" = { low = 200.0, high = 1200.0 }
    "tcells.lysis_probability" = { low = 0.2, high = 0.9 }
    "patient.marrow_blast_fraction" = { low = 0.1, high = 0.9 }
    """
    sobol = load(tmp_path, sampler='[sampler]\nmethod = "sobol"\nn = 8\n' + params).plan
    assert sobol.n_samples == 8 * (3 + 2)
    sobol2 = load(tmp_path, sampler='[sampler]\nmethod = "sobol"\nn = 8\nsecond_order = true\n' + params).plan
    assert sobol2.n_samples == 8 * (2 * 3 + 2)
    morris = load(tmp_path, sampler='[sampler]\nmethod = "morris"\nn = 4\nlevels = 4\n' + params).plan
    assert morris.n_samples == 4 * (3 + 1)
    assert morris.samples.design.shape == (16, 3)


def test_csv_samples_with_labels(tmp_path):
    (tmp_path / "patients.csv").write_text(
        "label,patient.t_cells_per_ul,patient.marrow_blast_fraction,treatment.regimen\n"
        "p1,300,0.5,flat\n"
        "# a comment line\n"
        "p2,1200.5,0.1,rr_step_up\n"
    )
    exp = load(tmp_path, arms="", sampler='[sampler]\nmethod = "csv"\nfile = "patients.csv"\n')
    plan = exp.plan
    assert plan.n_samples == 2 and plan.samples.labels == ["p1", "p2"]
    cfg = plan.config(0, 1)
    assert cfg.patient.t_cells_per_ul == 1200.5 and cfg.treatment.regimen == "rr_step_up"
    assert plan.config(0, 0).patient.t_cells_per_ul == 300.0


def test_experiment_from_dict_mirrors_from_toml(tmp_path):
    import tomllib

    text = experiment_text()
    a = Experiment.from_dict(tomllib.loads(text), tmp_path)
    b = Experiment.from_toml(write_experiment(tmp_path))
    assert a.plan.fingerprint == b.plan.fingerprint


def test_fingerprint_ignores_output_execution_and_description(tmp_path):
    a = load(tmp_path).plan.fingerprint
    b = load(tmp_path, extra='[output]\nstore = "x.zarr"\n[execution]\nworkers = 1\n').plan.fingerprint
    c = load(tmp_path, seed=12).plan.fingerprint
    assert a == b and a != c


# ---------------------------------------------------------------- invalid


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        (
            {
                "sampler": '[sampler]\nmethod = "lhs"\nn = 4\n[sampler.parameters]\n"patient.t_cell_per_ul" = { low = 1.0, high = 2.0 }\n'
            },
            ["unknown parameter path 'patient.t_cell_per_ul'", "t_cells_per_ul"],
        ),
        (
            {
                "sampler": '[sampler]\nmethod = "lhs"\nn = 4\n[sampler.parameters]\n"patient.t_cells_per_ul" = { low = 900.0, high = 300.0 }\n'
            },
            ["patient.t_cells_per_ul", "low = 900.0 is greater than high = 300.0"],
        ),
        (
            {
                "sampler": '[sampler]\nmethod = "sobol"\nn = 12\n[sampler.parameters]\n"patient.t_cells_per_ul" = { low = 300.0, high = 900.0 }\n'
            },
            ["sampler.n = 12", "power of two", "8 or 16"],
        ),
        (
            {"arms": '[[arm]]\nname = "flat"\ntreatment.regimn = "flat"\n'},
            ["arm 'flat'", "unknown key 'treatment.regimn'", "allowed keys in treatment", "regimen"],
        ),
        (
            {"arms": '[[arm]]\nname = "flat"\ncolour = "red"\n'},
            ["arm 'flat'", "unknown key 'colour'"],
        ),
        (
            {"arms": '[[arm]]\nname = "weekly"\ntreatment.regimen = "weekly"\n'},
            ["arm 'weekly'", "treatment.regimen = 'weekly'", "rr_step_up"],
        ),
        (
            {"arms": '[[arm]]\nname = "short"\nsimulation.days = 0.25\n'},
            ["arm 'short'", "simulation.days = 0.25", "time grid"],
        ),
        (
            {"arms": '[[arm]]\nname = "s"\nsimulation.seed = 4\n'},
            ["simulation.seed", "experiment.seed"],
        ),
        (
            {
                "sampler": '[sampler]\nmethod = "lhs"\nn = 4\n[sampler.parameters]\n"simulation.days" = { low = 0.5, high = 1.0 }\n'
            },
            ["simulation.days", "time grid"],
        ),
        (
            {
                "sampler": '[sampler]\nmethod = "lhs"\nn = 4\n[sampler.parameters]\n"patient.marrow_blast_fraction" = { low = 0.5, high = 1.5 }\n'
            },
            ["'patient.marrow_blast_fraction'.high", "less than or equal to 1"],
        ),
        (
            {
                "sampler": '[sampler]\nmethod = "sobol"\nn = 8\n[sampler.parameters]\n"treatment.regimen" = { values = ["flat", "rr_step_up"] }\n'
            },
            ["sobol needs a numeric range"],
        ),
        (
            {
                "sampler": '[sampler]\nmethod = "lhs"\nn = 4\n[sampler.parameters]\n"treatment.regimen" = { low = 1.0, high = 2.0 }\n'
            },
            ["low/high need a numeric parameter", "'flat'"],
        ),
        (
            {
                "sampler": '[sampler]\nmethod = "morris"\nn = 4\nlevels = 3\n[sampler.parameters]\n"patient.t_cells_per_ul" = { low = 300.0, high = 900.0 }\n'
            },
            ["levels = 3", "even"],
        ),
        (
            {
                "sampler": '[sampler]\nmethod = "lhs"\n[sampler.parameters]\n"patient.t_cells_per_ul" = { low = 3.0, high = 9.0 }\n'
            },
            ["sampler.n: required"],
        ),
        ({"sampler": '[sampler]\nmethod = "latin"\n'}, ["sampler.method = 'latin'", "lhs"]),
        (
            {"sampler": '[sampler]\nmethod = "csv"\nfile = "nope.csv"\n'},
            ["sampler.file = 'nope.csv'", "does not exist"],
        ),
        (
            {"arms": '[[arm]]\nname = "flat"\n"patient.t_cells_per_ul" = 500.0\n'},
            ["arm 'flat' and the sampler both set patient.t_cells_per_ul"],
        ),
        ({"arms": '[[arm]]\nname = "a"\n[[arm]]\nname = "a"\n'}, ["duplicate arm name"]),
        ({"arms": '[[arm]]\ntreatment.regimen = "flat"\n'}, ["'name' is required"]),
        ({"extra": "[sweep]\nworkers = 2\n"}, ["unknown key 'sweep'", "allowed top-level keys"]),
        ({"extra": "[patient]\nweight_kg = 50.0\n"}, ["unknown key 'patient'", "config keys go under [base]"]),
        ({"extra": "[execution]\nwrokers = 2\n"}, ["unknown key 'execution.wrokers'", "workers"]),
        ({"base": "[base]\npatient.weight_kg = -3.0\n"}, ["base: patient.weight_kg = -3.0", "greater than 2"]),
        (
            {"extra": '[[inject_failure]]\narm = "nope"\nsample = 0\n'},
            ["inject_failure: arm = 'nope' is not an arm"],
        ),
    ],
)
def test_invalid_experiments_fail_before_anything_runs(tmp_path, monkeypatch, kwargs, fragments):
    def forbidden(*args, **kw):  # pragma: no cover - the point is that it is never called
        raise AssertionError("simulate() was called for an invalid experiment")

    monkeypatch.setattr(blinasim.experiments.sweep, "simulate", forbidden)
    text = problems(tmp_path, **kwargs)
    for fragment in fragments:
        assert fragment in text, (fragment, text)


def test_every_problem_is_reported_at_once(tmp_path):
    text = problems(
        tmp_path,
        arms='[[arm]]\nname = "a"\ntreatment.regimn = "flat"\n[[arm]]\nname = "b"\npatient.wieght_kg = 3.0\n',
        extra="[execution]\nwrokers = 2\n",
    )
    assert "treatment.regimn" in text and "patient.wieght_kg" in text and "execution.wrokers" in text


def test_invalid_sampled_configs_are_listed_with_their_sample(tmp_path):
    # Each bound alone is valid, but the regimen 'custom' needs a schedule.
    text = problems(
        tmp_path,
        sampler='[sampler]\nmethod = "grid"\n[sampler.parameters]\n"treatment.regimen" = { values = ["flat", "custom"] }\n',
        arms="",
    )
    assert "regimen 'custom' needs treatment.schedule" in text


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(ExperimentError, match="does not exist"):
        Experiment.from_toml(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[experiment\nname = 1\n")
    with pytest.raises(ExperimentError, match="not valid TOML"):
        Experiment.from_toml(bad)


def test_tiny_base_is_tiny():
    assert "lattice_size = 16" in TINY_BASE

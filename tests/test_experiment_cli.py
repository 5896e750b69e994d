"""End to end: `blinasim sweep`, `status`, `report` and `export` in a subprocess, like a user."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from blinasim import terminal
from blinasim.experiments.experiment import Experiment
from blinasim.experiments.store import DONE, open_results, read_status
from tests.conftest import CLI_ERROR
from tests.sweep_helpers import write_experiment

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p for p in (ROOT / "experiments").glob("*.toml") if "[experiment]" in p.read_text())


def blinasim(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "blinasim.cli", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def cli(*args):
    """The command line in this process (fast; the subprocess tests above cover the real thing)."""
    from typer.testing import CliRunner

    from blinasim.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def assert_bad_input(proc, *fragments):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert CLI_ERROR.match(proc.stderr), proc.stderr
    for fragment in fragments:
        assert fragment in proc.stderr, (fragment, proc.stderr)


def test_sweep_status_report_export(tmp_path):
    exp = write_experiment(tmp_path, replicates=1)
    store = tmp_path / "s.zarr"
    proc = blinasim("sweep", exp, "--out", store, "--workers", "2", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    assert "4 done, 0 failed" in proc.stdout
    assert (read_status(store) == DONE).all()

    proc = blinasim("status", store)
    assert proc.returncode == 0, proc.stderr
    assert "experiment 'tiny', 4 runs: 4 done, 0 failed, 0 pending" in proc.stdout
    assert "step_up" in proc.stdout and "flat" in proc.stdout

    report_dir = tmp_path / "rep"
    proc = blinasim("report", store, "--out", report_dir, "--variables", "mrd,blasts", "--formats", "png,svg")
    assert proc.returncode == 0, proc.stderr
    assert "Endpoints per arm" in proc.stdout and "final_marrow_blast_fraction" in proc.stdout
    assert (report_dir / "timecourse_mrd.svg").exists() and (report_dir / "timecourse_blasts.png").exists()
    # The file is the report's Markdown; what the terminal got is that text with its tables drawn (plain in a pipe).
    summary = (report_dir / "summary.md").read_text()
    assert "## Endpoints per arm" in summary and "| endpoint | arm |" in summary
    assert proc.stdout == terminal.render(terminal.print_markdown, summary)
    assert "\x1b[" not in proc.stdout and "|---|" not in proc.stdout

    out = tmp_path / "all.nc"
    proc = blinasim("export", store, "--out", out)
    assert proc.returncode == 0, proc.stderr
    nc = xr.open_dataset(out)
    assert np.array_equal(nc.mrd.values, open_results(store).mrd.values, equal_nan=True)
    assert_bad_input(blinasim("export", store, "--out", out), "already exists")


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path):
    exp = write_experiment(tmp_path)
    proc = cli("sweep", exp, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "2 arm(s) x 2 sample(s) x 2 replicate(s) = 8 runs" in proc.stdout
    assert "arm 'flat': treatment.regimen='flat'" in proc.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp.toml"]


def test_failed_runs_give_exit_status_1_and_are_listed(tmp_path):
    extra = '[[inject_failure]]\narm = "flat"\nsample = 0\nreplicate = 0\nmessage = "injected for the cli"\n'
    exp = write_experiment(tmp_path, replicates=1, extra=extra)
    store = tmp_path / "s.zarr"
    proc = blinasim("sweep", exp, "--out", store, "--workers", "1", "--no-progress")
    assert proc.returncode == 1, proc.stderr
    assert "3 done, 1 failed" in proc.stdout
    assert "arm 'flat', sample 0, replicate 0: RuntimeError: injected for the cli" in proc.stdout
    proc = blinasim("status", store)
    assert "RuntimeError: injected for the cli" in proc.stdout
    assert_bad_input(blinasim("export", store, "--out", tmp_path / "x.nc"), "not finished", "--allow-incomplete")
    assert not (tmp_path / "x.nc").exists()


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        (
            {
                "sampler": '[sampler]\nmethod = "lhs"\nn = 2\n[sampler.parameters]\n"patient.t_cell_per_ul" = { low = 1.0, high = 2.0 }\n'
            },
            ["invalid experiment", "unknown parameter path 'patient.t_cell_per_ul'"],
        ),
        (
            {
                "sampler": '[sampler]\nmethod = "sobol"\nn = 6\n[sampler.parameters]\n"patient.t_cells_per_ul" = { low = 9.0, high = 3.0 }\n'
            },
            ["power of two", "low = 9.0 is greater than high = 3.0"],
        ),
        ({"arms": '[[arm]]\nname = "x"\ntreatment.regimn = "flat"\n'}, ["arm 'x': unknown key 'treatment.regimn'"]),
    ],
)
def test_invalid_experiments_exit_2_before_anything_runs(tmp_path, kwargs, fragments):
    exp = write_experiment(tmp_path, **kwargs)
    assert_bad_input(cli("sweep", exp, "--out", tmp_path / "s.zarr", "--no-progress"), *fragments)
    assert not (tmp_path / "s.zarr").exists()


def test_bad_options_and_paths_exit_2(tmp_path):
    exp = write_experiment(tmp_path, replicates=1, arms="", sampler="")
    assert_bad_input(
        cli("sweep", exp, "--out", tmp_path / "s.zarr", "--workers", "2", "--dask-local", "2"), "at most one of"
    )
    assert_bad_input(cli("sweep", exp, "--out", tmp_path / "s.zarr", "--write", "nobody"), "--write 'nobody'")
    assert_bad_input(cli("sweep", tmp_path / "missing.toml", "--out", tmp_path / "s.zarr"), "does not exist")
    assert_bad_input(cli("sweep", exp), "no store given")
    assert_bad_input(cli("sweep", exp, "--out", tmp_path / "no" / "s.zarr"), "does not exist")
    assert_bad_input(cli("status", tmp_path / "nothing.zarr"), "does not exist")
    assert_bad_input(cli("report", tmp_path / "nothing.zarr"), "does not exist")
    (tmp_path / "plain_dir").mkdir()  # a directory that is there but holds no store
    assert_bad_input(cli("status", tmp_path / "plain_dir"), "not a blinasim experiment store")
    assert_bad_input(cli("report", tmp_path / "plain_dir"), "not a blinasim experiment store")
    (tmp_path / "plain_dir").rmdir()  # still empty: nothing was written into it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp.toml"]
    # An existing store is never overwritten.
    store = tmp_path / "s.zarr"
    assert cli("sweep", exp, "--out", store, "--workers", "1", "--no-progress").returncode == 0
    assert_bad_input(cli("sweep", exp, "--out", store), "already exists", "--resume")
    proc = cli("sweep", exp, "--out", store, "--resume", "--no-progress")
    assert proc.returncode == 0 and "0 runs" in proc.stdout and "1 already done" in proc.stdout


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_experiments_are_valid(path):
    exp = Experiment.from_toml(path)
    assert exp.plan.n_runs >= 2
    proc = cli("sweep", path, "--dry-run")
    assert proc.returncode == 0, proc.stderr


def test_there_are_example_experiments():
    names = {p.stem for p in EXAMPLES}
    assert {"schedule_comparison", "sensitivity_sobol", "arm_comparison"} <= names


# ------------------------------------------------------------- validate (issue 17)


def test_validate_recognises_an_experiment_file(tmp_path):
    """`blinasim validate EXPERIMENT` validates it as an experiment (its plan), not as a config with unknown keys."""
    exp = write_experiment(tmp_path, replicates=1)
    proc = cli("validate", exp)
    assert proc.returncode == 0, proc.stderr
    assert "valid experiment" in proc.stdout
    assert "experiment 'tiny': 2 arm(s) x 2 sample(s) x 1 replicate(s) = 4 runs" in proc.stdout
    assert "unknown key" not in proc.stdout + proc.stderr
    for example in EXAMPLES:
        proc = cli("validate", example)
        assert proc.returncode == 0 and "valid experiment" in proc.stdout, (example, proc.stderr)


def test_validate_lists_every_problem_of_an_experiment_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[experiment]\nname = "x"\nreplicates = 0\n[base]\nsimulation.days = -1.0\npatient.nosuch = 1\n'
        '[[arm]]\nname = "a"\n[sampler]\nmethod = "grid"\n'
    )
    proc = cli("validate", bad)
    assert_bad_input(
        proc,
        f"invalid experiment {str(bad)!r}",
        "experiment.replicates = 0",
        "simulation.days = -1.0",
        "unknown key 'patient.nosuch'",
    )
    assert "allowed top-level keys" not in proc.stderr  # not read as a config with unknown sections
    assert_bad_input(cli("validate", bad, "--set", "simulation.days=2"), "--set applies to a config file")


def test_the_cli_names_set_and_reports_every_config_problem_at_once(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[patient]\nt_cells_per_ul = -5.0\nbogus = 3\n[simulation]\nlattice_size = 3\n")
    proc = cli("validate", cfg, "--set", "nosuch.key=1")
    assert_bad_input(
        proc,
        "--set: unknown key 'nosuch.key' = 1",
        "patient.t_cells_per_ul = -5.0",
        "simulation.lattice_size = 3",
        "unknown key 'patient.bogus' = 3",
    )
    assert proc.stderr.count("\n  - ") == 4, proc.stderr

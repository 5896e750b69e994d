"""End to end: the command line on real configs, in a subprocess like a user."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import xarray as xr

from blinasim.core.output import UNITLESS
from tests.conftest import CONTRACT_SCALARS, CONTRACT_TIME, CONTRACT_TIME_COMPARTMENT

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--set", "simulation.days=1", "--set", "simulation.lattice_size=24", "--no-progress"]


def blinasim(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "blinasim.cli", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_run_default_experiment_writes_a_zarr_store(tmp_path):
    out = tmp_path / "run.zarr"
    proc = blinasim("run", "experiments/default.toml", "--out", out, *FAST)
    assert proc.returncode == 0, proc.stderr
    ds = xr.open_zarr(out)
    for name in CONTRACT_TIME + CONTRACT_TIME_COMPARTMENT + CONTRACT_SCALARS:
        assert name in ds, name
        assert "units" in ds[name].attrs or name in UNITLESS, name
    assert ds.bite_concentration.attrs["units"] == "pg/mL"
    assert ds.attrs["root_seed"] == 20240101


def test_run_without_config_uses_the_built_in_default_and_nc_writes_netcdf(tmp_path):
    out = tmp_path / "run.nc"
    proc = blinasim("run", "--out", out, *FAST)
    assert proc.returncode == 0, proc.stderr
    with open(out, "rb") as fh:
        assert fh.read(4) == b"\x89HDF"  # netCDF-4
    ds = xr.open_dataset(out)
    assert ds.blasts.dims == ("time", "compartment")
    assert str(ds.relapse_type.values) == "none"


def test_validate_accepts_the_default_experiment():
    proc = blinasim("validate", "experiments/default.toml")
    assert proc.returncode == 0 and "valid" in proc.stdout


@pytest.mark.parametrize(
    ("toml", "sets", "fragment"),
    [
        ("[patient]\nmarow_blast_fraction = 0.5\n", [], "unknown key 'patient.marow_blast_fraction'"),
        ("[treatment]\ntarget_dose_ug_per_day = -28.0\n", [], "treatment.target_dose_ug_per_day = -28.0"),
        ("[simulation]\ndays = 'forty'\n", [], "simulation.days = 'forty'"),
        ("[patient]\nmarrow_blast_fraction = 1.2\n", [], "less than or equal to 1"),
        ("", ["--set", "patient.t_cells_per_ul=-5"], "patient.t_cells_per_ul = -5"),
        ("", ["--set", "nonsense.key=1"], "unknown key 'nonsense.key'"),
        ("[patient\n", [], "not valid TOML"),
    ],
)
def test_bad_config_fails_cleanly_and_writes_nothing(tmp_path, toml, sets, fragment):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(toml)
    out = tmp_path / "out.zarr"
    for command in (["run", cfg, "--out", out, *sets], ["validate", cfg, *sets]):
        proc = blinasim(*command)
        assert proc.returncode == 2, proc.stderr
        assert fragment in proc.stderr
        assert "Traceback" not in proc.stderr + proc.stdout
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_missing_config_file_and_existing_output(tmp_path):
    proc = blinasim("run", tmp_path / "nope.toml", "--out", tmp_path / "o.zarr")
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    out = tmp_path / "o.nc"
    out.write_text("keep me")
    proc = blinasim("run", "--out", out, *FAST)
    assert proc.returncode == 2 and "already exists" in proc.stderr
    assert out.read_text() == "keep me"


@pytest.mark.parametrize("error", ["ConfigError", "StoreError", "ReportError", "BlinasimError"])
def test_any_error_of_the_api_is_one_message_and_exit_2(monkeypatch, tmp_path, error):
    """The CLI catches the error base, not a list of its subclasses: whichever one the API raises, the
    user sees its problems, one per line, and exit status 2, never a traceback."""
    from typer.testing import CliRunner

    import blinasim.errors
    import blinasim.experiments.report
    import blinasim.experiments.store
    import blinasim.params.schema
    from blinasim.cli import app

    cls = next(
        getattr(m, error)
        for m in (blinasim.errors, blinasim.params.schema, blinasim.experiments.store, blinasim.experiments.report)
        if hasattr(m, error)
    )

    def fail(*args, **kwargs):
        raise cls(["first problem", "second problem"])

    monkeypatch.setattr(blinasim.experiments.store, "store_status", fail)
    result = CliRunner().invoke(app, ["status", str(tmp_path / "s.zarr")])
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert result.stderr == "blinasim status: error: cannot read the store:\n  - first problem\n  - second problem\n"
    assert "Traceback" not in result.output

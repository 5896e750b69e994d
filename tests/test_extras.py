"""Optional parts (extras): a missing package gives one clear error naming the extra, never a bare ImportError.

Each test hides an installed package from this process (``sys.modules[name] =
None`` makes every import of it fail, as if it were not installed) and calls
the feature that needs it, through the API and through the command line.
"""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from blinasim.errors import BlinasimError
from blinasim.extras import EXTRAS, MissingExtraError, requires_extra
from tests.conftest import CLI_ERROR
from tests.sweep_helpers import write_experiment


def hide(monkeypatch, package: str) -> None:
    """Make ``package`` and its submodules unimportable in this process for the test."""
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, package, None)


def cli(*args):
    from typer.testing import CliRunner

    from blinasim.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def assert_names_the_extra(proc, extra: str, package: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert CLI_ERROR.match(proc.stderr) and proc.stderr.splitlines()[0].endswith(
        ": error: missing optional dependency:"
    ), proc.stderr
    assert f'pip install "blinasim[{extra}]"' in proc.stderr, proc.stderr
    assert repr(package) in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and "ModuleNotFoundError" not in proc.stderr, proc.stderr


def test_requires_extra_turns_a_failed_import_into_one_message(monkeypatch):
    hide(monkeypatch, "SALib")
    with pytest.raises(MissingExtraError) as err:
        with requires_extra("sensitivity", "the Sobol sampler"):
            from SALib.sample import sobol  # noqa: F401
    exc = err.value
    assert isinstance(exc, ImportError)  # `except ImportError` in user code still catches it
    assert exc.extra == "sensitivity" and exc.name == "SALib"
    assert exc.problems == [str(exc)]
    assert str(exc).startswith("the Sobol sampler needs 'SALib', which is not installed")
    assert 'pip install "blinasim[sensitivity]"' in str(exc)
    assert isinstance(exc.__cause__, ModuleNotFoundError)
    again = pickle.loads(pickle.dumps(exc))  # from a worker process, intact
    assert (type(again), again.problems, again.extra, again.name) == (
        MissingExtraError,
        exc.problems,
        "sensitivity",
        "SALib",
    )
    assert isinstance(exc, BlinasimError)  # the one error base of the package


def test_requires_extra_leaves_other_errors_and_success_alone():
    with requires_extra("report", "figures"):
        import math  # noqa: F401
    with pytest.raises(ZeroDivisionError), requires_extra("report", "figures"):
        1 / 0  # noqa: B018
    with pytest.raises(ValueError, match="unknown extra"):
        MissingExtraError("plotting", "figures", "matplotlib")


def test_every_extra_is_declared_in_pyproject():
    import tomllib
    from pathlib import Path

    extras = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert set(EXTRAS) <= set(extras)
    assert extras["all"] == [f"blinasim[{','.join(EXTRAS)}]"]


def test_sobol_and_morris_samplers_name_the_sensitivity_extra(monkeypatch, tmp_path):
    from blinasim.experiments.experiment import Experiment

    hide(monkeypatch, "SALib")
    for method in ("sobol", "morris"):
        sampler = (
            f'[sampler]\nmethod = "{method}"\nn = 4\n'
            '[sampler.parameters]\n"patient.t_cells_per_ul" = { low = 300.0, high = 900.0 }\n'
        )
        path = write_experiment(tmp_path, f"{method}.toml", sampler=sampler, replicates=1)
        with pytest.raises(MissingExtraError, match=r'pip install "blinasim\[sensitivity\]"'):
            Experiment.from_toml(path)
        proc = cli("sweep", path, "--out", tmp_path / f"{method}.zarr", "--no-progress")
        assert_names_the_extra(proc, "sensitivity", "SALib")
        assert not (tmp_path / f"{method}.zarr").exists()


def test_dask_executor_names_the_dask_extra_before_any_store_is_made(monkeypatch, tmp_path):
    from blinasim.experiments.sweep import DaskExecutor

    hide(monkeypatch, "distributed")
    with pytest.raises(MissingExtraError, match=r'pip install "blinasim\[dask\]"'):
        DaskExecutor(local_workers=1).start(None)
    monkeypatch.delitem(sys.modules, "blinasim.experiments._dask", raising=False)
    with pytest.raises(MissingExtraError, match=r"blinasim\[dask\]"):
        import blinasim.experiments._dask  # noqa: F401

    exp = write_experiment(tmp_path, replicates=1)
    proc = cli("sweep", exp, "--out", tmp_path / "s.zarr", "--dask-local", "1", "--no-progress")
    assert_names_the_extra(proc, "dask", "distributed")
    assert not (tmp_path / "s.zarr").exists()


def small_dataset() -> xr.Dataset:
    return xr.Dataset({"mrd": ("time", np.array([0.1, 0.01]), {"units": "1"})}, coords={"time": [0.0, 1.0]})


def test_netcdf_output_names_the_netcdf_extra_and_writes_nothing(monkeypatch, tmp_path):
    from blinasim.core.io import write_dataset

    hide(monkeypatch, "netCDF4")
    with pytest.raises(MissingExtraError, match=r'pip install "blinasim\[netcdf\]"'):
        write_dataset(small_dataset(), tmp_path / "run.nc")
    assert list(tmp_path.iterdir()) == []
    assert write_dataset(small_dataset(), tmp_path / "run.zarr").is_dir()  # Zarr needs no extra

    proc = cli("run", "--out", tmp_path / "cli.nc", "--set", "simulation.days=0.125", "--no-progress")
    assert_names_the_extra(proc, "netcdf", "netCDF4")
    assert not (tmp_path / "cli.nc").exists()


def test_report_figures_name_the_report_extra_before_any_work(monkeypatch, tmp_path):
    from blinasim.experiments.report import make_report, timecourse_figure

    hide(monkeypatch, "matplotlib")
    # The check comes first: the store is not even opened.
    with pytest.raises(MissingExtraError, match=r'pip install "blinasim\[report\]"'):
        make_report(tmp_path / "no-such-store.zarr", formats=("png",))
    with pytest.raises(MissingExtraError, match=r"blinasim\[report\]"):
        timecourse_figure(xr.Dataset(), "mrd", ["a"])
    proc = cli("report", tmp_path / "no-such-store.zarr")
    assert_names_the_extra(proc, "report", "matplotlib")


def test_every_command_and_group_shows_a_missing_extra_as_one_message(monkeypatch, tmp_path):
    from blinasim.cli import app

    def callbacks(typer_app):
        yield from (info.callback for info in typer_app.registered_commands)
        for group in typer_app.registered_groups:
            yield from callbacks(group.typer_instance)

    found = list(callbacks(app))
    assert len(found) > 8 and all(hasattr(cb, "__wrapped__") for cb in found)

    hide(monkeypatch, "distributed")  # a command of the `calibrate` group, on a Dask cluster
    proc = cli("calibrate", "verify", "--n", "1", "--assays", "1", "--dask-local", "1", "--json", tmp_path / "v.json")
    assert_names_the_extra(proc, "dask", "distributed")
    assert not (tmp_path / "v.json").exists()

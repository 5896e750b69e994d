"""A new user's first hour (issue 17): versions, honest feedback, safe overwrites, --set misuse, examples."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from blinasim.cli import set_misuse
from blinasim.experiments.experiment import Experiment
from blinasim.experiments.report import make_report
from blinasim.experiments.spec import ExperimentError
from blinasim.experiments.sweep import InProcessExecutor
from blinasim.version import __version__
from tests.conftest import CLI_ERROR
from tests.sweep_helpers import write_experiment

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "src" / "blinasim" / "examples"
FAST = ["--set", "simulation.days=1", "--set", "simulation.lattice_size=24"]


def blinasim(*args, cwd=ROOT, env=None):
    return subprocess.run(
        [sys.executable, "-m", "blinasim.cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


def assert_one_message(proc, *fragments):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert CLI_ERROR.match(proc.stderr), proc.stderr
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in proc.stderr, (fragment, proc.stderr)


# ------------------------------------------------------------------------------------------------ --version


def test_version_names_blinasim_and_the_numerical_stack():
    proc = blinasim("--version")
    assert proc.returncode == 0, proc.stderr
    import mesa
    import numba
    import numpy

    line = proc.stdout.strip()
    assert line.startswith(f"blinasim {__version__} (")
    for name, module in (("numpy", numpy), ("numba", numba), ("mesa", mesa)):
        assert f"{name} {module.__version__}" in line, line


# ------------------------------------------------------------------------------------------------ --set misuse


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--out", "x.zarr", "--set", "patient.t_cells_per_ul", "800"],
        ["run", "experiments/default.toml", "--set", "patient.t_cells_per_ul", "800", "--out", "x.zarr"],
        ["validate", "experiments/default.toml", "--set=patient.t_cells_per_ul", "800"],
    ],
)
def test_a_space_instead_of_equals_in_set_is_explained(args, tmp_path):
    proc = blinasim(*args, cwd=ROOT)
    assert_one_message(proc, "--set patient.t_cells_per_ul 800", "--set patient.t_cells_per_ul=800")
    assert "config" not in proc.stderr.lower().split("--set")[0]  # not "invalid configuration '800'"
    assert not (ROOT / "x.zarr").exists()


def test_set_misuse_detection_leaves_good_command_lines_alone():
    assert set_misuse(["run", "--set", "a.b=1", "--out", "x"]) == []
    assert set_misuse(["run", "cfg.toml", "--set", "a.b=1", "--set=c.d=2"]) == []
    assert set_misuse(["run", "--set", "a.b", "--out", "x"]) == []  # no value: parse_overrides explains it
    assert len(set_misuse(["run", "--set", "a.b", "1", "--set", "c.d", "2"])) == 2


# ------------------------------------------------------------------------------------------------ overwrite


def test_run_refuses_an_existing_output_unless_overwrite_and_replaces_it_whole(tmp_path):
    out = tmp_path / "run.zarr"
    first = blinasim("run", "--out", out, *FAST, "--no-progress")
    assert first.returncode == 0, first.stderr
    refused = blinasim("run", "--out", out, *FAST, "--set", "patient.t_cells_per_ul=1200", "--no-progress")
    assert_one_message(refused, "already exists", "--overwrite")
    again = blinasim("run", "--out", out, *FAST, "--set", "patient.t_cells_per_ul=1200", "--no-progress", "--overwrite")
    assert again.returncode == 0, again.stderr
    ds = xr.open_zarr(out)
    assert '"t_cells_per_ul": 1200.0' in ds.attrs["config"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.zarr"]  # no temporary left behind


def test_overwrite_never_deletes_what_is_not_an_output(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    proc = blinasim("run", "--out", folder, *FAST, "--no-progress", "--overwrite")
    assert_one_message(proc, "not a Zarr store")
    assert (folder / "keep.txt").read_text() == "mine"


def test_export_overwrite(tmp_path):
    exp = write_experiment(tmp_path, replicates=1)
    store = tmp_path / "s.zarr"
    Experiment.from_toml(exp).run(store, executor=InProcessExecutor(), progress=False)
    out = tmp_path / "all.nc"
    out.write_text("old")
    assert_one_message(blinasim("export", store, "--out", out), "already exists", "--overwrite")
    assert out.read_text() == "old"
    proc = blinasim("export", store, "--out", out, "--overwrite")
    assert proc.returncode == 0, proc.stderr
    assert xr.open_dataset(out).sizes["arm"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.nc", "exp.toml", "s.zarr"]


# ------------------------------------------------------------------------------------------------ feedback


def test_run_announces_the_kernels_then_counts_simulated_days(tmp_path):
    proc = blinasim(
        "run", "--out", tmp_path / "r.zarr", "--set", "simulation.days=2", "--set", "simulation.lattice_size=24"
    )
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr
    assert "kernels: " in err and "kernels: ready in" in err
    assert err.index("kernels: ready in") < err.index("simulating")
    assert "day 2.0 of 2" in err and "tick" not in err


def test_warmup_compiles_once_then_the_cache_is_warm(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    cold = blinasim("warmup", env=env)
    assert cold.returncode == 0, cold.stderr
    assert "compiling kernels" in cold.stderr
    assert "kernels ready in" in cold.stdout
    warm = blinasim("warmup", env=env)
    assert warm.returncode == 0, warm.stderr
    assert "loading kernels from the cache" in warm.stderr


def test_sweep_and_report_say_what_they_are_doing(tmp_path):
    exp = write_experiment(tmp_path, replicates=1)
    store = tmp_path / "s.zarr"
    proc = blinasim("sweep", exp, "--out", store, "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    for stage in ("started", "planning the store", "workers ready", "creating the store"):
        assert stage in proc.stderr, (stage, proc.stderr)
    quiet = blinasim("sweep", exp, "--out", tmp_path / "quiet.zarr", "--workers", "1", "--no-progress")
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
    proc = blinasim("report", store, "--out", tmp_path / "rep", "--formats", "png")
    assert proc.returncode == 0, proc.stderr
    for stage in ("report: store opened", "computing endpoints", "report: drawing figure"):
        assert stage in proc.stderr, (stage, proc.stderr)
    assert "RuntimeWarning" not in proc.stderr


def test_report_of_samples_whose_runs_all_failed_warns_nothing(tmp_path):
    extra = '[[inject_failure]]\narm = "flat"\nsample = 0\nreplicate = 0\n'
    sampler = (
        '[sampler]\nmethod = "random"\nn = 3\n[sampler.parameters]\n'
        '"patient.marrow_blast_fraction" = { low = 0.2, high = 0.8 }\n'
    )
    exp = write_experiment(tmp_path, replicates=1, sampler=sampler, extra=extra)
    store = tmp_path / "s.zarr"
    Experiment.from_toml(exp).run(store, executor=InProcessExecutor(), progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        rep = make_report(store, tmp_path / "rep", formats=())
    assert rep.counts["failed"] == 1


# ------------------------------------------------------------------------------------------------ test hooks


def test_inject_failure_is_accepted_but_never_offered(tmp_path):
    exp = write_experiment(tmp_path, extra="[sweep]\nworkers = 2\n")
    with pytest.raises(ExperimentError) as info:
        Experiment.from_toml(exp)
    message = "\n".join(info.value.problems)
    assert "allowed top-level keys" in message and "execution" in message
    assert "inject_failure" not in message


# ------------------------------------------------------------------------------------------------ examples


def test_packaged_examples_are_the_experiments_byte_for_byte():
    shipped = {p.name: p.read_bytes() for p in EXAMPLES.iterdir() if p.suffix in (".toml", ".csv")}
    source = {p.name: p.read_bytes() for p in (ROOT / "experiments").iterdir() if p.suffix in (".toml", ".csv")}
    assert shipped.keys() == source.keys(), "copy experiments/*.toml and *.csv to src/blinasim/examples/"
    changed = [name for name in source if shipped[name] != source[name]]
    assert not changed, f"src/blinasim/examples/ differs from experiments/ in {changed}: copy them again"


def test_examples_command_copies_refuses_then_overwrites(tmp_path):
    target = tmp_path / "my_experiments"
    proc = blinasim("examples", target)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in target.iterdir()) == sorted(p.name for p in EXAMPLES.iterdir() if p.is_file())
    # The copies work where they are: the base file and the cohort CSV are found next to them.
    for name in ("default.toml",):
        assert blinasim("validate", target / name).returncode == 0
    Experiment.from_toml(target / "arm_comparison.toml")
    (target / "default.toml").write_text("# my edits\n")
    refused = blinasim("examples", target)
    assert_one_message(refused, "default.toml", "already exists", "--overwrite")
    assert (target / "default.toml").read_text() == "# my edits\n"
    assert blinasim("examples", target, "--overwrite").returncode == 0
    assert (target / "default.toml").read_bytes() == (EXAMPLES / "default.toml").read_bytes()


def test_the_wheel_carries_the_examples(tmp_path):
    import shutil

    # Built from a copy: a build writes metadata (*.egg-info) next to the sources.
    source = tmp_path / "source"
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",  # the build backend (setuptools) comes from the package index, as for any install
            "-q",
            "-w",
            str(tmp_path),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("blinasim-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in EXAMPLES.iterdir():
        if path.suffix in (".toml", ".csv"):
            assert f"blinasim/examples/{path.name}" in names
    assert "blinasim/view.py" in names


def test_snapshots_can_be_asked_for_on_the_command_line(tmp_path):
    out = tmp_path / "r.zarr"
    proc = blinasim("run", "--out", out, *FAST, "--set", "output.snapshot_every_days=0.5", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    ds = xr.open_zarr(out)
    np.testing.assert_array_equal(ds.time_snapshot.values, [0.0, 0.5, 1.0])


def test_view_on_a_busy_port_is_one_message():
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = blinasim("view", "--port", port)
    assert_one_message(proc, f"--port {port}", "choose another --port")

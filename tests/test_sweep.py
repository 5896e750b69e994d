"""Sweeps into a Zarr store: contents, executors, failures, kill and resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
import xarray as xr
import zarr

import blinasim
from blinasim.experiments.experiment import Experiment
from blinasim.experiments.store import (
    DONE,
    FAILED,
    PENDING,
    StoreError,
    create_store,
    damaged_runs,
    export_netcdf,
    layout_from_datasets,
    open_results,
    open_store,
    pack_staged,
    read_status,
    run_config,
    run_region_dataset,
    stage_run,
    staged_runs,
    staging_dir,
    store_layout,
    store_shard_block,
    store_status,
)
from blinasim.experiments.sweep import DaskExecutor, InProcessExecutor, LocalExecutor, SweepError, run_sweep
from tests.sweep_helpers import assert_same_results, write_experiment

ROOT = Path(__file__).resolve().parents[1]

FAIL_ONE = """
[[inject_failure]]
arm = "flat"
sample = 1
replicate = 0
message = "injected: this run fails on purpose"
"""


def run_inprocess(exp_path: Path, store: Path, **kwargs):
    return Experiment.from_toml(exp_path).run(store, executor=InProcessExecutor(), progress=False, **kwargs)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted in-process sweep of the default tiny experiment (2 arms x 2 samples x 2 replicates)."""
    d = tmp_path_factory.mktemp("reference")
    exp = write_experiment(d)
    result = run_inprocess(exp, d / "ref.zarr")
    assert result.done == 8 and result.failed == 0
    return exp, d / "ref.zarr"


def test_every_run_in_the_store_is_the_run_simulated_directly(reference):
    exp_path, store = reference
    plan = Experiment.from_toml(exp_path).plan
    ds = open_results(store).load()
    assert (ds.run_status.values == DONE).all()
    for a, s, r in plan.runs():
        direct = blinasim.simulate(plan.config(a, s), seed=plan.seed(s, r))
        run = ds.isel(arm=a, sample=s, replicate=r)
        assert int(run.run_seed) == plan.seed(s, r) == direct.attrs["seed"]
        for name, var in direct.data_vars.items():
            if "event" in var.dims:  # the event log is not stored (its length differs between runs)
                continue
            got = run[name].values
            want = var.values
            if want.dtype.kind in "fcbiu":
                assert np.array_equal(got.astype(np.float64), want.astype(np.float64), equal_nan=True), name
            else:
                assert str(got) == str(want), name
        # The config of a run can be rebuilt from the store alone.
        assert run_config(ds, a, s) == plan.config(a, s)


def test_store_layout(reference):
    _, store = reference
    ds = open_store(store)
    assert dict(ds.sizes)["arm"] == 2 and dict(ds.sizes)["sample"] == 2 and dict(ds.sizes)["replicate"] == 2
    assert list(ds.arm.values) == ["step_up", "flat"]
    # Parameter values are ordinary coordinates on `sample`, not a MultiIndex.
    coord = ds["patient.t_cells_per_ul"]
    assert coord.dims == ("sample",) and list(coord.values) == [300.0, 900.0]
    assert "patient.t_cells_per_ul" not in ds.indexes
    assert coord.attrs["units"] == "1/uL"  # from the schema
    # The run seed is shared by the arms.
    assert ds.run_seed.dims == ("sample", "replicate")
    g = zarr.open_group(str(store), mode="r")
    for name in ("blasts", "mrd", "cr_crh", "run_status", "run_message"):
        chunks = g[name].chunks
        assert chunks[:3] == (1, 1, 1), name
        assert chunks[3:] == g[name].shape[3:], name
        # Sharded: the 8 runs of this small store share one shard file per variable.
        assert g[name].shards == g[name].shape, name
        n_files = len([p for p in (store / name / "c").rglob("*") if p.is_file()])
        assert n_files == (0 if name in ("cr_crh", "run_message") else 1), name  # at their fill: no file written
    assert ds.attrs["shard_runs"] == [2, 2, 2] and not staging_dir(store).exists()
    assert ds.blasts.dims == ("arm", "sample", "replicate", "time", "compartment")
    assert ds.blasts.attrs["units"] == "1" and ds.blasts.attrs["long_name"].startswith("number of ")  # cells: a count
    assert ds.time.attrs["units"] == "day"
    assert ds.attrs["root_seed"] == 11 and ds.attrs["experiment_name"] == "tiny"
    st = store_status(store)
    assert st.complete and st.counts == {"pending": 0, "done": 8, "failed": 0}


def test_local_process_pool_and_parent_writes_give_identical_stores(reference, tmp_path):
    exp_path, ref = reference
    exp = Experiment.from_toml(exp_path)
    result = exp.run(tmp_path / "local.zarr", executor=LocalExecutor(2), progress=False)
    assert result.done == 8
    assert_same_results(ref, tmp_path / "local.zarr")
    workers = set(open_store(tmp_path / "local.zarr").run_worker.values.ravel().tolist())
    assert len(workers) >= 1 and all(not w.endswith(f":{os.getpid()}") for w in workers)
    # The parent process writes what the workers return.
    exp.run(tmp_path / "parent.zarr", executor=LocalExecutor(2), progress=False, write="parent")
    assert_same_results(ref, tmp_path / "parent.zarr")


def test_a_failing_run_is_recorded_with_its_message_and_the_others_finish(tmp_path):
    exp_path = write_experiment(tmp_path, extra=FAIL_ONE)
    store = tmp_path / "s.zarr"
    result = Experiment.from_toml(exp_path).run(store, executor=LocalExecutor(2), progress=False)
    assert (result.done, result.failed) == (7, 1)
    status = read_status(store)
    assert status[1, 1, 0] == FAILED
    assert np.count_nonzero(status == DONE) == 7
    ds = open_results(store)
    message = str(ds.run_message.values[1, 1, 0])
    assert message.startswith("RuntimeError: injected: this run fails on purpose")
    assert "Traceback" in message
    assert np.isnan(ds.blasts.values[1, 1, 0]).all()  # nothing was written for it
    assert np.isfinite(ds.blasts.values[0, 1, 0]).all()
    st = store_status(store)
    assert st.failures == [("flat", 1, 0, message)]
    assert "injected: this run fails on purpose" in st.format()
    # Resume re-runs failed (and pending) runs only; done runs are not touched.
    before = open_store(store).run_worker.values.copy()
    again = Experiment.from_toml(exp_path).run(store, executor=InProcessExecutor(), progress=False, resume=True)
    assert (again.skipped, again.done, again.failed) == (7, 0, 1)
    after = open_store(store).run_worker.values
    done = status == DONE
    assert (after[done] == before[done]).all()


@pytest.mark.slow
def test_a_worker_process_that_dies_fails_its_run_only(tmp_path):
    extra = FAIL_ONE.replace('message = "injected: this run fails on purpose"', 'mode = "exit"')
    exp_path = write_experiment(tmp_path, extra=extra)
    store = tmp_path / "s.zarr"
    result = Experiment.from_toml(exp_path).run(store, executor=LocalExecutor(2), progress=False)
    assert (result.done, result.failed) == (7, 1)
    status = read_status(store)
    assert status[1, 1, 0] == FAILED
    assert "worker process died" in str(open_store(store).run_message.values[1, 1, 0])


def _done(store: Path) -> int:
    try:
        return int(np.count_nonzero(read_status(store) == DONE))
    except Exception:  # not created yet
        return -1


@pytest.mark.slow
def test_sigkill_mid_sweep_then_resume_gives_the_uninterrupted_store(tmp_path):
    base = "[base]\nsimulation.days = 1.0\nsimulation.lattice_size = 20\n"
    sampler = (
        '[sampler]\nmethod = "grid"\n[sampler.parameters]\n'
        '"patient.t_cells_per_ul" = { low = 200.0, high = 1400.0, num = 8 }\n'
    )
    # 48 runs in 8 shards of 6: a kill leaves shards packed (done) and runs staged, not yet packed.
    exp_path = write_experiment(tmp_path, base=base, sampler=sampler, replicates=3, extra="[output]\nshard_runs = 6\n")
    uninterrupted = tmp_path / "uninterrupted.zarr"
    run_inprocess(exp_path, uninterrupted)

    store = tmp_path / "killed.zarr"
    cmd = [
        sys.executable,
        "-m",
        "blinasim.cli",
        "sweep",
        str(exp_path),
        "--out",
        str(store),
        "--workers",
        "2",
        "--no-progress",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while _done(store) < 6:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the sweep made no progress"
            time.sleep(0.01)
        family = psutil.Process(proc.pid).children(recursive=True)
        os.kill(proc.pid, signal.SIGKILL)  # the parent, mid-sweep
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # The whole machine is lost: its workers too, in whatever they were doing.
    for child in family:
        try:
            child.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=30)

    status = read_status(store)
    n_done = int(np.count_nonzero(status == DONE))
    n_staged = len(staged_runs(store))  # finished, not yet packed: the resume packs them, never re-runs them
    assert 6 <= n_done and n_done + n_staged < 48, (n_done, n_staged)
    assert not np.any(status == FAILED)
    assert store_shard_block(store) == (2, 3, 1)

    resumed = subprocess.run([*cmd, "--resume"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{n_done + n_staged} of 48 runs done" in resumed.stderr
    assert not staging_dir(store).exists()
    assert_same_results(uninterrupted, store)


def test_existing_store_needs_resume_and_resume_needs_the_same_experiment(reference, tmp_path):
    exp_path, store = reference
    with pytest.raises(SweepError, match="already exists; pass resume=True"):
        Experiment.from_toml(exp_path).run(store, executor=InProcessExecutor(), progress=False)
    other = write_experiment(tmp_path, seed=12)
    with pytest.raises(SweepError, match="different experiment"):
        Experiment.from_toml(other).run(store, executor=InProcessExecutor(), progress=False, resume=True)
    # Resuming a finished store runs nothing.
    result = Experiment.from_toml(exp_path).run(store, executor=InProcessExecutor(), progress=False, resume=True)
    assert (result.skipped, result.ran) == (8, 0)


def test_resume_creates_a_missing_store_and_bad_paths_write_nothing(tmp_path):
    exp_path = write_experiment(tmp_path, sampler="", arms="", replicates=1)
    result = run_inprocess(exp_path, tmp_path / "new.zarr", resume=True)
    assert result.done == 1
    with pytest.raises(SweepError, match="does not exist"):
        run_inprocess(exp_path, tmp_path / "no" / "dir.zarr")
    with pytest.raises(SweepError, match="no store given"):
        Experiment.from_toml(exp_path).run(None, executor=InProcessExecutor(), progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp.toml", "new.zarr"]


def test_unreachable_scheduler_leaves_nothing_behind(tmp_path):
    exp_path = write_experiment(tmp_path, sampler="", arms="", replicates=1)
    executor = DaskExecutor(scheduler="tcp://127.0.0.1:9", timeout=2)
    with pytest.raises(SweepError, match="could not connect to the Dask scheduler"):
        run_sweep(Experiment.from_toml(exp_path), tmp_path / "s.zarr", executor=executor, progress=False)
    assert not (tmp_path / "s.zarr").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp.toml"]


def test_executor_options_are_exclusive(tmp_path):
    exp = Experiment.from_toml(write_experiment(tmp_path))
    with pytest.raises(SweepError, match="at most one of"):
        run_sweep(exp, tmp_path / "s.zarr", workers=2, dask_local=2, progress=False)


def test_output_variables_keeps_a_subset_and_rejects_unknown_names(tmp_path):
    exp_path = write_experiment(tmp_path, extra='[output]\nvariables = ["blasts", "mrd", "cr_crh"]\n', replicates=1)
    store = tmp_path / "s.zarr"
    run_inprocess(exp_path, store)
    ds = open_store(store)
    assert {"blasts", "mrd", "cr_crh", "run_status"} <= set(ds.data_vars)
    assert "t_cells" not in ds.data_vars
    bad = write_experiment(tmp_path, "bad.toml", extra='[output]\nvariables = ["blastz"]\n')
    with pytest.raises(SweepError, match="unknown run variable"):
        run_inprocess(bad, tmp_path / "bad.zarr")
    assert not (tmp_path / "bad.zarr").exists()


def test_open_results_masks_runs_that_are_not_done(tmp_path):
    exp_path = write_experiment(tmp_path, extra=FAIL_ONE, replicates=1)
    store = tmp_path / "s.zarr"
    run_inprocess(exp_path, store)
    # Pretend the failed run had left partial data behind.
    g = zarr.open_group(str(store), mode="r+")
    g["mrd"][1, 1, 0] = np.full(g["mrd"].shape[3:], 0.5)
    assert np.all(open_results(store, mask=False).mrd.values[1, 1, 0] == 0.5)
    assert np.isnan(open_results(store).mrd.values[1, 1, 0]).all()


def test_netcdf_export_of_a_finished_store(reference, tmp_path):
    _, store = reference
    out = export_netcdf(store, tmp_path / "all.nc")
    nc = xr.open_dataset(out)
    zs = open_results(store)
    assert nc.blasts.dims == zs.blasts.dims
    assert np.array_equal(nc.blasts.values, zs.blasts.values)
    assert list(nc["patient.t_cells_per_ul"].values) == [300.0, 900.0]
    assert str(nc.relapse_type.values[0, 0, 0]) == str(zs.relapse_type.values[0, 0, 0])
    with pytest.raises(FileExistsError):
        export_netcdf(store, tmp_path / "all.nc")


def test_netcdf_export_refuses_an_unfinished_store(tmp_path):
    exp_path = write_experiment(tmp_path, extra=FAIL_ONE, replicates=1)
    store = tmp_path / "s.zarr"
    run_inprocess(exp_path, store)
    with pytest.raises(StoreError, match="not finished"):
        export_netcdf(store, tmp_path / "x.nc")
    assert not (tmp_path / "x.nc").exists()
    export_netcdf(store, tmp_path / "x.nc", allow_incomplete=True)


def test_layout_is_the_union_of_the_variables_of_the_runs():
    cfg = blinasim.load_config(None, {"simulation.lattice_size": 16, "simulation.days": 0.25})
    a = blinasim.simulate(cfg)
    b = a.copy()
    b["new_variable"] = (("time",), np.ones(a.sizes["time"]), {"units": "1", "long_name": "a future output"})
    layout = layout_from_datasets([a, b])
    assert "new_variable" in layout.variables and "blasts" in layout.variables
    # A run without the new variable writes everything else; the new one stays NaN.
    region, dropped = run_region_dataset(a, layout)
    assert "new_variable" not in region and dropped == []
    # A run whose time grid differs cannot be written.
    short = blinasim.simulate(blinasim.load_config(None, {"simulation.lattice_size": 16, "simulation.days": 0.125}))
    with pytest.raises(StoreError, match="time grid"):
        run_region_dataset(short, layout)


def test_pending_runs_are_reported_by_status(tmp_path):
    exp_path = write_experiment(tmp_path)
    plan = Experiment.from_toml(exp_path).plan
    from blinasim.experiments.store import create_store
    from blinasim.experiments.sweep import dry_run_layout

    store = create_store(tmp_path / "s.zarr", plan, dry_run_layout(plan))
    st = store_status(store)
    assert st.counts == {"pending": 8, "done": 0, "failed": 0}
    assert (read_status(store) == PENDING).all()
    assert "8 pending" in st.format()


def test_an_in_process_sweep_leaves_the_numba_settings_of_the_caller_alone(tmp_path, monkeypatch):
    import numba

    import blinasim.core.worker

    monkeypatch.setattr(blinasim.core.worker, "_READY", False)  # as in a fresh process
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    before = numba.config.NUMBA_NUM_THREADS
    run_inprocess(write_experiment(tmp_path, sampler="", arms="", replicates=1), tmp_path / "s.zarr")
    assert "NUMBA_NUM_THREADS" not in os.environ
    assert numba.config.NUMBA_NUM_THREADS == before


def test_the_event_log_stays_in_the_run_and_out_of_the_store():
    """The event log's length differs between runs: the store keeps every other variable and not it."""
    a = blinasim.simulate(blinasim.load_config(None, {"simulation.days": 0.5, "simulation.lattice_size": 16}), seed=1)
    assert a.sizes["event"] > 0
    layout = layout_from_datasets([a])
    assert not {"event_day", "event_kind", "event_value", "event_note"} & set(layout.variables)
    assert "event" not in layout.coords
    assert "event_cause" in layout.variables and "blasts" in layout.variables
    region, dropped = run_region_dataset(a, layout)
    assert dropped == [] and "event" not in region.dims


def test_a_big_store_is_a_few_shard_files_per_variable(tmp_path):
    """600 runs in shards of 200 (output.shard_runs): 3 files per variable, every run where it belongs."""
    a = blinasim.simulate(blinasim.load_config(None, {"simulation.days": 0.5, "simulation.lattice_size": 16}), seed=1)
    layout = layout_from_datasets([a])
    sampler = '[sampler]\nmethod = "grid"\n[sampler.parameters]\n"patient.t_cells_per_ul" = { low = 100.0, high = 1000.0, num = 150 }\n'
    plan = Experiment.from_toml(write_experiment(tmp_path, sampler=sampler, replicates=2)).plan
    assert plan.n_runs == 600
    store = tmp_path / "big.zarr"
    create_store(store, plan, layout, shard_runs=200)
    block = store_shard_block(store)
    assert block == (2, 100, 1)
    region, _ = run_region_dataset(a, layout)
    marked = a.copy(deep=True)
    marked["il6"].values[:] = 7.0
    for idx in plan.runs():
        stage_run(store, idx, run_region_dataset(marked, layout)[0] if idx == (1, 123, 1) else region, layout)
    assert len(staged_runs(store)) == 600 and (read_status(store) == PENDING).all()  # staged, not done yet
    done = pack_staged(store, layout)
    assert len(done) == 600 and (read_status(store) == DONE).all() and not staging_dir(store).exists()
    for name in ("blasts", "mrd", "run_status", "run_checksum"):
        shards = sorted(p for p in (store / name / "c").rglob("*") if p.is_file())
        assert len(shards) == 4, (name, shards)  # 1 x 2 x 2 shards of (2, 100, 1) runs (150 samples, 2 replicates)
    ds = open_results(store)
    assert ds.blasts.chunks[:3] == ((2,), (100, 50), (1, 1))  # dask chunks are whole shards, not single runs
    assert (ds.il6.isel(arm=1, sample=123, replicate=1).values == 7.0).all()
    assert not (ds.il6.isel(arm=0, sample=123, replicate=1).values == 7.0).all()
    assert damaged_runs(store) == []


def test_a_worker_stages_its_run_and_never_writes_the_stores_arrays(reference, tmp_path):
    """One writer per shard: a worker writes only its run's staging file; the parent packs it."""
    import shutil

    from blinasim.experiments.sweep import RunContext, RunTask, execute_run

    exp_path, ref = reference
    store = tmp_path / "s.zarr"
    shutil.copytree(ref, store)
    plan = Experiment.from_toml(exp_path).plan
    g = zarr.open_group(str(store), mode="r+")
    g["run_status"][1, 0, 1] = PENDING
    before = {p: p.stat().st_mtime_ns for p in store.rglob("*") if p.is_file()}
    ctx = RunContext(str(store), plan.fingerprint, plan.base, "worker", blinasim.__version__)
    outcome = execute_run(RunTask((1, 0, 1), plan.overrides(1, 0), plan.seed(0, 1)), ctx)
    assert outcome.status == DONE
    after = {p: p.stat().st_mtime_ns for p in store.rglob("*") if p.is_file()}
    assert set(after) - set(before) == {staging_dir(store) / "1_0_1.npz"}
    assert all(after[p] == t for p, t in before.items())  # no array of the store was touched
    assert read_status(store)[1, 0, 1] == PENDING
    assert pack_staged(store, store_layout(store, plan.fingerprint)) == [(1, 0, 1)]
    assert read_status(store)[1, 0, 1] == DONE
    assert_same_results(ref, store)


def test_status_counts_staged_runs_as_waiting_to_be_packed(reference, tmp_path):
    import shutil

    exp_path, ref = reference
    store = tmp_path / "s.zarr"
    shutil.copytree(ref, store)
    plan = Experiment.from_toml(exp_path).plan
    layout = store_layout(store, plan.fingerprint)
    g = zarr.open_group(str(store), mode="r+")
    g["run_status"][0, 1, 1] = PENDING
    a = open_store(store).isel(arm=[0], sample=[1], replicate=[1]).load()
    region = a[list(layout.variables)]
    stage_run(store, (0, 1, 1), region, layout)
    st = store_status(store, verify=False)
    assert st.staged == 1 and st.counts["pending"] == 1
    assert "1 of the pending runs finished and wait to be packed" in st.format()

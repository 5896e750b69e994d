"""Dask execution: a real `dask scheduler` and `dask worker` processes on loopback give the local results."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from blinasim.experiments.experiment import Experiment
from blinasim.experiments.store import open_store
from blinasim.experiments.sweep import DaskExecutor, InProcessExecutor
from tests.sweep_helpers import assert_same_results, write_experiment

ROOT = Path(__file__).resolve().parents[1]
DASK = str(Path(sys.executable).with_name("dask"))


def _stop(proc: subprocess.Popen) -> None:
    """Stop a process we started (and its children: it leads its own session) by its id."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """`dask scheduler` plus one `dask worker` with two single-threaded worker processes, on 127.0.0.1."""
    from distributed import Client

    d = tmp_path_factory.mktemp("dask")
    scheduler_file = d / "scheduler.json"
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    logs = open(d / "cluster.log", "w")
    procs = []
    try:
        procs.append(
            subprocess.Popen(
                [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                 "--scheduler-file", str(scheduler_file)],
                stdout=logs, stderr=logs, env=env, start_new_session=True, cwd=d,
            )
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not scheduler_file.exists():
            assert procs[0].poll() is None, (d / "cluster.log").read_text()
            assert time.monotonic() < deadline, "the Dask scheduler did not start"
            time.sleep(0.1)
        time.sleep(0.2)  # the file is written in one go, but be safe
        address = json.loads(scheduler_file.read_text())["address"]
        procs.append(
            subprocess.Popen(
                [DASK, "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard",
                 "--host", "127.0.0.1", "--local-directory", str(d / "workers")],
                stdout=logs, stderr=logs, env=env, start_new_session=True, cwd=d,
            )
        )  # fmt: skip
        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=120)
            worker_pids = set(client.run(os.getpid).values())
        yield address, worker_pids
    finally:
        for proc in reversed(procs):
            _stop(proc)
        logs.close()


@pytest.mark.slow
def test_local_and_dask_execution_give_identical_stores(dask_cluster, tmp_path):
    address, worker_pids = dask_cluster
    exp_path = write_experiment(tmp_path, replicates=2)  # 2 arms x 2 samples x 2 replicates
    exp = Experiment.from_toml(exp_path)
    local = tmp_path / "local.zarr"
    exp.run(local, workers=2, progress=False)

    # Python API against the running scheduler.
    via_api = tmp_path / "dask_api.zarr"
    result = exp.run(via_api, executor=DaskExecutor(scheduler=address), progress=False)
    assert (result.done, result.failed) == (8, 0)
    assert_same_results(local, via_api)
    # The runs ran (and were written) in the Dask worker processes, not here.
    ran_in = {int(w.rsplit(":", 1)[1]) for w in open_store(via_api).run_worker.values.ravel().tolist()}
    assert ran_in <= worker_pids and os.getpid() not in ran_in

    # The command line against the same scheduler, with the parent writing.
    via_cli = tmp_path / "dask_cli.zarr"
    proc = subprocess.run(
        [sys.executable, "-m", "blinasim.cli", "sweep", str(exp_path), "--out", str(via_cli),
         "--scheduler", address, "--write", "parent", "--no-progress"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "8 done, 0 failed" in proc.stdout
    assert_same_results(local, via_cli)


@pytest.mark.slow
def test_dask_records_failures_and_resumes(dask_cluster, tmp_path):
    address, _ = dask_cluster
    extra = '[[inject_failure]]\narm = "step_up"\nsample = 0\nreplicate = 1\nmessage = "injected on dask"\n'
    exp_path = write_experiment(tmp_path, extra=extra)
    store = tmp_path / "s.zarr"
    result = Experiment.from_toml(exp_path).run(store, executor=DaskExecutor(scheduler=address), progress=False)
    assert (result.done, result.failed) == (7, 1)
    assert "injected on dask" in str(open_store(store).run_message.values[0, 0, 1])
    # Same experiment, in-process reference (the failed run fails there too).
    ref = tmp_path / "ref.zarr"
    Experiment.from_toml(exp_path).run(ref, executor=InProcessExecutor(), progress=False)
    assert_same_results(ref, store)


@pytest.mark.slow
def test_dask_local_cluster(tmp_path):
    exp_path = write_experiment(tmp_path, replicates=1, arms="")
    ref = tmp_path / "ref.zarr"
    Experiment.from_toml(exp_path).run(ref, executor=InProcessExecutor(), progress=False)
    store = tmp_path / "s.zarr"
    result = Experiment.from_toml(exp_path).run(store, executor=DaskExecutor(local_workers=2), progress=False)
    assert (result.done, result.failed) == (2, 0)
    assert_same_results(ref, store)


def _forked_from_warm_server() -> bool:
    return "blinasim.core._preload" in sys.modules


def test_dask_local_cluster_forks_workers_from_the_warm_forkserver(tmp_path):
    import multiprocessing

    import blinasim
    from blinasim.experiments.sweep import RunContext

    if "forkserver" not in multiprocessing.get_all_start_methods():
        pytest.skip("no forkserver on this system")
    ctx = RunContext(str(tmp_path / "unused.zarr"), "", {}, "worker", blinasim.__version__)
    for method, forked in (("forkserver", True), ("spawn", False)):
        exe = DaskExecutor(local_workers=1, start_method=method)
        try:
            exe.start(ctx)
            assert set(exe._client.run(_forked_from_warm_server).values()) == {forked}, method
        finally:
            exe.close()
    with pytest.raises(ValueError, match="start_method"):
        DaskExecutor(local_workers=1, start_method="fork")


@pytest.mark.slow
def test_dask_executor_slows_the_monitors_of_a_running_cluster(dask_cluster, tmp_path):
    """Workers and nannies started without our settings get the quiet intervals from the plugins."""
    import blinasim
    from blinasim.experiments._dask import QUIET_CONFIG
    from blinasim.experiments.sweep import RunContext

    assert QUIET_CONFIG["distributed.admin.tick.interval"] == "1s"

    def _intervals(dask_worker) -> dict:  # local, so that it is sent by value
        pcs = dask_worker.periodic_callbacks
        out = {name: pcs[name].callback_time for name in ("tick", "memory_monitor", "monitor") if name in pcs}
        out["disk"] = dask_worker.monitor.monitor_disk_io
        out["profile"] = "profile" in pcs
        return out

    address, _ = dask_cluster
    exe = DaskExecutor(scheduler=address)
    try:
        exe.start(RunContext(str(tmp_path / "none.zarr"), "fp", {}, "worker", blinasim.__version__))
        workers = exe._client.run(_intervals)
        nannies = exe._client.run(_intervals, nanny=True)
    finally:
        exe.close()
    assert len(workers) == 2 and len(nannies) == 2
    for got in workers.values():
        assert got == {"tick": 1000, "memory_monitor": 1000, "monitor": 5000, "disk": False, "profile": False}
    for got in nannies.values():
        assert (got["tick"], got["memory_monitor"], got["disk"]) == (1000, 1000, False)


def test_quiet_monitors_only_lengthens_intervals():
    from types import SimpleNamespace

    from blinasim.experiments._dask import QUIET_CONFIG, QUIET_ENV, quiet_monitors

    def server(tick, mem, monitor):
        pcs = {name: SimpleNamespace(callback_time=ms) for name, ms in (("tick", tick), ("memory_monitor", mem))}
        pcs["monitor"] = SimpleNamespace(callback_time=monitor)
        return SimpleNamespace(
            periodic_callbacks=pcs,
            _tick_interval=tick / 1000,
            _tick_interval_observed=tick / 1000,
            memory_manager=SimpleNamespace(memory_monitor_interval=mem / 1000),
            monitor=SimpleNamespace(monitor_disk_io=True),
        )

    s = server(20, 100, 500)
    assert quiet_monitors(s) == ["tick", "memory_monitor", "monitor", "disk-io"]
    assert [s.periodic_callbacks[n].callback_time for n in ("tick", "memory_monitor", "monitor")] == [1000, 1000, 5000]
    assert (s._tick_interval, s.memory_manager.memory_monitor_interval, s.monitor.monitor_disk_io) == (1, 1, False)
    slow = server(2000, 3000, 10000)
    assert quiet_monitors(slow) == ["disk-io"]
    times = [slow.periodic_callbacks[n].callback_time for n in ("tick", "memory_monitor", "monitor")]
    assert times == [2000, 3000, 10000]
    # The environment variables for `dask worker` say the same as the config.
    import dask

    with dask.config.set({}):
        parsed = dask.config.collect_env(QUIET_ENV)
    flat = {
        "distributed.admin.tick.interval": parsed["distributed"]["admin"]["tick"]["interval"],
        "distributed.worker.memory.monitor-interval": parsed["distributed"]["worker"]["memory"]["monitor_interval"],
        "distributed.admin.system-monitor.interval": parsed["distributed"]["admin"]["system_monitor"]["interval"],
        "distributed.admin.system-monitor.disk": parsed["distributed"]["admin"]["system_monitor"]["disk"],
    }
    assert flat == QUIET_CONFIG

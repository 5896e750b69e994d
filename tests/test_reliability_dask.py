"""Dask faults (issue 18): a worker killed mid-sweep, a cluster without workers, malformed addresses.

Against a real ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1, started and stopped here.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from blinasim.experiments.experiment import Experiment
from blinasim.experiments.store import DONE, FAILED, lock_path, open_store, read_status
from blinasim.experiments.sweep import DaskExecutor, InProcessExecutor, SweepError
from tests.conftest import CLI_ERROR
from tests.sweep_helpers import assert_same_results, write_experiment
from tests.test_sweep_dask import _stop

pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[1]
DASK = str(Path(sys.executable).with_name("dask"))
ENV = {**os.environ, "NUMBA_NUM_THREADS": "1"}


def blinasim(*args):
    return subprocess.run(
        [sys.executable, "-m", "blinasim.cli", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def assert_one_message(proc, *fragments):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("warning: ")]  # why it waited
    assert CLI_ERROR.match(lines[0]) and sum(bool(CLI_ERROR.match(line)) for line in lines) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in proc.stderr, (fragment, proc.stderr)


class Cluster:
    """A `dask scheduler` on 127.0.0.1 and the `dask worker` processes started on it (no nanny:
    killing a worker's process kills the worker), each its own session, stopped by id."""

    def __init__(self, directory: Path):
        self.dir = directory
        self.log = open(directory / "cluster.log", "w")
        scheduler_file = directory / "scheduler.json"
        self.scheduler = subprocess.Popen(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(scheduler_file)],
            stdout=self.log, stderr=self.log, env=ENV, start_new_session=True, cwd=directory,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not scheduler_file.exists():
            assert self.scheduler.poll() is None, (directory / "cluster.log").read_text()
            assert time.monotonic() < deadline, "the Dask scheduler did not start"
            time.sleep(0.1)
        time.sleep(0.2)
        self.address = json.loads(scheduler_file.read_text())["address"]
        self.workers: list[subprocess.Popen] = []

    def add_worker(self) -> subprocess.Popen:
        proc = subprocess.Popen(
            [DASK, "worker", self.address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
             "--host", "127.0.0.1", "--local-directory", str(self.dir / "workers")],
            stdout=self.log, stderr=self.log, env=ENV, start_new_session=True, cwd=self.dir,
        )  # fmt: skip
        self.workers.append(proc)
        return proc

    def wait_for_workers(self, n: int) -> set[int]:
        from distributed import Client

        with Client(self.address, timeout=30) as client:
            client.wait_for_workers(n, timeout=120)
            return set(client.run(os.getpid).values())

    def close(self) -> None:
        for proc in [*self.workers, self.scheduler]:
            _stop(proc)
        self.log.close()


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(tmp_path)
    try:
        yield c
    finally:
        c.close()


#: Runs of a fraction of a second (not milliseconds), so that a worker can be killed among them.
SLOWER_BASE = "[base]\nsimulation.days = 2.0\nsimulation.lattice_size = 40\n"


@pytest.mark.slow
def test_a_worker_killed_mid_sweep_loses_no_run(cluster, tmp_path):
    """The issue's case: 12 runs on one single-threaded worker, killed after 3 runs; another joins."""
    # 2 arms x 2 samples x 3 = 12 runs, in shards of 2 (the arms of one sample): runs are done (packed) 2 by 2.
    exp = write_experiment(tmp_path, replicates=3, base=SLOWER_BASE, extra="[output]\nshard_runs = 2\n")
    first = cluster.add_worker()
    (first_pid,) = cluster.wait_for_workers(1)
    store = tmp_path / "s.zarr"
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = Experiment.from_toml(exp).run(
                store, executor=DaskExecutor(scheduler=cluster.address), progress=False
            )
        except BaseException as exc:  # pragma: no cover - reported below
            outcome["error"] = exc

    sweep = threading.Thread(target=run)
    sweep.start()
    deadline = time.monotonic() + 300
    while not (store.exists() and np.count_nonzero(read_status(store) == DONE) >= 3):
        assert sweep.is_alive() and time.monotonic() < deadline, outcome
        time.sleep(0.02)
    os.killpg(first.pid, signal.SIGKILL)  # the only worker, mid-sweep
    first.wait()
    done_when_killed = int(np.count_nonzero(read_status(store) == DONE))
    assert done_when_killed < 12, "the sweep finished before the worker was killed; make the runs longer"
    cluster.add_worker()
    sweep.join(timeout=600)
    assert not sweep.is_alive() and "error" not in outcome, outcome
    result = outcome["result"]
    assert (result.done, result.failed) == (12, 0), result.format()
    status = read_status(store)
    assert (status == DONE).all() and not (status == FAILED).any()
    workers = {int(w.rsplit(":", 1)[1]) for w in open_store(store).run_worker.values.ravel().tolist()}
    assert first_pid in workers and len(workers) == 2  # the new worker ran the rest
    ref = tmp_path / "ref.zarr"
    Experiment.from_toml(exp).run(ref, executor=InProcessExecutor(), progress=False)
    assert_same_results(ref, store)
    assert not lock_path(store).exists()


@pytest.mark.slow
def test_runs_wait_for_a_worker_to_join(cluster, tmp_path):
    exp = write_experiment(tmp_path, replicates=1)
    store = tmp_path / "s.zarr"
    messages: list[str] = []

    def on_message(message: str) -> None:
        messages.append(message)
        if "no workers yet" in message:  # the sweep says it waits: only now does a worker start
            cluster.add_worker()

    from blinasim.experiments.sweep import run_sweep

    result = run_sweep(
        Experiment.from_toml(exp),
        store,
        executor=DaskExecutor(scheduler=cluster.address, worker_timeout=300),
        progress=False,
        on_message=on_message,
    )
    assert (result.done, result.failed) == (4, 0)
    assert len(cluster.workers) == 1 and any("runs wait up to 300 s" in m for m in messages), messages


@pytest.mark.slow
def test_no_worker_within_the_timeout_is_one_message_and_leaves_nothing(cluster, tmp_path):
    exp = write_experiment(tmp_path, replicates=1)
    store = tmp_path / "s.zarr"
    proc = blinasim("sweep", exp, "--out", store, "--scheduler", cluster.address, "--worker-timeout", "3",
                    "--no-progress")  # fmt: skip
    assert_one_message(proc, "no Dask worker joined the scheduler", "within 3 s", "--worker-timeout")
    assert sorted(
        p.name for p in tmp_path.iterdir() if not p.name.startswith("cluster") and p.name != "scheduler.json"
    ) == ["exp.toml"]
    with pytest.raises(SweepError, match="within 2 s"):
        Experiment.from_toml(exp).run(
            store, executor=DaskExecutor(scheduler=cluster.address, worker_timeout=2), progress=False
        )
    assert not store.exists()


@pytest.mark.parametrize(
    "address", ["notaurl", "tcp://127.0.0.1:notaport", "tcp://127.0.0.1:99999", "tcp://:8786", "tcp://a b:1"]
)
def test_a_malformed_scheduler_address_is_one_message(tmp_path, address):
    exp = write_experiment(tmp_path, replicates=1)
    proc = blinasim("sweep", exp, "--out", tmp_path / "s.zarr", "--scheduler", address, "--no-progress")
    assert_one_message(proc, f"--scheduler {address!r}: not a Dask scheduler address", "tcp://127.0.0.1:8786")
    assert not (tmp_path / "s.zarr").exists()


def test_a_well_formed_address_passes_the_check():
    from blinasim.experiments.sweep import check_scheduler_address

    for address in ("tcp://127.0.0.1:8786", "127.0.0.1:8786", "tls://head.example.org:8786", "tcp://[::1]:8786"):
        check_scheduler_address(address)

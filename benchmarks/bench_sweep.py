"""Sweep throughput: 1 vs N local workers, the cost of the store writes, Dask vs local.

    .venv/bin/python benchmarks/bench_sweep.py                 # default experiment, 12 runs
    .venv/bin/python benchmarks/bench_sweep.py --runs 24 --json results/bench_sweep.json
    .venv/bin/python benchmarks/bench_sweep.py --scheduler tcp://host:8786   # also a running cluster

Every sweep runs the same runs: ``experiments/default.toml`` (or --config)
with ``--runs`` replicates, one arm, into a fresh store. Throughput counts
runs from the first submission to the last completion and excludes the
executor's start-up (worker processes, JIT warm-up), which is reported
separately. The store-write share comes from the store itself
(``run_write_seconds`` / ``run_seconds`` of every run). The Dask overhead per
run is ``(T_dask - T_local) * workers / runs``: the extra wall time a run costs
on Dask with worker-side writes, relative to the mean simulation time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def experiment(config: Path, runs: int, days: float | None, lattice: int | None):
    from blinasim.experiment import Experiment

    base = {"file": str(config.resolve())}
    sim = {}
    if days is not None:
        sim["days"] = days
    if lattice is not None:
        sim["lattice_size"] = lattice
    if sim:
        base["simulation"] = sim
    data = {"experiment": {"name": "bench_sweep", "replicates": runs}, "base": base}
    return Experiment.from_dict(data, ROOT)


def one_sweep(exp, executor, label: str, workdir: Path, **kwargs) -> dict:
    from blinasim.store import open_store

    store = workdir / f"{label}.zarr"
    shutil.rmtree(store, ignore_errors=True)
    result = exp.run(store, executor=executor, progress=False, **kwargs)
    assert result.failed == 0, result.format()
    ds = open_store(store)
    secs = ds.run_seconds.values.ravel()
    csecs = ds.run_cpu_seconds.values.ravel()
    wsecs = ds.run_write_seconds.values.ravel()
    rec = {
        "executor": label,
        "runs": result.ran,
        "seconds": result.seconds,
        "startup_seconds": result.startup_seconds,
        "runs_per_second": result.ran / result.seconds,
        "mean_run_seconds": float(np.nanmean(secs)),
        "mean_run_cpu_seconds": float(np.nanmean(csecs)),
        "mean_write_seconds": float(np.nanmean(wsecs)) if np.isfinite(wsecs).any() else float("nan"),
    }
    rec["write_share"] = rec["mean_write_seconds"] / (rec["mean_run_seconds"] + rec["mean_write_seconds"])
    print(
        f"  {label:<22} {rec['runs']:>4} runs in {rec['seconds']:7.2f} s = {rec['runs_per_second']:6.3f} runs/s "
        f"(start-up {rec['startup_seconds']:5.1f} s; run {rec['mean_run_seconds']:.3f} s "
        f"[cpu {rec['mean_run_cpu_seconds']:.3f} s], "
        f"write {rec['mean_write_seconds']:.3f} s per run)",
        file=sys.stderr,
    )
    return rec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=ROOT / "experiments" / "default.toml")
    parser.add_argument("--runs", type=int, default=12, help="runs per sweep (replicates of the config)")
    parser.add_argument("--workers", type=int, default=2, help="workers of the parallel sweeps")
    parser.add_argument("--days", type=float, default=None, help="override simulation.days")
    parser.add_argument("--lattice", type=int, default=None, help="override simulation.lattice_size")
    parser.add_argument("--scheduler", default=None, help="also run on this Dask scheduler")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask LocalCluster sweep")
    parser.add_argument("--json", type=Path, default=None, help="write the records here")
    args = parser.parse_args()

    from blinasim.sweep import DaskExecutor, InProcessExecutor, LocalExecutor

    exp = experiment(args.config, args.runs, args.days, args.lattice)
    cfg = exp.plan.config(0, 0)
    print(
        f"bench_sweep: {args.runs} runs of {args.config.name} ({cfg.simulation.days:g} days, "
        f"lattice {cfg.simulation.lattice_size}); {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}",
        file=sys.stderr,
    )
    records = []
    with tempfile.TemporaryDirectory(prefix="bench_sweep.") as tmp:
        work = Path(tmp)
        # Warm the numba cache in this process (the in-process sweep and the dry runs).
        import blinasim

        blinasim.simulate(blinasim.load_config(None, {"simulation.lattice_size": 16, "simulation.days": 0.25}))
        records.append(one_sweep(exp, InProcessExecutor(), "in-process", work))
        records.append(one_sweep(exp, LocalExecutor(1), "local x1", work))
        records.append(one_sweep(exp, LocalExecutor(args.workers), f"local x{args.workers}", work))
        records.append(
            one_sweep(exp, LocalExecutor(args.workers), f"local x{args.workers} parent", work, write="parent")
        )
        if not args.no_dask:
            records.append(
                one_sweep(exp, DaskExecutor(local_workers=args.workers), f"dask local x{args.workers}", work)
            )
        if args.scheduler:
            records.append(one_sweep(exp, DaskExecutor(scheduler=args.scheduler), "dask scheduler", work))

    by = {r["executor"]: r for r in records}
    one, many = by["local x1"], by[f"local x{args.workers}"]
    summary = {
        "speedup": many["runs_per_second"] / one["runs_per_second"],
        "store_write_share": one["write_share"],
    }
    dask = by.get(f"dask local x{args.workers}")
    if dask is not None:
        extra = (dask["seconds"] - many["seconds"]) * args.workers / args.runs
        summary["dask_overhead_per_run_seconds"] = extra
        summary["dask_overhead_share"] = extra / many["mean_run_seconds"]
        # Robust to other load on the machine: CPU time of the worker process per run.
        summary["dask_cpu_overhead_share"] = dask["mean_run_cpu_seconds"] / many["mean_run_cpu_seconds"] - 1
    print(
        f"speed-up {args.workers} workers / 1 worker: {summary['speedup']:.2f}x; "
        f"store writes: {summary['store_write_share']:.1%} of a run"
        + (
            f"; Dask overhead: {summary['dask_overhead_per_run_seconds'] * 1000:+.0f} ms per run "
            f"({summary['dask_overhead_share']:+.1%} of a run; CPU per run {summary['dask_cpu_overhead_share']:+.1%})"
            if dask is not None
            else ""
        )
    )
    if args.json:
        meta = {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cores": os.cpu_count(),
            "load_average": os.getloadavg(),
            "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        args.json.write_text(json.dumps({"meta": meta, "summary": summary, "records": records}, indent=2))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

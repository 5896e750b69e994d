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
on Dask with worker-side writes, relative to the mean simulation time; since
other load on a shared machine easily hides a few percent, the Dask overhead is
also measured paired: one local and one Dask worker, the same runs sent to
each in alternation (see ``paired_dask_overhead``).
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


def paired_dask_overhead(exp, workdir: Path, pairs: int) -> dict:
    """Per-run overhead of Dask against a local pool, measured run by run, alternating.

    One local worker and one Dask worker (LocalCluster) are started; each run
    goes to one, then the other (the order alternates), and the end-to-end
    time of each (submit, schedule, simulate, write, report back) is taken.
    Interleaving puts both under the same conditions, so other load on the
    machine largely cancels in the paired ratio.
    """
    import blinasim
    from blinasim.store import create_store
    from blinasim.sweep import DaskExecutor, LocalExecutor, RunContext, RunTask, dry_run_layout

    plan = exp.plan
    layout = dry_run_layout(plan)
    executors = {"local": LocalExecutor(1), "dask": DaskExecutor(local_workers=1)}
    try:
        for name, exe in executors.items():
            store = create_store(workdir / f"paired_{name}.zarr", plan, layout)
            exe.start(RunContext(str(store.resolve()), plan.fingerprint, plan.base, "worker", blinasim.__version__))
            exe.ready()
        tasks = [RunTask((a, s, r), plan.overrides(a, s), plan.seed(s, r)) for a, s, r in plan.runs()]
        times: dict[str, list[float]] = {"local": [], "dask": []}
        for i, task in enumerate([tasks[0], *tasks[:pairs]]):  # the first pair warms up (store layout)
            for name in ("local", "dask") if i % 2 == 0 else ("dask", "local"):
                t0 = time.perf_counter()
                [(_, outcome)] = list(executors[name].results([task]))
                assert not isinstance(outcome, BaseException) and outcome.status == 1, outcome
                if i > 0:
                    times[name].append(time.perf_counter() - t0)
    finally:
        for exe in executors.values():
            exe.close()
    local, dask = np.array(times["local"]), np.array(times["dask"])
    ratio = dask / local - 1
    rec = {
        "pairs": int(local.size),
        "local_seconds_median": float(np.median(local)),
        "dask_seconds_median": float(np.median(dask)),
        "overhead_seconds_median": float(np.median(dask - local)),
        "overhead_share_median": float(np.median(ratio)),
        "overhead_share_mean": float(ratio.mean()),
    }
    print(
        f"  paired, 1 worker each    {rec['pairs']} pairs: local {rec['local_seconds_median']:.3f} s, "
        f"dask {rec['dask_seconds_median']:.3f} s per run (median); Dask overhead "
        f"{rec['overhead_seconds_median'] * 1000:+.0f} ms = {rec['overhead_share_median']:+.1%} per run",
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
    parser.add_argument("--pairs", type=int, default=8, help="runs of the paired local/Dask comparison")
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
        paired = None if args.no_dask else paired_dask_overhead(exp, work, min(args.runs, args.pairs))

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
    if paired is not None:
        summary["dask_paired_overhead_share"] = paired["overhead_share_median"]
        summary["dask_paired_overhead_seconds"] = paired["overhead_seconds_median"]
    print(
        f"speed-up {args.workers} workers / 1 worker: {summary['speedup']:.2f}x; "
        f"store writes: {summary['store_write_share']:.1%} of a run"
        + (
            f"; Dask overhead: {summary['dask_overhead_per_run_seconds'] * 1000:+.0f} ms per run "
            f"({summary['dask_overhead_share']:+.1%} of a run; CPU per run {summary['dask_cpu_overhead_share']:+.1%})"
            if dask is not None
            else ""
        )
        + (f"; paired Dask overhead {summary['dask_paired_overhead_share']:+.1%} per run" if paired is not None else "")
    )
    if args.json:
        meta = {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cores": os.cpu_count(),
            "load_average": os.getloadavg(),
            "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        out = {"meta": meta, "summary": summary, "records": records, "paired_dask": paired}
        args.json.write_text(json.dumps(out, indent=2))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

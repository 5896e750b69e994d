"""Sweep throughput: 1 vs N local workers, the cost of the store writes, Dask vs local.

    .venv/bin/python benchmarks/bench_sweep.py                 # default experiment, 12 runs
    .venv/bin/python benchmarks/bench_sweep.py --runs 24 --json results/bench_sweep.json
    .venv/bin/python benchmarks/bench_sweep.py --scheduler tcp://host:8786   # also a running cluster
    # only the Dask overhead: paired runs and 2 pairs of whole sweeps, 1 worker each; --keep-monitors for
    # Dask's default monitor intervals (before the fix in blinasim.experiments._dask.QUIET_CONFIG)
    .venv/bin/python benchmarks/bench_sweep.py --only-dask --runs 8 --pairs 10 --sweep-pairs 2 --dask-workers 1
    # the issue's two targets, each from alternating pairs (speed-up: whole 1- and 2-worker sweeps)
    .venv/bin/python benchmarks/bench_sweep.py --runs 16 --pairs 24 --sweep-pairs 2 --scaling-pairs 4

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
    from blinasim.experiments.experiment import Experiment

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
    from blinasim.experiments.store import open_store

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


def _thread_stats(pid: int) -> dict[int, tuple[float, int, int]]:
    """Per thread of a process on this machine: CPU seconds, migrations between CPUs, involuntary switches.

    From ``/proc/PID/task/TID/sched`` (the scheduler's exact run time, not clock ticks). Empty where
    ``/proc`` does not have it (not Linux, or a kernel without scheduler statistics).
    """
    out = {}
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/sched") as f:
                fields = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in f)}
            out[int(tid)] = (
                float(fields["se.sum_exec_runtime"]) / 1000.0,
                int(fields["se.nr_migrations"]),
                int(fields["nr_involuntary_switches"]),
            )
        except (OSError, KeyError, ValueError):
            continue
    return out


def _machine_busy_seconds() -> float:
    """CPU seconds all CPUs of this machine have been busy (``/proc/stat``: all but idle, iowait, steal)."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq = ticks[:7]
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def _pin_process(pid: int, cpus: set[int]) -> None:
    """Every current thread of a process to these CPUs (threads started later inherit it from their creator)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            os.sched_setaffinity(int(tid), cpus)
        except OSError:
            pass


class _RunProbe:
    """What a worker's threads and the machine did during one run, read from outside (``/proc``).

    The run's thread is the worker thread with the most CPU time in between (the main thread of a
    local worker, the task thread of a Dask worker). ``foreign_cpus`` is the CPU the rest of the
    machine used (neither the worker nor this process, which for a LocalCluster also hosts the
    scheduler and the nanny), in CPUs: about 0 on an otherwise idle machine, 1 with one busy
    program beside the benchmark.
    """

    def __init__(self, pid: int):
        self.pid = pid
        self.t0, self.threads0 = time.perf_counter(), _thread_stats(pid)
        self.busy0, self.own0 = _machine_busy_seconds(), time.process_time()

    def stop(self) -> dict:
        wall = time.perf_counter() - self.t0
        threads1, busy1, own1 = _thread_stats(self.pid), _machine_busy_seconds(), time.process_time()
        deltas = {
            tid: tuple(b - a for a, b in zip(self.threads0.get(tid, (0.0, 0, 0)), v, strict=True))
            for tid, v in threads1.items()
        }
        if not deltas:
            return {}
        run_tid = max(deltas, key=lambda t: deltas[t][0])
        run_cpu, migrations, involuntary = deltas[run_tid]
        worker_cpu = sum(d[0] for d in deltas.values())
        return {
            "thread_cpu_seconds": run_cpu,
            "other_threads_cpu_seconds": worker_cpu - run_cpu,
            "migrations": migrations,
            "involuntary_switches": involuntary,
            "parent_cpu_seconds": own1 - self.own0,
            "foreign_cpus": max(0.0, (busy1 - self.busy0) - worker_cpu - (own1 - self.own0)) / wall,
        }


def paired_dask_overhead(
    exp,
    workdir: Path,
    pairs: int,
    keep_monitors: bool = False,
    pin: tuple[set[int], set[int]] | None = None,
    start_method: str | None = None,
) -> dict:
    """Per-run overhead of Dask against a local pool, measured run by run, alternating.

    One local worker and one Dask worker (LocalCluster) are started; each run
    goes to one, then the other (the order alternates), and the end-to-end
    time of each (submit, schedule, simulate, write, report back) is taken.
    Interleaving puts both under the same conditions, so other load on the
    machine largely cancels in the paired ratio. Also per pair: the
    simulation's wall time inside the worker (``run_seconds``), the store
    write, the worker process's CPU time, and the rest (scheduling, transfer).
    A first pair on another run warms up (store layout); each measured run is
    sent once to each executor (Dask keys are per run).

    Read from ``/proc`` around every run (:class:`_RunProbe`): the CPU time of
    the run's own thread and of the worker's other threads, the run thread's
    migrations between CPUs and involuntary context switches, and the CPU used
    by the rest of the machine during the run (other work on a shared machine).
    With ``pin = (worker_cpus, other_cpus)`` both workers (all their threads)
    are bound to ``worker_cpus`` after the warm-up pair and this process (with
    the scheduler and the nanny of the LocalCluster) to ``other_cpus``.
    """
    import blinasim
    from blinasim.experiments.store import create_store
    from blinasim.experiments.sweep import DaskExecutor, LocalExecutor, RunContext, RunTask, dry_run_layout

    plan = exp.plan
    layout = dry_run_layout(plan)
    executors = {
        "local": LocalExecutor(1),
        "dask": DaskExecutor(local_workers=1, keep_monitors=keep_monitors, start_method=start_method),
    }
    parts = ("seconds", "run_seconds", "write_seconds", "cpu_seconds", "rest_seconds")
    probed = (
        "thread_cpu_seconds",
        "other_threads_cpu_seconds",
        "migrations",
        "involuntary_switches",
        "parent_cpu_seconds",
        "foreign_cpus",
    )
    pids: dict[str, int] = {}
    times: dict[str, dict[str, list[float]]] = {name: {p: [] for p in parts + probed} for name in executors}
    try:
        for name, exe in executors.items():
            store = create_store(workdir / f"paired_{name}.zarr", plan, layout)
            exe.start(RunContext(str(store.resolve()), plan.fingerprint, plan.base, "worker", blinasim.__version__))
            exe.ready()
        tasks = [RunTask((a, s, r), plan.overrides(a, s), plan.seed(s, r)) for a, s, r in plan.runs()]
        assert len(tasks) > pairs, "the paired experiment needs pairs + 1 runs"
        for i, task in enumerate(tasks[: pairs + 1]):  # the first pair warms up
            if i == 1 and pin is not None:
                _pin_process(os.getpid(), pin[1])
                for pid in pids.values():
                    _pin_process(pid, pin[0])
            for name in ("local", "dask") if i % 2 == 0 else ("dask", "local"):
                probe = _RunProbe(pids[name]) if name in pids else None
                t0 = time.perf_counter()
                [(_, outcome)] = list(executors[name].results([task]))
                seconds = time.perf_counter() - t0
                stats = probe.stop() if probe is not None else {}
                assert not isinstance(outcome, BaseException) and outcome.status == 1, outcome
                pids[name] = int(outcome.worker.rpartition(":")[2])
                if i > 0:
                    for p in probed:
                        times[name][p].append(stats.get(p, float("nan")))
                    rec_ = times[name]
                    rec_["seconds"].append(seconds)
                    rec_["run_seconds"].append(outcome.seconds)
                    rec_["write_seconds"].append(outcome.write_seconds)
                    rec_["cpu_seconds"].append(outcome.cpu_seconds)
                    rec_["rest_seconds"].append(seconds - outcome.seconds - outcome.write_seconds)
    finally:
        for exe in executors.values():
            exe.close()
    local = {p: np.array(v) for p, v in times["local"].items()}
    dask = {p: np.array(v) for p, v in times["dask"].items()}
    ratio = dask["seconds"] / local["seconds"] - 1
    rec = {
        "pairs": int(ratio.size),
        "keep_monitors": keep_monitors,
        "local_seconds_median": float(np.median(local["seconds"])),
        "dask_seconds_median": float(np.median(dask["seconds"])),
        "overhead_seconds_median": float(np.median(dask["seconds"] - local["seconds"])),
        "overhead_share_median": float(np.median(ratio)),
        "overhead_share_mean": float(ratio.mean()),
        "overhead_share_quartiles": [float(q) for q in np.percentile(ratio, [25, 75])],
        "overhead_shares": [float(r) for r in ratio],
    }
    for p in parts[1:]:
        rec[f"local_{p}_median"] = float(np.median(local[p]))
        rec[f"dask_{p}_median"] = float(np.median(dask[p]))
        rec[f"{p}_share_median"] = float(np.median(dask[p] / local[p] - 1)) if p != "rest_seconds" else None
    rec["rest_seconds_diff_median"] = float(np.median(dask["rest_seconds"] - local["rest_seconds"]))
    rec["pinned"] = [sorted(c) for c in pin] if pin is not None else None
    for p in probed:
        rec[f"local_{p}"] = [float(x) for x in local[p]]
        rec[f"dask_{p}"] = [float(x) for x in dask[p]]
        rec[f"local_{p}_median"] = float(np.median(local[p]))
        rec[f"dask_{p}_median"] = float(np.median(dask[p]))
    thread_ratio = dask["thread_cpu_seconds"] / local["thread_cpu_seconds"] - 1
    rec["thread_cpu_shares"] = [float(r) for r in thread_ratio]
    rec["thread_cpu_share_median"] = float(np.median(thread_ratio))
    rec["thread_cpu_share_quartiles"] = [float(q) for q in np.percentile(thread_ratio, [25, 75])]
    rec["foreign_cpus_median"] = float(np.median(np.concatenate([local["foreign_cpus"], dask["foreign_cpus"]])))
    print(
        f"  paired, 1 worker each    {rec['pairs']} pairs: local {rec['local_seconds_median']:.3f} s, "
        f"dask {rec['dask_seconds_median']:.3f} s per run (median); Dask overhead "
        f"{rec['overhead_seconds_median'] * 1000:+.0f} ms = {rec['overhead_share_median']:+.1%} per run "
        f"(quartiles {rec['overhead_share_quartiles'][0]:+.1%}, {rec['overhead_share_quartiles'][1]:+.1%}); "
        f"simulate {rec['run_seconds_share_median']:+.1%}, write {rec['write_seconds_share_median']:+.1%}, "
        f"worker CPU {rec['cpu_seconds_share_median']:+.1%}, scheduling and transfer "
        f"{rec['rest_seconds_diff_median'] * 1000:+.0f} ms",
        file=sys.stderr,
    )
    print(
        f"    run thread CPU {rec['local_thread_cpu_seconds_median']:.3f} / {rec['dask_thread_cpu_seconds_median']:.3f} s "
        f"(local / Dask, medians): Dask {rec['thread_cpu_share_median']:+.1%} (quartiles "
        f"{rec['thread_cpu_share_quartiles'][0]:+.1%}, {rec['thread_cpu_share_quartiles'][1]:+.1%}); "
        f"other worker threads {rec['local_other_threads_cpu_seconds_median'] * 1000:.0f} / "
        f"{rec['dask_other_threads_cpu_seconds_median'] * 1000:.0f} ms; this process (Dask: with scheduler and "
        f"nanny) {rec['local_parent_cpu_seconds_median'] * 1000:.0f} / {rec['dask_parent_cpu_seconds_median'] * 1000:.0f}"
        f" ms; run thread migrations {rec['local_migrations_median']:g} / {rec['dask_migrations_median']:g}, "
        f"involuntary switches {rec['local_involuntary_switches_median']:g} / "
        f"{rec['dask_involuntary_switches_median']:g}; other load on the machine "
        f"{rec['foreign_cpus_median']:.2f} CPUs" + (f"; pinned {rec['pinned']}" if pin is not None else ""),
        file=sys.stderr,
    )
    return rec


def alternating_sweeps(exp, workdir: Path, executors: dict, repeats: int) -> tuple[dict[str, np.ndarray], list]:
    """Whole sweeps on two executors (``name -> factory`` of a fresh executor), ``repeats`` pairs in
    alternating order (AB, BA, ...), so that drifts of the machine fall on both alike; returns each
    executor's sweep times (start-up excluded) and the sweep records."""
    names = list(executors)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    recs = []
    for k in range(repeats):
        for name in names if k % 2 == 0 else names[::-1]:
            rec = one_sweep(exp, executors[name](), f"{name} pair {k + 1}", workdir)
            seconds[name].append(rec["seconds"])
            recs.append(rec)
    return {name: np.array(v) for name, v in seconds.items()}, recs


def paired_dask_sweeps(
    exp, workdir: Path, workers: int, repeats: int, keep_monitors: bool = False, start_method: str | None = None
) -> dict:
    """Whole sweeps, local and Dask with the same number of workers, alternating (``repeats`` pairs).

    Each pair runs the whole experiment on ``workers`` local worker processes
    and on a Dask LocalCluster of ``workers`` workers, in alternating order;
    the overhead of a pair is the ratio of the sweep times (start-up excluded).
    """
    from blinasim.experiments.sweep import DaskExecutor, LocalExecutor

    seconds, recs = alternating_sweeps(
        exp,
        workdir,
        {
            f"local x{workers}": lambda: LocalExecutor(workers),
            f"dask x{workers}": lambda: DaskExecutor(
                local_workers=workers, keep_monitors=keep_monitors, start_method=start_method
            ),
        },
        repeats,
    )
    local, dask = seconds[f"local x{workers}"], seconds[f"dask x{workers}"]
    ratio = dask / local - 1
    out = {
        "workers": workers,
        "repeats": repeats,
        "keep_monitors": keep_monitors,
        "local_seconds": local.tolist(),
        "dask_seconds": dask.tolist(),
        "overhead_shares": ratio.tolist(),
        "overhead_share_median": float(np.median(ratio)),
        "overhead_share_range": [float(ratio.min()), float(ratio.max())],
        "records": recs,
    }
    print(
        f"  paired sweeps, {workers} worker(s) each, {repeats} pairs: Dask overhead "
        f"{out['overhead_share_median']:+.1%} of the sweep time (median; "
        + ", ".join(f"{r:+.1%}" for r in ratio)
        + ")",
        file=sys.stderr,
    )
    return out


def paired_scaling(exp, workdir: Path, workers: int, repeats: int) -> dict:
    """Throughput of ``workers`` local workers against one, from ``repeats`` alternating pairs of whole
    sweeps: the speed-up of each pair and their median (a single pair of sweeps moves with whatever
    else the machine, or its host, does in those seconds)."""
    from blinasim.experiments.sweep import LocalExecutor

    seconds, recs = alternating_sweeps(
        exp,
        workdir,
        {"local x1": lambda: LocalExecutor(1), f"local x{workers}": lambda: LocalExecutor(workers)},
        repeats,
    )
    speedups = seconds["local x1"] / seconds[f"local x{workers}"]
    out = {
        "workers": workers,
        "repeats": repeats,
        "one_worker_seconds": seconds["local x1"].tolist(),
        "many_workers_seconds": seconds[f"local x{workers}"].tolist(),
        "speedups": speedups.tolist(),
        "speedup_median": float(np.median(speedups)),
        "records": recs,
    }
    print(
        f"  paired scaling, {repeats} pairs: {workers} workers {out['speedup_median']:.2f}x one (median; "
        + ", ".join(f"{r:.2f}x" for r in speedups)
        + ")",
        file=sys.stderr,
    )
    return out


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
    parser.add_argument(
        "--sweep-pairs",
        type=int,
        default=0,
        help="also this many whole sweeps on local and Dask workers (--dask-workers each), alternating",
    )
    parser.add_argument("--dask-workers", type=int, default=None, help="workers of --sweep-pairs (default --workers)")
    parser.add_argument(
        "--scaling-pairs",
        type=int,
        default=0,
        help="also this many whole sweeps on 1 and on --workers local workers, alternating (median speed-up)",
    )
    parser.add_argument(
        "--keep-monitors", action="store_true", help="Dask with its default monitor intervals (as before the fix)"
    )
    parser.add_argument(
        "--only-dask", action="store_true", help="only the Dask comparisons (paired runs, --sweep-pairs)"
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="paired runs: both workers on the last CPU, this process (and the Dask scheduler, nanny) on the others",
    )
    parser.add_argument(
        "--dask-start-method",
        choices=("forkserver", "spawn"),
        default=None,
        help="how the LocalCluster starts its workers (default forkserver; spawn: Dask's default, as before)",
    )
    parser.add_argument("--json", type=Path, default=None, help="write the records here")
    args = parser.parse_args()

    from blinasim.experiments.sweep import DaskExecutor, InProcessExecutor, LocalExecutor

    exp = experiment(args.config, args.runs, args.days, args.lattice)
    cfg = exp.plan.config(0, 0)
    print(
        f"bench_sweep: {args.runs} runs of {args.config.name} ({cfg.simulation.days:g} days, "
        f"lattice {cfg.simulation.lattice_size}); {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}"
        + ("; Dask with its default monitors" if args.keep_monitors else "")
        + (f"; Dask workers started by {args.dask_start_method}" if args.dask_start_method else ""),
        file=sys.stderr,
    )
    keep = args.keep_monitors
    records = []
    paired = sweeps = scaling = None
    with tempfile.TemporaryDirectory(prefix="bench_sweep.") as tmp:
        work = Path(tmp)
        # Warm the numba cache in this process (the in-process sweep and the dry runs).
        import blinasim

        blinasim.simulate(blinasim.load_config(None, {"simulation.lattice_size": 16, "simulation.days": 0.25}))
        if not args.only_dask:
            records.append(one_sweep(exp, InProcessExecutor(), "in-process", work))
            records.append(one_sweep(exp, LocalExecutor(1), "local x1", work))
            records.append(one_sweep(exp, LocalExecutor(args.workers), f"local x{args.workers}", work))
            records.append(
                one_sweep(exp, LocalExecutor(args.workers), f"local x{args.workers} parent", work, write="parent")
            )
            if not args.no_dask:
                records.append(
                    one_sweep(
                        exp,
                        DaskExecutor(
                            local_workers=args.workers, keep_monitors=keep, start_method=args.dask_start_method
                        ),
                        f"dask local x{args.workers}",
                        work,
                    )
                )
            if args.scheduler:
                records.append(
                    one_sweep(exp, DaskExecutor(scheduler=args.scheduler, keep_monitors=keep), "dask scheduler", work)
                )
        if args.scaling_pairs and not args.only_dask:
            scaling = paired_scaling(exp, work, args.workers, args.scaling_pairs)
        if not args.no_dask:
            pexp = experiment(args.config, args.pairs + 1, args.days, args.lattice)
            pin = None
            if args.pin:
                cpus = sorted(os.sched_getaffinity(0))
                if len(cpus) < 2:
                    parser.error("--pin needs at least 2 CPUs")
                pin = ({cpus[-1]}, set(cpus[:-1]))
            paired = paired_dask_overhead(
                pexp, work, args.pairs, keep_monitors=keep, pin=pin, start_method=args.dask_start_method
            )
            if args.sweep_pairs:
                sweeps = paired_dask_sweeps(
                    exp, work, args.dask_workers or args.workers, args.sweep_pairs, keep, args.dask_start_method
                )

    summary: dict = {}
    by = {r["executor"]: r for r in records}
    if not args.only_dask:
        one, many = by["local x1"], by[f"local x{args.workers}"]
        summary["speedup"] = many["runs_per_second"] / one["runs_per_second"]
        summary["store_write_share"] = one["write_share"]
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
                f"({summary['dask_overhead_share']:+.1%} of a run; "
                f"CPU per run {summary['dask_cpu_overhead_share']:+.1%})"
                if dask is not None
                else ""
            )
        )
    if paired is not None:
        summary["dask_paired_overhead_share"] = paired["overhead_share_median"]
        summary["dask_paired_overhead_seconds"] = paired["overhead_seconds_median"]
        print(f"paired Dask overhead {summary['dask_paired_overhead_share']:+.1%} per run")
    if sweeps is not None:
        summary["dask_paired_sweep_overhead_share"] = sweeps["overhead_share_median"]
        print(f"paired whole-sweep Dask overhead {sweeps['overhead_share_median']:+.1%}")
    if scaling is not None:
        summary["speedup_paired_median"] = scaling["speedup_median"]
        print(f"paired speed-up {args.workers} workers / 1 worker: {scaling['speedup_median']:.2f}x (median)")
    if args.json:
        meta = {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cores": os.cpu_count(),
            "load_average": os.getloadavg(),
            "when": time.strftime("%Y-%m-%d %H:%M:%S"),
            "argv": sys.argv[1:],
        }
        out = {
            "meta": meta,
            "summary": summary,
            "records": records,
            "paired_dask": paired,
            "paired_sweeps": sweeps,
            "paired_scaling": scaling,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

"""Benchmark harness of the numba core: throughput, memory, JIT time, ratio to the reference.

Benchmarks measure and report; they are not tests and never time out
(STYLE.md). What is measured (DESIGN.md, "Performance rules"):

* **agent-updates per second**: ``mean live agents over the run * ticks /
  wall seconds of model.run()``, where live agents are blasts, normal B
  cells, T-cells and other nucleated marrow cells
  (:attr:`blinasim.core.model.BlinatumomabModel.live_agents`). Construction is
  timed separately (``init_seconds``). The mean over the run is the time
  average of the hourly census (no extra work inside the timed run).
  The CPU time of the same runs is recorded too
  (``agent_updates_per_cpu_second``, ``cpu_share`` = CPU / wall seconds): on
  a busy machine wall time counts other processes' turns on our core, and
  CPU time is then the better estimate of the core's own speed.
* **memory**: ``bytes_per_agent = model.state.nbytes / model.live_agents``
  just after construction, and the peak resident set size of the process
  measuring one size (``peak_rss_bytes``; taken before the reference model
  runs, so it is the numba core's).
* **JIT compile time**: cold (an empty numba cache directory) and cached (the
  same directory, warmed), each in a fresh interpreter: the first
  construction and run of a tiny model, minus the same work once compiled.
* **ratio to the reference**: agent-updates/s of the numba core divided by
  those of the pure-Python Mesa reference
  (``blinasim.reference.mesa_model.ReferenceModel``) on the same config, measured in the
  same process. The reference is slow (about 1e6 agent-updates/s): it runs
  the full day at small and medium, 0.1 day (24 ticks) at large, and not at
  xlarge; the numba core is timed again on exactly the reference's config.

Every size is measured in a fresh subprocess with ``NUMBA_NUM_THREADS=1``,
so peak RSS is per size and one size cannot warm the caches of the next.
The workload is the default patient under ``treatment.regimen = "flat"``
(drug on from tick 0, so every kernel does real work).

Python API::

    from blinasim import bench  # lazy: harness module, leaves the package
    records = bench.run_benchmark(["small", "medium"], repeats=5)
    print(bench.format_table(records))

The command line is ``blinasim bench`` (thin) and ``benchmarks/bench_core.py``
(adds the scaling mode, :func:`measure_scaling` and :func:`plot_scaling`).
"""

from __future__ import annotations

import gc
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blinasim.errors import BlinasimError

# --------------------------------------------------------------------- sizes


@dataclass(frozen=True)
class BenchSize:
    """A named benchmark size.

    ``lattice_size`` sets the agent count (about ``0.84 * lattice_size**2``
    live agents at the default cellularity and T-cell fraction; the actual
    count is measured). ``days`` is the default simulated duration;
    ``reference_days`` the duration of the reference comparison, or None when
    the reference is not run at this size by default.
    """

    name: str
    lattice_size: int
    days: float
    reference_days: float | None
    description: str
    hidden: bool = False


SIZES: dict[str, BenchSize] = {
    s.name: s
    for s in (
        BenchSize("tiny", 24, 0.25, 0.05, "~500 agents; for tests", hidden=True),
        BenchSize("small", 109, 1.0, 1.0, "~1e4 agents"),
        BenchSize("medium", 345, 1.0, 1.0, "~1e5 agents"),
        BenchSize("large", 1091, 1.0, 0.1, "~1e6 agents"),
        BenchSize("xlarge", 3450, 0.5, None, "~1e7 agents"),
    )
}
PUBLIC_SIZES = tuple(name for name, s in SIZES.items() if not s.hidden)
DEFAULT_SIZES = ("small", "medium", "large")
DEFAULT_REPEATS = 5
DEFAULT_REFERENCE_REPEATS = 1

#: Config overrides of the benchmark workload (on top of the built-in defaults).
WORKLOAD = {"treatment.regimen": "flat"}

#: Upper bound of ``simulation.days`` in the config schema.
MAX_DAYS = 3650.0

# Default scaling experiment: lattice sides (about 1e4 .. 1e7 agents) at fixed
# days, and day counts at a fixed side.
SCALING_SIDES = (109, 189, 345, 597, 1091, 1890, 3450)
SCALING_SIDE_DAYS = 1.0
SCALING_DAYS = (0.5, 1.0, 2.0, 4.0, 8.0)
SCALING_FIXED_SIDE = 345


class BenchError(BlinasimError):
    """A bad benchmark option, with one readable line per problem."""


def _allowed_sizes() -> str:
    return ", ".join(PUBLIC_SIZES) + " (and 'tiny' for tests)"


def parse_sizes(text: str | Sequence[str], option: str = "--sizes") -> list[str]:
    """Split a comma-separated list of size names and check every name.

    Raises :class:`BenchError` naming the option, the bad value and the allowed names.
    """
    items = text.split(",") if isinstance(text, str) else list(text)
    names = [s.strip() for s in items if s.strip()]
    problems = [f"{option} {n!r}: unknown size; allowed: {_allowed_sizes()}" for n in names if n not in SIZES]
    if not names:
        problems.append(f"{option} {text!r}: no size given; allowed: {_allowed_sizes()}")
    if problems:
        raise BenchError(problems)
    return list(dict.fromkeys(names))


def _one_tick_days() -> float:
    from blinasim.params.defaults import LITERATURE  # lazy: harness module, leaves the package

    return LITERATURE["simulation.dt_hours"].value / 24.0


def check_options(days: float | None = None, repeats: int | None = None) -> None:
    """Check ``--days`` and ``--repeats``; raise :class:`BenchError` with every problem."""
    problems = []
    if days is not None:
        shortest = _one_tick_days()
        if not (isinstance(days, int | float) and math.isfinite(days) and days > 0):
            problems.append(f"--days {days!r}: must be a positive number of simulated days")
        elif days < shortest:
            problems.append(f"--days {days!r}: shorter than one tick; allowed: {shortest:.5g} <= days <= {MAX_DAYS:g}")
        elif days > MAX_DAYS:
            problems.append(f"--days {days!r}: too long; allowed: {shortest:.5g} <= days <= {MAX_DAYS:g}")
    if repeats is not None and (not isinstance(repeats, int) or repeats < 1):
        problems.append(f"--repeats {repeats!r}: must be a whole number >= 1")
    if problems:
        raise BenchError(problems)


def workload_config(lattice_size: int, days: float):
    """The benchmark workload: the default patient, flat regimen, given lattice side and days."""
    from blinasim.params.schema import load_config  # lazy: harness module, leaves the package

    return load_config(None, {**WORKLOAD, "simulation.lattice_size": int(lattice_size), "simulation.days": float(days)})


# --------------------------------------------------------------- machine info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    commit = out.stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "."], cwd=here, capture_output=True, text=True, timeout=10
    )
    return f"{commit}+dirty" if dirty.returncode == 0 and dirty.stdout.strip() else commit or None


def _load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):  # pragma: no cover - Windows
        return None


def machine_info() -> dict[str, Any]:
    """CPU, memory and library versions of this machine (stored on every record)."""
    import importlib.metadata as md

    import psutil

    def version(name: str) -> str | None:
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return None

    return {
        "cpu_count": os.cpu_count(),
        "cpu_count_physical": psutil.cpu_count(logical=False),
        "cpu_model": _cpu_model(),
        "memory_bytes": int(psutil.virtual_memory().total),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": version("numpy"),
        "numba": version("numba"),
        "llvmlite": version("llvmlite"),
        "mesa": version("mesa"),
        "blinasim": version("blinasim"),
        "git_commit": _git_commit(),
        "numba_num_threads": 1,
        "load_average": _load_average(),
    }


# ----------------------------------------------------------- worker helpers
# Everything below up to "parent side" runs inside the measuring subprocess.


def _peak_rss_bytes() -> int:
    """Peak resident set size of this process so far."""
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak = int(peak if sys.platform == "darwin" else peak * 1024)
        return max(peak, _rss_bytes())  # the two counters differ by a few pages
    except ImportError:  # pragma: no cover - Windows
        import psutil

        info = psutil.Process().memory_info()
        return int(getattr(info, "peak_wset", info.rss))


def _rss_bytes() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def _compiled_signatures() -> int:
    """Number of compiled signatures over all kernel dispatchers (detects compilation)."""
    import inspect

    from numba.core.registry import CPUDispatcher

    import blinasim.kernels as kernels  # lazy: harness module, leaves the package

    count = 0
    for modname in kernels.__all__:
        mod = getattr(kernels, modname)
        if inspect.ismodule(mod):
            for obj in vars(mod).values():
                if isinstance(obj, CPUDispatcher) and obj.__module__ == mod.__name__:
                    count += len(obj.signatures)
    return count


def _compile_rare_kernels() -> None:
    """Compile kernels a tiny run may not reach (target compaction) with the model's argument types."""

    from blinasim.core.state import State  # lazy: harness module, leaves the package
    from blinasim.kernels import compaction  # lazy: harness module, leaves the package

    st = State.allocate(1, 0, 0)
    tg, tc = st.targets, st.tcells
    compaction.compact_targets(0, tg.record, st.lattice, 0, tc.record, st.scratch)


def _warm_up() -> None:
    """Compile or load every kernel the workload uses: a tiny flat-regimen run of 2 days."""
    from blinasim.core.model import BlinatumomabModel  # lazy: harness module, leaves the package

    model = BlinatumomabModel(workload_config(16, 2.0))
    model.run()
    _compile_rare_kernels()


def _time_average(rows, record_every: int, now: float, tick: int) -> float:
    """Time average over the run of one census series (``rows``, one per record), ending with ``now``."""
    import numpy as np

    y = np.asarray(rows, dtype=np.float64)
    t = np.arange(len(y), dtype=np.float64) * record_every
    if t[-1] < tick:  # the last stretch is not recorded: end with the count now
        y, t = np.append(y, now), np.append(t, float(tick))
    return float(y[0]) if len(y) == 1 else float(np.trapezoid(y, t) / (t[-1] - t[0]))


def _run_means(model) -> dict[str, float]:
    """Time-averaged live agents and live T-cells over a finished run, from the hourly census."""
    from blinasim.kernels import census as C  # lazy: harness module, leaves the package

    rows = model.rec_counts[: model.rec_index]
    live = rows[:, [C.C_BLASTS, C.C_BLASTS + 1, C.C_NORMAL_B, C.C_NORMAL_B + 1, C.C_T, C.C_T + 1, C.C_OTHER_MARROW]]
    t_cells = rows[:, [C.C_T, C.C_T + 1]]
    return {
        "agents": _time_average(live.sum(axis=1), model.record_every, model.live_agents, model.tick),
        "t_cells": _time_average(t_cells.sum(axis=1), model.record_every, model.state.tcells.live, model.tick),
        "agents_initial": int(live[0].sum()),
        "agents_final": int(model.live_agents),
    }


def _measure_core(config, repeats: int) -> dict[str, Any]:
    """Construct and run the numba model ``repeats`` times on one config (same seed each time)."""
    from blinasim.core.model import BlinatumomabModel  # lazy: harness module, leaves the package

    init_s, run_s, cpu_s, rates, cpu_rates = [], [], [], [], []
    first: dict[str, Any] = {}
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        model = BlinatumomabModel(config)
        t1 = time.perf_counter()
        if not first:
            first = {
                "bytes_per_agent": model.state.nbytes / max(model.live_agents, 1),
                "state_bytes": model.state.nbytes,
            }
        c1 = time.process_time()
        model.run()
        c2 = time.process_time()
        t2 = time.perf_counter()
        means = _run_means(model)  # identical in every repeat: same config, same seed
        ticks = model.n_ticks
        init_s.append(t1 - t0)
        run_s.append(t2 - t1)
        cpu_s.append(c2 - c1)
        rates.append(means["agents"] * ticks / (t2 - t1))
        cpu_rates.append(means["agents"] * ticks / max(c2 - c1, 1e-9))
        del model
    return {
        "agents": round(means["agents"]),
        "agents_initial": means["agents_initial"],
        "agents_final": means["agents_final"],
        "t_cells": round(means["t_cells"]),
        "ticks": ticks,
        "init_seconds": statistics.median(init_s),
        "init_seconds_all": init_s,
        "run_seconds": statistics.median(run_s),
        "run_seconds_all": run_s,
        "seconds_per_tick": statistics.median(run_s) / ticks,
        "agent_updates_per_second": statistics.median(rates),
        "agent_updates_per_second_all": rates,
        "agent_updates_per_second_spread": _spread(rates),
        "cpu_seconds": statistics.median(cpu_s),
        "cpu_seconds_all": cpu_s,
        "agent_updates_per_cpu_second": statistics.median(cpu_rates),
        "agent_updates_per_cpu_second_spread": _spread(cpu_rates),
        # CPU seconds / wall seconds of the timed runs: well below 1 means other
        # work on the machine took our core part of the time (timings inflated).
        "cpu_share": sum(cpu_s) / sum(run_s),
        **first,
    }


def _spread(values: Sequence[float]) -> dict[str, float]:
    """min, max and interquartile range of repeated measurements."""
    v = sorted(values)
    if len(v) >= 2:
        q = statistics.quantiles(v, n=4, method="inclusive")
        iqr = q[2] - q[0]
    else:
        iqr = 0.0
    return {"min": v[0], "max": v[-1], "iqr": iqr}


def _profile_phases(config) -> dict[str, Any]:
    """One extra run with per-phase timing: seconds and share of the run per phase."""
    from blinasim.core.model import BlinatumomabModel  # lazy: harness module, leaves the package

    model = BlinatumomabModel(config, profile=True)
    model.run()
    seconds = dict(model.phase_seconds)
    total = sum(seconds.values()) or 1.0
    ranked = sorted(seconds, key=seconds.get, reverse=True)
    return {
        "phase_seconds": {k: seconds[k] for k in ranked},
        "phase_fraction": {k: seconds[k] / total for k in ranked},
    }


def _load_reference():
    """``(ReferenceModel, None)`` or ``(None, reason)`` when the reference cannot be imported."""
    try:
        from blinasim.reference.mesa_model import ReferenceModel  # lazy: harness module, leaves the package
    except Exception as exc:  # not written yet, or broken: report, don't fail the benchmark
        return None, f"not importable ({type(exc).__name__}: {exc})"
    return ReferenceModel, None


def _measure_reference(reference_cls, config, seed: int, repeats: int) -> dict[str, Any]:
    """Time ``ReferenceModel.run()``; live agents are averaged from the first and last counts."""
    init_s, run_s, cpu_s, rates, cpu_rates, agents = [], [], [], [], [], []
    ticks = None
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        ref = reference_cls(config, seed=seed)
        t1 = time.perf_counter()
        start = ref.live_agents
        c1 = time.process_time()
        ref.run()
        c2 = time.process_time()
        t2 = time.perf_counter()
        ticks = int(ref.n_ticks)
        mean_live = 0.5 * (start + ref.live_agents)
        init_s.append(t1 - t0)
        run_s.append(t2 - t1)
        cpu_s.append(c2 - c1)
        agents.append(mean_live)
        rates.append(mean_live * ticks / (t2 - t1))
        cpu_rates.append(mean_live * ticks / max(c2 - c1, 1e-9))
        del ref
    return {
        "agents": round(statistics.median(agents)),
        "ticks": ticks,
        "init_seconds": statistics.median(init_s),
        "run_seconds": statistics.median(run_s),
        "run_seconds_all": run_s,
        "agent_updates_per_second": statistics.median(rates),
        "agent_updates_per_second_spread": _spread(rates),
        "cpu_seconds": statistics.median(cpu_s),
        "agent_updates_per_cpu_second": statistics.median(cpu_rates),
        "cpu_share": sum(cpu_s) / sum(run_s),
        "repeats": repeats,
    }


def worker_measure(spec: dict[str, Any]) -> dict[str, Any]:
    """Measure one size in this (fresh) process. ``spec`` is built by :func:`measure_size`."""
    import numba

    from blinasim.core.seeds import run_seed  # lazy: harness module, leaves the package

    side, days, repeats = int(spec["lattice_size"]), float(spec["days"]), int(spec["repeats"])
    load_before = _load_average()
    _warm_up()
    compiled_before = _compiled_signatures()
    rss_before = _rss_bytes()

    config = workload_config(side, days)
    out: dict[str, Any] = {"lattice_size": side, "days": days, "repeats": repeats}
    out.update(_measure_core(config, repeats))
    out["baseline_rss_bytes"] = rss_before
    out["peak_rss_bytes"] = _peak_rss_bytes()
    out["numba_threads"] = numba.get_num_threads()
    out["load_average_before"] = load_before  # other work on the machine makes the timings noisy
    out["jit_during_run"] = _compiled_signatures() != compiled_before
    if spec.get("profile"):
        out.update(_profile_phases(config))

    ref_days = spec.get("reference_days")
    out["ratio_vs_reference"] = out["ratio_vs_reference_cpu"] = None
    out["reference"] = {"status": spec.get("reference_status", "not run")}
    if ref_days is not None:
        reference_cls, reason = _load_reference()
        if reference_cls is None:
            out["reference"] = {"status": reason}
        else:
            ref_config = workload_config(side, ref_days)
            same = math.isclose(ref_days, days)
            core = out if same else _measure_core(ref_config, repeats)
            try:
                ref = _measure_reference(
                    reference_cls, ref_config, run_seed(ref_config.simulation.seed), int(spec["reference_repeats"])
                )
            except Exception as exc:
                out["reference"] = {"status": f"failed ({type(exc).__name__}: {exc})"}
            else:
                ref["status"] = "ok"
                ref["days"] = ref_days
                ref["core_agent_updates_per_second"] = core["agent_updates_per_second"]
                ref["core_agent_updates_per_cpu_second"] = core["agent_updates_per_cpu_second"]
                ref["core_ticks"] = core["ticks"]
                ref["core_agents"] = core["agents"]
                out["reference"] = ref
                out["ratio_vs_reference"] = core["agent_updates_per_second"] / ref["agent_updates_per_second"]
                out["ratio_vs_reference_cpu"] = (
                    core["agent_updates_per_cpu_second"] / ref["agent_updates_per_cpu_second"]
                )
    return out


def worker_jit(spec: dict[str, Any]) -> dict[str, Any]:
    """First construction and run of a tiny model in this (fresh) process, and the same again."""
    t0 = time.perf_counter()
    from blinasim.core.model import BlinatumomabModel  # lazy: harness module, leaves the package

    t1 = time.perf_counter()
    config = workload_config(int(spec.get("lattice_size", 16)), float(spec.get("days", 2.0)))
    timings = []
    for _ in range(2):
        t = time.perf_counter()
        model = BlinatumomabModel(config)
        model.run()
        _compile_rare_kernels()
        timings.append(time.perf_counter() - t)
    return {
        "import_seconds": t1 - t0,
        "first_seconds": timings[0],
        "steady_seconds": timings[1],
        "jit_seconds": max(timings[0] - timings[1], 0.0),
        "kernels_compiled": _compiled_signatures(),
    }


# ---------------------------------------------------------------- parent side


def _subprocess_env(cache_dir: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env["NUMBA_NUM_THREADS"] = "1"
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    src = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _run_worker(kind: str, spec: dict[str, Any], cache_dir: str | None) -> dict[str, Any]:
    """Run ``python -m blinasim.bench KIND SPEC`` in a fresh interpreter; return its JSON answer."""
    proc = subprocess.run(
        [sys.executable, "-m", "blinasim.bench", kind, json.dumps(spec)],
        capture_output=True,
        text=True,
        env=_subprocess_env(cache_dir),
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"benchmark worker {kind} {spec} failed (exit {proc.returncode}):\n{tail}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure_jit(cache_dir: str | None = None) -> dict[str, Any]:
    """Cold and cached JIT time, each in a fresh interpreter.

    The cold run uses an empty numba cache directory (``cache_dir``, a new
    temporary directory when None); the cached run reuses it, now warm.
    ``jit_*_seconds`` is the first construction + run of a tiny model minus
    the same work once compiled; ``import_seconds`` is ``import blinasim.core.model``.
    """
    own = cache_dir is None
    cache_dir = tempfile.mkdtemp(prefix="blinasim-bench-numba-") if own else cache_dir
    try:
        cold = _run_worker("jit", {}, cache_dir)
        cached = _run_worker("jit", {}, cache_dir)
    finally:
        if own:
            shutil.rmtree(cache_dir, ignore_errors=True)
    return {
        "jit_compile_seconds": cold["jit_seconds"],
        "jit_cached_seconds": cached["jit_seconds"],
        "import_seconds": cached["import_seconds"],
        "warm_start_seconds": cached["import_seconds"] + cached["first_seconds"],
        "kernels_compiled": cold["kernels_compiled"],
    }


def measure_size(
    size: str | BenchSize,
    *,
    days: float | None = None,
    repeats: int = DEFAULT_REPEATS,
    reference: bool = True,
    reference_repeats: int = DEFAULT_REFERENCE_REPEATS,
    profile: bool = False,
    lattice_size: int | None = None,
    cache_dir: str | None = None,
) -> dict[str, Any]:
    """Measure one size in a fresh subprocess (see the module docstring for what is measured).

    ``lattice_size`` overrides the size's lattice side (scaling experiments).
    ``cache_dir``: the numba cache parent for the subprocess (default: the
    user's, i.e. ``NUMBA_CACHE_DIR`` or ``~/.cache/blinasim/numba``).
    """
    s = SIZES[size] if isinstance(size, str) else size
    run_days = s.days if days is None else float(days)
    check_options(run_days, repeats)
    ref_days = None
    status = "not run"
    if not reference:
        status = "skipped (--no-reference)"
    elif s.reference_days is None:
        status = f"skipped (not run at size {s.name!r}; too slow)"
    else:
        ref_days = min(run_days, s.reference_days)
    spec = {
        "lattice_size": int(lattice_size or s.lattice_size),
        "days": run_days,
        "repeats": int(repeats),
        "profile": bool(profile),
        "reference_days": ref_days,
        "reference_repeats": int(reference_repeats),
        "reference_status": status,
    }
    record = {"size": s.name}
    record.update(_run_worker("measure", spec, cache_dir))
    return record


def run_benchmark(
    sizes: Sequence[str] = DEFAULT_SIZES,
    *,
    days: float | None = None,
    repeats: int = DEFAULT_REPEATS,
    reference: bool = True,
    reference_repeats: int = DEFAULT_REFERENCE_REPEATS,
    jit: bool = True,
    profile: bool = False,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Measure every size; one JSON-ready record per size.

    With ``jit`` the JIT is measured first in a private, empty numba cache
    directory, which the size measurements then reuse (warm); without it
    ``jit_*`` fields are None and the user's cache is used.
    """
    names = parse_sizes(list(sizes))
    check_options(days, repeats)
    say = progress or (lambda msg: None)
    machine = machine_info()
    cache_dir = tempfile.mkdtemp(prefix="blinasim-bench-numba-") if jit else None
    try:
        jit_info: dict[str, Any] = {
            "jit_compile_seconds": None,
            "jit_cached_seconds": None,
            "import_seconds": None,
            "warm_start_seconds": None,
        }
        if jit:
            say("measuring JIT compile time (cold, then cached) ...")
            jit_info = measure_jit(cache_dir)
            say(f"  cold {jit_info['jit_compile_seconds']:.2f} s, cached {jit_info['jit_cached_seconds']:.2f} s")
        records = []
        for name in names:
            s = SIZES[name]
            d = s.days if days is None else days
            say(f"measuring {name} (lattice {s.lattice_size}, {d:g} days, {repeats} repeats) ...")
            rec = measure_size(
                name,
                days=days,
                repeats=repeats,
                reference=reference,
                reference_repeats=reference_repeats,
                profile=profile,
                cache_dir=cache_dir,
            )
            rec.update(jit_info)
            rec["machine"] = machine
            records.append(rec)
            say(f"  {rec['agents']} agents, {_sci(rec['agent_updates_per_second'])} agent-updates/s")
    finally:
        if cache_dir is not None:
            shutil.rmtree(cache_dir, ignore_errors=True)
    return records


def write_json(records: Any, path: str | Path) -> Path:
    """Write records as indented JSON (creating nothing but the file)."""
    path = Path(path)
    path.write_text(json.dumps(records, indent=2) + "\n")
    return path


# ------------------------------------------------------------------- scaling


def measure_scaling(
    sides: Sequence[int] = SCALING_SIDES,
    side_days: float = SCALING_SIDE_DAYS,
    days: Sequence[float] = SCALING_DAYS,
    fixed_side: int = SCALING_FIXED_SIDE,
    repeats: int = 3,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Cost against agents (several sides, fixed days) and against days (fixed side).

    Every point is one fresh subprocess; the result holds the points and
    least-squares fits: the exponent of ``cost ~ agents**b`` (1 is linear)
    and ``cost = a + k * days`` with its R². The cost of a point is the CPU
    time of ``model.run()``, fastest of ``repeats`` runs: on a shared machine
    wall time also counts other processes' turns on our core.
    """
    say = progress or (lambda msg: None)
    custom = BenchSize("scaling", 0, side_days, None, "scaling point", hidden=True)

    def point(side: int, d: float) -> dict[str, Any]:
        say(f"scaling: lattice {side}, {d:g} days ...")
        rec = measure_size(custom, days=d, repeats=repeats, reference=False, lattice_size=side)
        keys = ("lattice_size", "days", "ticks", "agents", "t_cells", "run_seconds_all", "cpu_seconds_all", "cpu_share")
        out = {k: rec[k] for k in keys}
        fastest = min(rec["cpu_seconds_all"])
        out["cost_seconds"] = fastest
        out["ns_per_agent_update"] = 1e9 * fastest / (rec["agents"] * rec["ticks"])
        out["ms_per_tick"] = 1e3 * fastest / rec["ticks"]
        out["load_average_before"] = rec["load_average_before"]
        return out

    by_agents = [point(side, side_days) for side in sides]
    by_days = [point(fixed_side, d) for d in days]
    return {
        "statistic": f"CPU seconds of model.run(), fastest of {repeats} runs",
        "by_agents": by_agents,
        "by_days": by_days,
        "agents_fit": _power_fit([p["agents"] for p in by_agents], [p["cost_seconds"] for p in by_agents]),
        "days_fit": _linear_fit([p["days"] for p in by_days], [p["cost_seconds"] for p in by_days]),
        "machine": machine_info(),
    }


def _power_fit(x: Sequence[float], y: Sequence[float]) -> dict[str, float]:
    import numpy as np

    lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    if len(lx) < 2:
        return {"exponent": math.nan, "prefactor": math.nan}
    b, a = np.polyfit(lx, ly, 1)
    return {"exponent": float(b), "prefactor": float(math.exp(a))}


def _linear_fit(x: Sequence[float], y: Sequence[float]) -> dict[str, float]:
    import numpy as np

    xa, ya = np.asarray(x, float), np.asarray(y, float)
    if len(xa) < 2:
        return {"slope": math.nan, "intercept": math.nan, "r2": math.nan}
    k, a = np.polyfit(xa, ya, 1)
    resid = ya - (a + k * xa)
    ss_tot = float(np.sum((ya - ya.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / ss_tot if ss_tot > 0 else math.nan
    return {"slope": float(k), "intercept": float(a), "r2": r2}


def plot_scaling(data: dict[str, Any], path: str | Path) -> Path:
    """Cost against agents (log-log) and against days, with the unit costs below them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    path = Path(path)
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5), constrained_layout=True)
    stat = data.get("statistic", "")
    ag, dd = data["by_agents"], data["by_days"]

    x = np.array([p["agents"] for p in ag], float)
    y = np.array([p["cost_seconds"] for p in ag], float)
    fit = data["agents_fit"]
    ax = axes[0, 0]
    ax.loglog(x, y, "o", label="measured")
    xs = np.geomspace(x.min(), x.max(), 50)
    ax.loglog(xs, fit["prefactor"] * xs ** fit["exponent"], "-", label=f"fit: seconds ~ agents^{fit['exponent']:.3f}")
    ax.loglog(xs, y[0] * xs / x[0], ":", color="grey", label="exactly linear (through the first point)")
    ax.set(xlabel="live agents (mean over the run)", ylabel="CPU seconds of model.run()")
    ax.set_title(f"cost against agents ({ag[0]['days']:g} day = {ag[0]['ticks']} ticks)")
    ax.legend(fontsize=8)

    ax = axes[1, 0]
    ax.semilogx(x, [p["ns_per_agent_update"] for p in ag], "o-")
    ax.set(xlabel="live agents", ylabel="ns per agent-update", ylim=(0, None))
    ax.set_title("unit cost against agents (flat = linear)")

    xd = np.array([p["days"] for p in dd], float)
    yd = np.array([p["cost_seconds"] for p in dd], float)
    lf = data["days_fit"]
    ax = axes[0, 1]
    ax.plot(xd, yd, "o", label="measured")
    xs = np.linspace(0, xd.max(), 50)
    ax.plot(xs, lf["intercept"] + lf["slope"] * xs, "-", label=f"fit: {lf['slope']:.3g} s/day, R² = {lf['r2']:.4f}")
    ax.set(xlabel="simulated days", ylabel="CPU seconds of model.run()", xlim=(0, None), ylim=(0, None))
    ax.set_title(f"cost against days (lattice {dd[0]['lattice_size']}, ~{dd[0]['agents']:.2g} agents at start)")
    ax.legend(fontsize=8)

    ax = axes[1, 1]
    ax.plot(xd, [p["ms_per_tick"] for p in dd], "o-")
    ax.set(xlabel="simulated days", ylabel="ms per tick", xlim=(0, None), ylim=(0, None))
    ax.set_title("unit cost against days (flat = linear)")

    m = data.get("machine", {})
    fig.suptitle(
        f"blinasim numba core, one thread ({m.get('cpu_model', '?')}, numba {m.get('numba', '?')}); {stat}",
        fontsize=10,
    )
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# --------------------------------------------------------------------- table


def _sci(x: float | None) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    mantissa, exponent = f"{x:.2e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _seconds(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def format_table(records: Sequence[dict[str, Any]]) -> str:
    """A readable fixed-width table of benchmark records, with notes below."""
    headers = [
        "size",
        "agents",
        "ticks",
        "agent-upd/s",
        "spread (min-max)",
        "agent-upd/CPU-s",
        "B/agent",
        "peak RSS MiB",
        "vs reference",
        "JIT cold s",
        "JIT cached s",
    ]
    rows, notes = [], []
    for r in records:
        ratio = r.get("ratio_vs_reference")
        ref = r.get("reference") or {}
        if ratio is None:
            ratio_text = "null"
            notes.append(f"{r['size']}: reference {ref.get('status', 'not run')}")
        else:
            ratio_text = f"{ratio:.0f}x"
            notes.append(
                f"{r['size']}: reference on {ref.get('days', '?'):g} days ({ref.get('ticks')} ticks): "
                f"{_sci(ref.get('agent_updates_per_second'))} agent-upd/s vs core "
                f"{_sci(ref.get('core_agent_updates_per_second'))}"
            )
        share = r.get("cpu_share")
        if share is not None and share < 0.9:
            notes.append(
                f"{r['size']}: the machine was busy: the timed runs got {share:.0%} of a core "
                "(wall-clock rates are low; agent-upd/CPU-s is the better estimate)"
            )
        if r.get("jit_during_run"):
            notes.append(f"{r['size']}: WARNING a kernel was compiled during the timed runs")
        spread = r.get("agent_updates_per_second_spread") or {}
        rows.append(
            [
                r["size"],
                f"{r['agents']:,}",
                str(r["ticks"]),
                _sci(r["agent_updates_per_second"]),
                f"{_sci(spread.get('min'))}-{_sci(spread.get('max'))}",
                _sci(r.get("agent_updates_per_cpu_second")),
                f"{r['bytes_per_agent']:.1f}",
                f"{r['peak_rss_bytes'] / 2**20:.0f}",
                ratio_text,
                _seconds(r.get("jit_compile_seconds")),
                _seconds(r.get("jit_cached_seconds")),
            ]
        )
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    if records:
        m = records[0].get("machine") or {}
        lines.append("")
        lines.append(
            f"machine: {m.get('cpu_model', '?')}, {m.get('cpu_count', '?')} CPUs; python {m.get('python', '?')}, "
            f"numpy {m.get('numpy', '?')}, numba {m.get('numba', '?')}; NUMBA_NUM_THREADS=1"
        )
    lines += [f"note: {n}" for n in notes]
    return "\n".join(lines)


# -------------------------------------------------------------------- worker


def _worker_main(argv: list[str]) -> int:
    """``python -m blinasim.bench {measure,jit} SPEC_JSON``: print one JSON line."""
    if len(argv) != 2 or argv[0] not in ("measure", "jit"):
        print(
            "usage: python -m blinasim.bench {measure,jit} SPEC_JSON (internal; use `blinasim bench`)", file=sys.stderr
        )
        return 2
    spec = json.loads(argv[1])
    result = worker_measure(spec) if argv[0] == "measure" else worker_jit(spec)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(_worker_main(sys.argv[1:]))

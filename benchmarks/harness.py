"""Benchmark harness of the numba core: throughput, memory, JIT time, ratio to the reference.

Outside the installed package: run it through ``benchmarks/bench_core.py``
(the command line) or import it from this folder. Benchmarks measure and
report; they are not tests and never time out (STYLE.md). The measurements
themselves (the workload, agent-updates per second, the reference and the
ratio) are :mod:`blinasim.reference.benchmark`, the same that ``blinasim
bench`` runs in one process; this harness adds what needs a process of its
own or the source tree (DESIGN.md, "Performance rules"):

* **a fresh process per size**, with ``NUMBA_NUM_THREADS=1`` (this file run
  as ``python harness.py measure SPEC``), so peak memory is per size and one
  size cannot warm the caches of the next; a check that no kernel is
  compiled during the timed runs (``jit_during_run``).
* **memory**: ``bytes_per_agent = model.state.nbytes / model.live_agents``
  just after construction, and the peak resident set size of the process
  measuring one size (``peak_rss_bytes``; taken before the reference model
  runs, so it is the numba core's).
* **JIT compile time**: cold (an empty numba cache directory) and cached (the
  same directory, warmed), each in a fresh interpreter: the first
  construction and run of a tiny model, minus the same work once compiled.
* **per-phase timings** (``--profile``), **scaling** of the cost with agents
  and with days (:func:`measure_scaling`, :func:`plot_scaling`), and the
  machine, library versions and git commit on every record.

Python API (from this folder)::

    import harness
    records = harness.run_benchmark(["small", "medium"], repeats=5)
    print(harness.format_table(records))
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# Nothing of blinasim is imported here at module level: the JIT worker times the
# first import of the package, and the parent needs none of the simulation.

DEFAULT_SIZES = ("small", "medium", "large")
DEFAULT_REPEATS = 5
DEFAULT_REFERENCE_REPEATS = 1

# Default scaling experiment: lattice sides (about 1e4 .. 1e7 agents) at fixed
# days, and day counts at a fixed side.
SCALING_SIDES = (109, 189, 345, 597, 1091, 1890, 3450)
SCALING_SIDE_DAYS = 1.0
SCALING_DAYS = (0.5, 1.0, 2.0, 4.0, 8.0)
SCALING_FIXED_SIDE = 345


def _bench():
    """:mod:`blinasim.reference.benchmark`, imported on first use."""
    from blinasim.reference import benchmark

    return benchmark


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

    import blinasim.kernels as kernels

    count = 0
    for modname in kernels.__all__:
        mod = getattr(kernels, modname)
        if inspect.ismodule(mod):
            for obj in vars(mod).values():
                if isinstance(obj, CPUDispatcher) and obj.__module__ == mod.__name__:
                    count += len(obj.signatures)
    return count


def _profile_phases(config) -> dict[str, Any]:
    """One extra run with per-phase timing: seconds and share of the run per phase."""
    from blinasim.core.model import BlinatumomabModel

    model = BlinatumomabModel(config, profile=True)
    model.run()
    seconds = dict(model.phase_seconds)
    total = sum(seconds.values()) or 1.0
    ranked = sorted(seconds, key=seconds.get, reverse=True)
    return {
        "phase_seconds": {k: seconds[k] for k in ranked},
        "phase_fraction": {k: seconds[k] / total for k in ranked},
    }


def worker_measure(spec: dict[str, Any]) -> dict[str, Any]:
    """Measure one size in this (fresh) process. ``spec`` is built by :func:`measure_size`."""
    import numba

    bm = _bench()
    side, days, repeats = int(spec["lattice_size"]), float(spec["days"]), int(spec["repeats"])
    load_before = _load_average()
    bm.warm_up()
    compiled_before = _compiled_signatures()
    rss_before = _rss_bytes()

    config = bm.workload_config(side, days)
    out: dict[str, Any] = {"lattice_size": side, "days": days, "repeats": repeats}
    out.update(bm.measure_core(config, repeats))
    out["baseline_rss_bytes"] = rss_before
    out["peak_rss_bytes"] = _peak_rss_bytes()  # before the reference runs: the numba core's
    out["numba_threads"] = numba.get_num_threads()
    out["load_average_before"] = load_before  # other work on the machine makes the timings noisy
    out["jit_during_run"] = _compiled_signatures() != compiled_before
    if spec.get("profile"):
        out.update(_profile_phases(config))
    out["reference"] = {"status": spec.get("reference_status", "not run")}
    out.update(
        bm.compare_with_reference(out, side, spec.get("reference_days"), repeats, int(spec.get("reference_repeats", 1)))
    )
    return out


def worker_jit(spec: dict[str, Any]) -> dict[str, Any]:
    """First construction and run of a tiny model in this (fresh) process, and the same again."""
    t0 = time.perf_counter()
    from blinasim.core.model import BlinatumomabModel

    t1 = time.perf_counter()
    bm = _bench()
    config = bm.workload_config(int(spec.get("lattice_size", 16)), float(spec.get("days", 2.0)))
    timings = []
    for _ in range(2):
        t = time.perf_counter()
        model = BlinatumomabModel(config)
        model.run()
        bm.compile_rare_kernels()
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
    """The measuring process's environment: one thread everywhere; the same blinasim as this process."""
    import blinasim

    env = dict(os.environ)
    env["NUMBA_NUM_THREADS"] = "1"
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    src = str(Path(blinasim.__file__).resolve().parents[1])
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _run_worker(kind: str, spec: dict[str, Any], cache_dir: str | None) -> dict[str, Any]:
    """Run ``python harness.py KIND SPEC`` in a fresh interpreter; return its JSON answer."""
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), kind, json.dumps(spec)],
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
    size,
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

    ``size`` is a name of :data:`blinasim.reference.benchmark.SIZES` or a
    :class:`~blinasim.reference.benchmark.BenchSize`; ``lattice_size``
    overrides its lattice side (scaling experiments). ``cache_dir``: the
    numba cache folder of the subprocess (default: the user's, i.e.
    ``NUMBA_CACHE_DIR`` or ``~/.cache/blinasim/numba``).
    """
    bm = _bench()
    s = bm.SIZES[size] if isinstance(size, str) else size
    run_days = s.days if days is None else float(days)
    bm.check_options(run_days, repeats)
    ref_days, status = bm.reference_status(s, reference)
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
    bm = _bench()
    names = bm.parse_sizes(list(sizes))
    bm.check_options(days, repeats)
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
            s = bm.SIZES[name]
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
            say(f"  {rec['agents']} agents, {bm.format_rate(rec['agent_updates_per_second'])} agent-updates/s")
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
    custom = _bench().BenchSize("scaling", 0, side_days, None, "scaling point", hidden=True)

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


def _seconds(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def format_table(records: Sequence[dict[str, Any]]) -> str:
    """A readable fixed-width table of benchmark records, with the machine and notes below."""
    bm = _bench()
    rate = bm.format_rate
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
    rows = []
    for r in records:
        ratio = r.get("ratio_vs_reference")
        spread = r.get("agent_updates_per_second_spread") or {}
        rows.append(
            [
                r["size"],
                f"{r['agents']:,}",
                str(r["ticks"]),
                rate(r["agent_updates_per_second"]),
                f"{rate(spread.get('min'))}-{rate(spread.get('max'))}",
                rate(r.get("agent_updates_per_cpu_second")),
                f"{r['bytes_per_agent']:.1f}",
                f"{r['peak_rss_bytes'] / 2**20:.0f}",
                "null" if ratio is None else f"{ratio:.0f}x",
                _seconds(r.get("jit_compile_seconds")),
                _seconds(r.get("jit_cached_seconds")),
            ]
        )
    notes = bm.reference_notes(records)
    notes += [
        f"{r['size']}: WARNING a kernel was compiled during the timed runs" for r in records if r.get("jit_during_run")
    ]
    lines = bm.format_columns(headers, rows)
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
    """``python harness.py {measure,jit} SPEC_JSON``: measure in this process, print one JSON line."""
    if len(argv) != 2 or argv[0] not in ("measure", "jit"):
        print("usage: python harness.py {measure,jit} SPEC_JSON (internal; use bench_core.py)", file=sys.stderr)
        return 2
    spec = json.loads(argv[1])
    result = worker_measure(spec) if argv[0] == "measure" else worker_jit(spec)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(_worker_main(sys.argv[1:]))

"""The numba core against the Mesa reference, in one run (``blinasim bench``).

Both models run the benchmark workload (the default patient under
``treatment.regimen = "flat"``: the drug is on from tick 0, so every kernel
does real work) on the same config and seed, in this process, one after the
other. What is measured (DESIGN.md, "Performance rules"):

* **agent-updates per second**: ``mean live agents over the run * ticks /
  wall seconds of model.run()``; live agents are blasts, normal B cells,
  T-cells and other nucleated marrow cells. For the numba core the mean is
  the time average of the hourly census (nothing extra runs inside the timed
  call); for the reference, which records nothing we can read, the mean of
  its first and last counts. Construction is timed apart (``init_seconds``).
  The CPU time of the same runs gives ``agent_updates_per_cpu_second`` and
  ``cpu_share`` (CPU / wall seconds: below 1 when other processes took turns
  on our core).
* **ratio to the reference**: core / reference agent-updates per second.
  Where the reference runs fewer days than the core (it is slow), the core
  is timed again on exactly the reference's config.

The full harness (a fresh process per size, peak memory, cold and cached
JIT time, scaling with agents and days, plots) is ``benchmarks/bench_core.py``
in the source repository; it measures with the functions here.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from blinasim.core.model import BlinatumomabModel
from blinasim.core.seeds import run_seed
from blinasim.core.state import State
from blinasim.errors import BlinasimError, arg
from blinasim.kernels import census, compaction
from blinasim.params.defaults import LITERATURE
from blinasim.params.schema import Config, load_config
from blinasim.reference.mesa_model import ReferenceModel

# --------------------------------------------------------------------- sizes


@dataclass(frozen=True)
class BenchSize:
    """A named benchmark size.

    Parameters
    ----------
    name
        The size's name (``--sizes``).
    lattice_size
        Lattice side; about ``0.84 * lattice_size**2`` live agents at the
        default cellularity and T-cell fraction (the count is measured).
    days
        Default simulated duration.
    reference_days
        Duration of the reference comparison, or None when the reference is
        not run at this size (too slow).
    description
        One line for the help text.
    hidden
        Not offered to users (test sizes).
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

#: Config overrides of the benchmark workload (on top of the built-in defaults).
WORKLOAD = {"treatment.regimen": "flat"}

#: Upper bound of ``simulation.days`` in the config schema.
MAX_DAYS = 3650.0


class BenchError(BlinasimError):
    """A bad benchmark option, with one readable line per problem (``problems``)."""


def _allowed_sizes() -> str:
    return ", ".join(PUBLIC_SIZES) + " (and 'tiny' for tests)"


def parse_sizes(text: str | Sequence[str]) -> list[str]:
    """Split a comma-separated list of size names and check every name.

    Parameters
    ----------
    text
        ``"small,medium"`` or a sequence of names.

    Returns
    -------
    list[str]
        The names in order, without duplicates.

    Raises
    ------
    BenchError
        Naming each bad value (as the argument ``sizes``) and the allowed names.
    """
    items = text.split(",") if isinstance(text, str) else list(text)
    names = [s.strip() for s in items if s.strip()]
    problems = [f"{arg('sizes', repr(n))}: unknown size; allowed: {_allowed_sizes()}" for n in names if n not in SIZES]
    if not names:
        problems.append(f"{arg('sizes', repr(text))}: no size given; allowed: {_allowed_sizes()}")
    if problems:
        raise BenchError(problems)
    return list(dict.fromkeys(names))


def check_options(days: float | None = None, repeats: int | None = None) -> None:
    """Check ``days`` and ``repeats`` (the problems name them as arguments: ``--days`` on the command line).

    Raises
    ------
    BenchError
        With every problem.
    """
    problems = []
    if days is not None:
        shortest = LITERATURE["simulation.dt_hours"].value / 24.0  # one tick
        if not (isinstance(days, int | float) and math.isfinite(days) and days > 0):
            problems.append(f"{arg('days', repr(days))}: must be a positive number of simulated days")
        elif days < shortest:
            problems.append(
                f"{arg('days', repr(days))}: shorter than one tick; allowed: {shortest:.5g} <= days <= {MAX_DAYS:g}"
            )
        elif days > MAX_DAYS:
            problems.append(f"{arg('days', repr(days))}: too long; allowed: {shortest:.5g} <= days <= {MAX_DAYS:g}")
    if repeats is not None and (not isinstance(repeats, int) or repeats < 1):
        problems.append(f"{arg('repeats', repr(repeats))}: must be a whole number >= 1")
    if problems:
        raise BenchError(problems)


def workload_config(lattice_size: int, days: float) -> Config:
    """The benchmark workload: the default patient, flat regimen, given lattice side and days."""
    return load_config(None, {**WORKLOAD, "simulation.lattice_size": int(lattice_size), "simulation.days": float(days)})


# ------------------------------------------------------------------ warm-up


def compile_rare_kernels() -> None:
    """Compile the kernels a tiny run may not reach (target compaction) with the model's argument types."""
    st = State.allocate(1, 0, 0)
    compaction.compact_targets(0, st.targets.record, st.lattice, 0, st.tcells.record, st.scratch)


def warm_up() -> None:
    """Compile or load every kernel the workload uses: a tiny flat-regimen run of 2 days, then the rare ones."""
    BlinatumomabModel(workload_config(16, 2.0)).run()
    compile_rare_kernels()


# ---------------------------------------------------------------- measuring


def spread(values: Sequence[float]) -> dict[str, float]:
    """Minimum, maximum and interquartile range of repeated measurements."""
    v = sorted(values)
    iqr = 0.0
    if len(v) >= 2:
        q = statistics.quantiles(v, n=4, method="inclusive")
        iqr = q[2] - q[0]
    return {"min": v[0], "max": v[-1], "iqr": iqr}


def _time_average(rows, record_every: int, now: float, tick: int) -> float:
    """Time average over the run of one census series (one row per record), ending with ``now``."""
    y = np.asarray(rows, dtype=np.float64)
    t = np.arange(len(y), dtype=np.float64) * record_every
    if t[-1] < tick:  # the last stretch is not recorded: end with the count now
        y, t = np.append(y, now), np.append(t, float(tick))
    return float(y[0]) if len(y) == 1 else float(np.trapezoid(y, t) / (t[-1] - t[0]))


def run_means(model: BlinatumomabModel) -> dict[str, float]:
    """Time-averaged live agents and live T-cells over a finished run, from the hourly census."""
    C = census
    rows = model.rec_counts[: model.rec_index]
    live = rows[:, [C.C_BLASTS, C.C_BLASTS + 1, C.C_NORMAL_B, C.C_NORMAL_B + 1, C.C_T, C.C_T + 1, C.C_OTHER_MARROW]]
    t_cells = rows[:, [C.C_T, C.C_T + 1]]
    return {
        "agents": _time_average(live.sum(axis=1), model.record_every, model.live_agents, model.tick),
        "t_cells": _time_average(t_cells.sum(axis=1), model.record_every, model.state.tcells.live, model.tick),
        "agents_initial": int(live[0].sum()),
        "agents_final": int(model.live_agents),
    }


def measure_core(config: Config, repeats: int) -> dict[str, Any]:
    """Construct and run the numba model ``repeats`` times on one config (same seed each time).

    Parameters
    ----------
    config
        The workload (:func:`workload_config`).
    repeats
        Timed runs; the record gives medians, the spread and every value.

    Returns
    -------
    dict
        JSON-ready: agents, ticks, ``init_seconds``, ``run_seconds``,
        ``agent_updates_per_second`` (and per CPU second), ``cpu_share``,
        ``bytes_per_agent`` and ``state_bytes`` just after construction.
    """
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
        means = run_means(model)  # identical in every repeat: same config, same seed
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
        "agent_updates_per_second_spread": spread(rates),
        "cpu_seconds": statistics.median(cpu_s),
        "cpu_seconds_all": cpu_s,
        "agent_updates_per_cpu_second": statistics.median(cpu_rates),
        "agent_updates_per_cpu_second_spread": spread(cpu_rates),
        "cpu_share": sum(cpu_s) / sum(run_s),
        **first,
    }


def measure_reference(config: Config, repeats: int) -> dict[str, Any]:
    """Time ``ReferenceModel.run()`` on ``config``; live agents are averaged from the first and last counts."""
    seed = run_seed(config.simulation.seed)
    init_s, run_s, cpu_s, rates, cpu_rates, agents = [], [], [], [], [], []
    ticks = None
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        ref = ReferenceModel(config, seed=seed)
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
        "agent_updates_per_second_spread": spread(rates),
        "cpu_seconds": statistics.median(cpu_s),
        "agent_updates_per_cpu_second": statistics.median(cpu_rates),
        "cpu_share": sum(cpu_s) / sum(run_s),
        "repeats": repeats,
    }


def reference_status(size: BenchSize, reference: bool) -> tuple[float | None, str]:
    """Days of the reference run at ``size`` (None when it is not run) and the status saying why not."""
    if not reference:
        return None, "skipped (--no-reference)"
    if size.reference_days is None:
        return None, f"skipped (not run at size {size.name!r}; too slow)"
    return size.reference_days, "not run"


def compare_with_reference(
    core: dict[str, Any], lattice_size: int, reference_days: float | None, repeats: int, reference_repeats: int = 1
) -> dict[str, Any]:
    """The reference on the core's workload and the ratio core / reference.

    Parameters
    ----------
    core
        A record of :func:`measure_core` (``days`` and ``ticks`` of its run).
    lattice_size
        The workload's lattice side.
    reference_days
        Days of the reference run (at most the core's), or None: not run.
    repeats
        Timed runs of the core, if it must be timed again on the reference's days.
    reference_repeats
        Timed runs of the reference.

    Returns
    -------
    dict
        ``ratio_vs_reference`` and ``ratio_vs_reference_cpu`` (None when not
        run or failed) and ``reference``: its record with ``status`` ("ok" or
        why not) and the core's numbers it is compared with.
    """
    out: dict[str, Any] = {"ratio_vs_reference": None, "ratio_vs_reference_cpu": None}
    if reference_days is None:
        return out
    days = min(core["days"], reference_days)
    config = workload_config(lattice_size, days)
    same = math.isclose(days, core["days"])
    core_on_ref = core if same else measure_core(config, repeats)
    try:
        ref = measure_reference(config, reference_repeats)
    except Exception as exc:  # report, don't fail the whole benchmark
        out["reference"] = {"status": f"failed ({type(exc).__name__}: {exc})"}
        return out
    ref.update(
        status="ok",
        days=days,
        core_agent_updates_per_second=core_on_ref["agent_updates_per_second"],
        core_agent_updates_per_cpu_second=core_on_ref["agent_updates_per_cpu_second"],
        core_ticks=core_on_ref["ticks"],
        core_agents=core_on_ref["agents"],
    )
    out["reference"] = ref
    out["ratio_vs_reference"] = core_on_ref["agent_updates_per_second"] / ref["agent_updates_per_second"]
    out["ratio_vs_reference_cpu"] = core_on_ref["agent_updates_per_cpu_second"] / ref["agent_updates_per_cpu_second"]
    return out


def compare(
    sizes: Sequence[str] = ("small",),
    *,
    days: float | None = None,
    repeats: int = 3,
    reference: bool = True,
    reference_repeats: int = 1,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """The numba core and the Mesa reference at each size, in this process; one record per size.

    Parameters
    ----------
    sizes
        Names from :data:`SIZES`.
    days
        Simulated days per core run (default: the size's); the reference runs
        at most its size's ``reference_days``.
    repeats, reference_repeats
        Timed runs of the core and of the reference.
    reference
        Run the reference (else the ratio is None and the record says why).
    progress
        Called with one line per step.

    Returns
    -------
    list[dict]
        :func:`measure_core` records with ``size``, ``lattice_size``,
        ``days`` and the fields of :func:`compare_with_reference`.
    """
    names = parse_sizes(list(sizes))
    check_options(days, repeats)
    say = progress or (lambda msg: None)
    say("loading the kernels ...")
    warm_up()
    records = []
    for name in names:
        s = SIZES[name]
        d = s.days if days is None else float(days)
        say(f"measuring {name} (lattice {s.lattice_size}, {d:g} days, {repeats} repeats) ...")
        rec: dict[str, Any] = {"size": name, "lattice_size": s.lattice_size, "days": d, "repeats": repeats}
        rec.update(measure_core(workload_config(s.lattice_size, d), repeats))
        ref_days, status = reference_status(s, reference)
        rec["reference"] = {"status": status}
        if ref_days is not None:
            say(f"  the reference on {min(d, ref_days):g} days ...")
        rec.update(compare_with_reference(rec, s.lattice_size, ref_days, repeats, reference_repeats))
        records.append(rec)
    return records


# --------------------------------------------------------------------- table


def format_rate(x: float | None) -> str:
    """A rate as ``1.23e8``; ``n/a`` when missing."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    mantissa, exponent = f"{x:.2e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def reference_notes(records: Sequence[dict[str, Any]]) -> list[str]:
    """One line per record on its reference run (or why there was none) and on a busy machine."""
    notes = []
    for r in records:
        ref = r.get("reference") or {}
        if r.get("ratio_vs_reference") is None:
            notes.append(f"{r['size']}: reference {ref.get('status', 'not run')}")
        else:
            notes.append(
                f"{r['size']}: reference on {ref.get('days', '?'):g} days ({ref.get('ticks')} ticks): "
                f"{format_rate(ref.get('agent_updates_per_second'))} agent-upd/s vs core "
                f"{format_rate(ref.get('core_agent_updates_per_second'))}"
            )
        share = r.get("cpu_share")
        if share is not None and share < 0.9:
            notes.append(
                f"{r['size']}: the machine was busy: the timed runs got {share:.0%} of a core "
                "(wall-clock rates are low; agent-upd/CPU-s is the better estimate)"
            )
    return notes


def format_columns(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Right-aligned fixed-width columns under a header and a rule."""
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return lines


def format_table(records: Sequence[dict[str, Any]]) -> str:
    """The records of :func:`compare` as a readable table, with notes below."""
    headers, rows = table_rows(records)
    return "\n".join(format_columns(headers, rows) + [f"note: {n}" for n in reference_notes(records)])


def table_rows(records: Sequence[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """The headers and the rows (text cells, one per size) of the table of :func:`compare`'s records."""
    headers = ["size", "agents", "ticks", "agent-upd/s", "agent-upd/CPU-s", "B/agent", "vs reference"]
    rows = [
        [
            r["size"],
            f"{r['agents']:,}",
            str(r["ticks"]),
            format_rate(r["agent_updates_per_second"]),
            format_rate(r.get("agent_updates_per_cpu_second")),
            f"{r['bytes_per_agent']:.1f}",
            "null" if r.get("ratio_vs_reference") is None else f"{r['ratio_vs_reference']:.0f}x",
        ]
        for r in records
    ]
    return headers, rows

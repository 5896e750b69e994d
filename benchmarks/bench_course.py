"""Benchmark a patient over years: the 2-year MT103-211-like trial at MRD resolution 1e-6.

    python benchmarks/bench_course.py [--n 200] [--workers 2] [--seed 8191] [--json FILE]

Measured in one run (docs/performance.md, "Two years of a patient"):

1. **One patient, 2 years vs its first cycle**: the wall time of a typical
   MT103-211-like patient (cohort patient 0) simulated for cycle 1 only
   (42 days, no course) and for the trial (the 84-day lattice run of
   the induction, then the event-driven course to 2 years); their ratio (the
   issue's target: at most 3).
2. **The trial**: ``n`` patients through the local worker pool, wall time,
   patient-years per core-second.
3. **The brute-force alternative** measured in the same run: a lattice whose
   single agent is 1e-6 of the marrow (no adaptive weight, no course), timed on
   a short horizon and extrapolated to 2 years and ``n`` patients.
4. **Share of agents doing per-tick work** over the 2 years: agent-ticks of
   the lattice run over (agents x ticks of 2 years at the lattice's tick), and
   the agent-update rate of the lattice run.

Benchmarks report; they assert nothing and never time out.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

from blinasim.core.model import BlinatumomabModel
from blinasim.core.seeds import run_seed
from blinasim.params.schema import load_config
from blinasim.trials.calibration.survival import MONTH
from blinasim.trials.cohort import draw_cohort
from blinasim.trials.trial import TRIAL_SETTINGS, run_cohorts

YEARS = 2.0


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _timed(overrides: dict, seed: int) -> tuple[float, BlinatumomabModel]:
    cfg = load_config(None, overrides)
    start = time.perf_counter()
    model = BlinatumomabModel(cfg, seed=seed)
    model.run()
    model.to_dataset()
    return time.perf_counter() - start, model


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=200, help="patients of the trial (%(default)s)")
    p.add_argument("--workers", type=int, default=2, help="local worker processes (%(default)s)")
    p.add_argument("--seed", type=int, default=8191)
    p.add_argument("--brute-days", type=float, default=0.25, help="horizon of the brute-force timing (days)")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)

    patient = draw_cohort("mt103_211", 1, args.seed)[0]
    seed = run_seed(args.seed, 0, 0)
    trial = {**patient, **TRIAL_SETTINGS["mt103_211"], "course.follow_up_days": 365.25 * YEARS}
    cycle1 = {**trial, "simulation.days": 42.0, "course.plan": "none"}
    _timed({**cycle1, "simulation.days": 1.0}, seed)  # warm the kernels
    t_cycle1 = min(_timed(cycle1, seed)[0] for _ in range(3))
    runs = [_timed(trial, seed) for _ in range(3)]
    t_two_years = min(t for t, _ in runs)
    model = runs[0][1]
    _say(f"one patient: cycle 1 {t_cycle1:.2f} s, 2 years {t_two_years:.2f} s, ratio {t_two_years / t_cycle1:.2f}")

    # Agents doing per-tick work: the lattice run's T-cells every tick, everything else on the slow clock;
    # after it, none. Average live agents over the run from the census.
    rows = model.rec_counts[: model.rec_index]
    agents = rows.sum(axis=1).mean()
    lattice_ticks = model.n_ticks
    ticks_two_years = 365.25 * YEARS * 24.0 / model.dt_hours
    agent_share = lattice_ticks / ticks_two_years
    lattice_rate = agents * lattice_ticks / t_two_years

    # The trial.
    cohorts = {"mt103_211": draw_cohort("mt103_211", args.n, args.seed)}
    start = time.perf_counter()
    results = run_cohorts(cohorts, args.seed, {"course.follow_up_days": 365.25 * YEARS}, workers=args.workers)
    t_trial = time.perf_counter() - start
    patient_years = sum(min(r["os_days"], 365.25 * YEARS) for r in results) / 365.25
    _say(f"trial: {args.n} patients in {t_trial:.0f} s on {args.workers} workers")

    # Brute force: one agent = 1e-6 of the marrow nucleated cells, at the cohort patient's cellularity.
    cellularity = load_config(None, trial).patient.marrow_cellularity
    side = math.ceil(math.sqrt(1e6 / cellularity))
    brute = {**cycle1, "simulation.lattice_size": side, "simulation.days": args.brute_days}
    brute["disease.min_blast_agents"] = 1  # no splitting: the lattice alone resolves 1e-6
    t_brute, bmodel = _timed(brute, seed)
    per_day = t_brute / args.brute_days
    brute_patient = per_day * 365.25 * YEARS
    brute_trial = brute_patient * args.n / args.workers
    _say(f"brute force: lattice {side}^2, {per_day:.1f} s per simulated day -> {brute_patient / 3600:.1f} h a patient")

    record = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "seed": args.seed,
        "one_patient": {
            "cycle1_seconds": t_cycle1,
            "two_years_seconds": t_two_years,
            "ratio": t_two_years / t_cycle1,
            "lattice_days": float(model.rec_time_days[model.rec_index - 1]),
        },
        "trial": {
            "patients": args.n,
            "workers": args.workers,
            "wall_seconds": t_trial,
            "patient_years_followed": patient_years,
            "patient_years_per_core_second": patient_years / (t_trial * args.workers),
            "median_os_months": sorted(r["os_days"] for r in results)[len(results) // 2] / MONTH,
        },
        "brute_force": {
            "lattice_side": side,
            "timed_days": args.brute_days,
            "seconds_per_simulated_day": per_day,
            "two_years_one_patient_seconds": brute_patient,
            "trial_seconds_extrapolated": brute_trial,
            "speedup_of_the_course": brute_trial / t_trial,
            "live_agents": int(bmodel.live_agents),
        },
        "per_tick_work": {
            "share_of_two_years_with_agent_ticks": agent_share,
            "mean_agents_during_lattice_run": float(agents),
            "agent_updates_per_second_lattice_run": lattice_rate,
        },
    }
    print(json.dumps(record, indent=2))
    if args.json:
        args.json.write_text(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Blood B cells at day 2 of BLAST-like patients, counted in blood agents (docs/validation.md, scoreboard
row "blood B cells < 1/uL by day 2").

    python docs/calibration/scoreboard/b_depletion.py N SEED

Runs the first 3 days of the ``blast`` cohort's N patients of seed SEED with the trial's settings and run
seeds of ``blinasim calibrate verify`` (``blinasim.trials.trial.patient_config``, ``run_seed(SEED, i, 0)``)
and prints how many have blood B cells below 1/uL at day 2, the cells per uL that one blood agent stands
for, and how many blood B agents the others still hold.
"""

from __future__ import annotations

import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from blinasim import simulate
from blinasim.core.patient import plan_patient
from blinasim.core.seeds import run_seed
from blinasim.trials.cohort import draw_cohort
from blinasim.trials.trial import patient_config


def one(job: tuple[int, dict, int]) -> tuple[float, float]:
    """(cells per uL of one blood agent, blood B cells per uL at day 2) of one patient."""
    index, overrides, seed = job
    config = patient_config("blast", overrides, {"simulation.days": 3.0})
    plan = plan_patient(config)
    ds = simulate(config, seed=run_seed(seed, index, 0))
    day2 = int(np.searchsorted(ds.time.values, 2.0))
    blood_b = float(ds.normal_b_cells.sel(compartment="blood").values[day2]) / plan.blood_volume_ul
    return plan.cells_per_agent / plan.blood_volume_ul, blood_b


def main(argv: list[str]) -> None:
    n, seed = int(argv[0]), int(argv[1])
    jobs = [(i, p, seed) for i, p in enumerate(draw_cohort("blast", n, seed))]
    with ProcessPoolExecutor(2) as pool:
        rows = list(pool.map(one, jobs))
    per_agent = np.array([r[0] for r in rows])
    left = Counter(round(b / a) for a, b in rows if b >= 1.0)
    depleted = sum(b < 1.0 for _, b in rows)
    print(f"{n} blast-like patients of seed {seed}: blood B cells < 1/uL at day 2 in {depleted}/{n}")
    print(
        f"one blood agent stands for {per_agent.min():.1f}-{per_agent.max():.1f} cells/uL (median {np.median(per_agent):.1f})"
    )
    print("blood B agents left at day 2 in the others: " + ", ".join(f"{k}: {v}" for k, v in sorted(left.items())))


if __name__ == "__main__":
    main(sys.argv[1:])

"""Neurotoxicity onset in cycle 1, and how the courses end, on an MT103-211-like cohort.

    python scripts/neuro_onset.py N SEED ['{"cytokines.neuro_priming_days": 6, ...overrides}']

Runs N patients of the ``mt103_211`` cohort (seed SEED, the lattice induction only) and prints
the day neurotoxicity of grade >= 1 and >= 3 first appears in cycle 1 (median, quartiles, the
share before the step-up on day 7), then the discontinuations (those by ``neuro_hold`` at the
step-up dose apart), holds and restarts (docs/validation.md, "Neurotoxicity onset and burden").
Target: median onset about day 9 ([Stein2019]).
"""

from __future__ import annotations

import json
import sys
from multiprocessing import Pool

import numpy as np

from blinasim import simulate
from blinasim.core.seeds import run_seed
from blinasim.trials.cohort import draw_cohort
from blinasim.trials.trial import patient_config


def one(job: tuple[int, int, int, dict]) -> tuple[dict[int, float | None], list[tuple[str, float, str]]]:
    """Onset days of grade >= 1 and >= 3 in cycle 1, and the protocol's holds, restarts and stops."""
    i, n, seed, extra = job
    patient = {**draw_cohort("mt103_211", n, seed)[i], **extra, "course.plan": "none"}
    ds = simulate(patient_config("mt103_211", patient), seed=run_seed(seed, i, 0))
    cycle1 = ds.sel(time=slice(0, 28))
    t, g = cycle1.time.values, cycle1.neurotoxicity_grade.values
    onset = {k: (float(t[np.argmax(g >= k)]) if (g >= k).any() else None) for k in (1, 3)}
    events = json.loads(ds.attrs["events"])
    kept = [
        (e["kind"], round(float(e["day"]), 2), e.get("note") or "")
        for e in events
        if e["kind"] in ("hold", "discontinue", "restart")
    ]
    return onset, kept


def main(argv: list[str]) -> None:
    n, seed = int(argv[0]), int(argv[1])
    extra = json.loads(argv[2]) if len(argv) > 2 else {}
    with Pool(2) as pool:
        out = pool.map(one, [(i, n, seed, extra) for i in range(n)])
    for k in (1, 3):
        days = np.array([o[k] for o, _ in out if o[k] is not None])
        if len(days) == 0:
            print(f"grade >= {k}: 0/{n}")
            continue
        q1, med, q3 = np.percentile(days, [25, 50, 75])
        print(
            f"grade >= {k}: {len(days)}/{n}; onset median day {med:.2f} (quartiles {q1:.2f}-{q3:.2f}); "
            f"before day 7: {np.mean(days < 7):.2f}"
        )
    stops = [e for _, evs in out for e in evs if e[0] == "discontinue"]
    at_step_up = sum(1 for e in stops if e[2].startswith("neuro_hold: occurred at the step-up dose"))
    holds = sum(1 for _, evs in out for e in evs if e[0] == "hold")
    restarts = sum(1 for _, evs in out for e in evs if e[0] == "restart")
    print(f"discontinued: {len(stops)}/{n} patients' courses, {at_step_up} by neuro_hold at the step-up dose")
    print(f"holds: {holds}, restarts: {restarts}")


if __name__ == "__main__":
    main(sys.argv[1:])

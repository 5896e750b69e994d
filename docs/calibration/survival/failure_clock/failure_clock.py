"""Stage 8's read-outs with a non-responder's death from disease counted from the start of treatment or
from the response assessment (docs/validation.md, "Deaths inside the induction").

    python docs/calibration/survival/failure_clock/failure_clock.py CACHE.pkl SEED

CACHE.pkl: the lattice runs of ``scripts/calibrate_survival.py --n N --seed SEED --cache CACHE.pkl``
(the lattice part does not depend on the course, so both origins follow the same runs). Prints every
survival target's model value and miss for ``course.failure_survival_from`` = ``assessment`` and
``treatment_start``, and for MT103-211 the share of patients dead by day 70 (the end of cycle 2's
infusion, the response assessment).
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

from blinasim.core.output import with_course
from blinasim.core.seeds import run_seed
from blinasim.trials.calibration.survival import SURVIVAL_TARGETS, course_config, miss, survival_values

ORIGINS = ("assessment", "treatment_start")


def dead_by(runs, seed: int, origin: str, day: float) -> tuple[int, int]:
    """MT103-211 patients dead by ``day`` and all MT103-211 patients."""
    mt = [r for r in runs if r.trial == "mt103_211"]
    dead = 0
    for run in mt:
        ds = with_course(
            run.dataset, course_config(run, {"course.failure_survival_from": origin}), run_seed(seed, run.index, 0)
        )
        dead += int(ds.os_event.values == 1 and float(ds.os_days.values) <= day)
    return dead, len(mt)


def main(argv: list[str]) -> None:
    if len(argv) != 2 or not Path(argv[0]).is_file() or not argv[1].isdigit():
        sys.exit("usage: failure_clock.py CACHE.pkl SEED (a cache written by scripts/calibrate_survival.py --cache)")
    runs = pickle.loads(Path(argv[0]).read_bytes())
    seed = int(argv[1])
    for origin in ORIGINS:
        values = survival_values(runs, seed, lambda run, origin=origin: {"course.failure_survival_from": origin})
        cells = [
            f"{t.trial} {t.name} {values[(t.trial, t.name)]:.3g} (target {t.value}, miss {miss(t, values[(t.trial, t.name)]):+.2f})"
            for t in SURVIVAL_TARGETS
        ]
        dead, n = dead_by(runs, seed, origin, 70.0)
        print(f"{origin}: " + "; ".join(cells) + f"; mt103_211 dead by day 70: {dead}/{n}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

"""Stage 8's read-outs without and with the rescue by later therapy (docs/validation.md, "Survival after
failure: the rescue by later therapy").

    python docs/calibration/survival/rescue/rescue.py CACHE.pkl SEED

CACHE.pkl: the lattice runs of ``scripts/calibrate_survival.py --n N --seed SEED --cache CACHE.pkl``
(the rescue acts on the course only, so both follow the same runs). Prints every survival target's
model value and miss with ``course.failure_rescued_share`` 0 (no rescue) and at the defaults (0.07;
BLAST-like patients 0.09 by their trial settings), and the overall survival at 1, 2 and 3 years.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

from blinasim.core.output import with_course
from blinasim.core.seeds import run_seed
from blinasim.stats import kaplan_meier
from blinasim.trials.calibration.survival import SURVIVAL_TARGETS, course_config, miss, survival_values

MONTH = 365.25 / 12
SETTINGS = {"no rescue": {"course.failure_rescued_share": 0.0}, "defaults": {}}


def os_at(runs, seed: int, overrides: dict, trial: str, months: tuple[int, ...]) -> list[float]:
    """Kaplan-Meier overall survival of ``trial``'s patients at each of ``months``."""
    days, events = [], []
    for run in runs:
        if run.trial != trial:
            continue
        ds = with_course(run.dataset, course_config(run, overrides), run_seed(seed, run.index, 0))
        days.append(float(ds.os_days.values))
        events.append(int(ds.os_event.values) == 1)
    curve = kaplan_meier(days, events)
    return [curve.at(m * MONTH) for m in months]


def main(argv: list[str]) -> None:
    if len(argv) != 2 or not Path(argv[0]).is_file() or not argv[1].isdigit():
        sys.exit("usage: rescue.py CACHE.pkl SEED (a cache written by scripts/calibrate_survival.py --cache)")
    runs = pickle.loads(Path(argv[0]).read_bytes())
    seed = int(argv[1])
    for label, overrides in SETTINGS.items():
        values = survival_values(runs, seed, lambda run, o=overrides: o)
        cells = [
            f"{t.trial} {t.name} {values[(t.trial, t.name)]:.3g} (target {t.value}, miss {miss(t, values[(t.trial, t.name)]):+.2f})"
            for t in SURVIVAL_TARGETS
        ]
        print(f"{label}: " + "; ".join(cells), flush=True)
        for trial in ("mt103_211", "blast"):
            s = os_at(runs, seed, overrides, trial, (12, 24, 36))
            print(f"  {trial} OS at 1 / 2 / 3 years: " + " / ".join(f"{x:.3f}" for x in s), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

"""Stage 8's read-outs without and with the rescue by later therapy (docs/validation.md, "Survival after
failure: the rescue by later therapy").

    python docs/calibration/survival/rescue/rescue.py CACHE.pkl SEED

CACHE.pkl: the lattice runs of ``scripts/calibrate_survival.py --n N --seed SEED --cache CACHE.pkl``
(the rescue acts on the course only, so both follow the same runs). Prints every survival target's
model value and miss with ``course.failure_rescued_share`` 0 (no rescue) and at the defaults (0.07;
BLAST-like patients 0.09 by their trial settings), and the overall survival at 1, 2 and 3 years.
``--first-salvage`` prints the sensitivity setting instead (R/R share 0.13).
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
#: A sensitivity setting (``--first-salvage``): R/R patients at the first-salvage row's 3-year survival
#: (11%, share 0.13), BLAST-like patients at their own default.
FIRST_SALVAGE = {
    "first-salvage share for R/R": lambda run: {} if run.trial == "blast" else {"course.failure_rescued_share": 0.13}
}


def os_at(runs, seed: int, per_run, trial: str, months: tuple[int, ...]) -> list[float]:
    """Kaplan-Meier overall survival of ``trial``'s patients at each of ``months`` (``per_run(run)``: the
    course overrides of each patient)."""
    days, events = [], []
    for run in runs:
        if run.trial != trial:
            continue
        ds = with_course(run.dataset, course_config(run, per_run(run)), run_seed(seed, run.index, 0))
        days.append(float(ds.os_days.values))
        events.append(int(ds.os_event.values) == 1)
    curve = kaplan_meier(days, events)
    return [curve.at(m * MONTH) for m in months]


def main(argv: list[str]) -> None:
    first_salvage = "--first-salvage" in argv
    argv = [a for a in argv if a != "--first-salvage"]
    if len(argv) != 2 or not Path(argv[0]).is_file() or not argv[1].isdigit():
        sys.exit(
            "usage: rescue.py CACHE.pkl SEED [--first-salvage] (a cache written by scripts/calibrate_survival.py --cache)"
        )
    runs = pickle.loads(Path(argv[0]).read_bytes())
    seed = int(argv[1])
    settings = FIRST_SALVAGE if first_salvage else {k: (lambda run, o=o: o) for k, o in SETTINGS.items()}
    for label, per_run in settings.items():
        values = survival_values(runs, seed, per_run)
        cells = [
            f"{t.trial} {t.name} {values[(t.trial, t.name)]:.3g} (target {t.value}, miss {miss(t, values[(t.trial, t.name)]):+.2f})"
            for t in SURVIVAL_TARGETS
        ]
        print(f"{label}: " + "; ".join(cells), flush=True)
        for trial in ("mt103_211", "blast"):
            s = os_at(runs, seed, per_run, trial, (12, 24, 36))
            print(f"  {trial} OS at 1 / 2 / 3 years: " + " / ".join(f"{x:.3f}" for x in s), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

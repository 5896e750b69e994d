"""CD19-negative relapses with CD19 loss in the follow-up (docs/validation.md, "CD19-negative relapses
against the published shares").

    python docs/calibration/cd19_loss/loss_probe.py CACHE.pkl SEED RATE [RATE ...]

CACHE is a lattice cache of ``scripts/calibrate_survival.py --cache`` (MT103-211-like and BLAST-like
patients of seed SEED). Every clinical course is followed again with ``disease.cd19_loss_per_division``
at each RATE (the lattice runs are those cached; 0 is the course without CD19 loss, as before the
follow-up lost CD19). Prints each trial's first events and its share of CD19-negative relapses, then
the survival targets' model values (:func:`blinasim.trials.calibration.survival.survival_values`).
"""

from __future__ import annotations

import pickle
import sys
from collections import Counter
from pathlib import Path

from blinasim.clinical.course import EVENT_CAUSES
from blinasim.core.output import with_course
from blinasim.core.seeds import run_seed
from blinasim.trials.calibration.survival import course_config, survival_values

KEY = "disease.cd19_loss_per_division"


def main(argv: list[str]) -> None:
    runs = pickle.loads(Path(argv[0]).read_bytes())
    seed = int(argv[1])
    for rate in (float(x) for x in argv[2:]):
        for trial in ("mt103_211", "blast"):
            causes: Counter[str] = Counter()
            for run in runs:
                if run.trial == trial:
                    ds = with_course(run.dataset, course_config(run, {KEY: rate}), run_seed(seed, run.index, 0))
                    causes[EVENT_CAUSES[int(ds.event_cause.values)]] += 1
            relapses = sum(causes[k] for k in ("relapse_cd19_positive", "relapse_cd19_negative", "lineage_switch"))
            negative = causes["relapse_cd19_negative"]
            print(
                f"rate {rate:.0e} {trial}: relapses {relapses}, cd19-negative {negative} "
                f"({negative / max(relapses, 1):.2f}), {dict(causes)}",
                flush=True,
            )
        values = survival_values(runs, seed, lambda r, rate=rate: {KEY: rate})
        print("   ", {f"{trial} {name}": round(v, 3) for (trial, name), v in values.items()}, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

"""First events and transplants of stage 8's patients at the defaults (docs/validation.md, "Survival
after failure: the rescue by later therapy").

    python docs/calibration/survival/rescue/causes.py CACHE.pkl SEED

CACHE.pkl: the lattice runs of ``scripts/calibrate_survival.py --n N --seed SEED --cache CACHE.pkl``.
Prints, per trial, the patients transplanted and the count of each first event (``event_cause``), over
the whole follow-up and among the deaths within 2 years.
"""

from __future__ import annotations

import collections
import pickle
import sys
from pathlib import Path

from blinasim.clinical.course import EVENT_CAUSES
from blinasim.core.output import with_course
from blinasim.core.seeds import run_seed
from blinasim.trials.calibration.survival import course_config


def main(argv: list[str]) -> None:
    if len(argv) != 2 or not Path(argv[0]).is_file() or not argv[1].isdigit():
        sys.exit("usage: causes.py CACHE.pkl SEED (a cache written by scripts/calibrate_survival.py --cache)")
    runs = pickle.loads(Path(argv[0]).read_bytes())
    seed = int(argv[1])
    for trial in ("mt103_211", "blast"):
        first, dead_2y = collections.Counter(), collections.Counter()
        n = transplanted = 0
        for run in runs:
            if run.trial != trial:
                continue
            ds = with_course(run.dataset, course_config(run, {}), run_seed(seed, run.index, 0))
            n += 1
            transplanted += int(ds.transplanted.values)
            cause = EVENT_CAUSES[int(ds.event_cause.values)]
            first[cause] += 1
            if int(ds.os_event.values) == 1 and float(ds.os_days.values) <= 730.0:
                dead_2y[cause] += 1
        print(f"{trial}: {n} patients, {transplanted} transplanted")
        print("  first events: " + ", ".join(f"{k} {v}" for k, v in sorted(first.items())))
        print("  dead within 2 years, by first event: " + ", ".join(f"{k} {v}" for k, v in sorted(dead_2y.items())))


if __name__ == "__main__":
    main(sys.argv[1:])

"""Stage 8's scan on calibration seeds pooled (docs/validation.md, "The pace of regrowth and BLAST's
event timing"): the survival targets on the union of the caches' patients, each course followed with its
own seed, at each sanctuary median.

    python docs/calibration/survival/timing/pooled_scan.py MEDIANS CACHE.pkl SEED [CACHE.pkl SEED ...] [KEY=VALUE ...]

The caches are written by ``scripts/calibrate_survival.py --cache`` at the current default of
``patient.sanctuary_fraction``; MEDIANS is a comma-separated list; KEY=VALUE are course settings (numbers)
for every candidate. Prints each target with its miss and the procedure's score (the summed squared miss
of the two RFS targets) per median.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

from blinasim.trials.calibration.survival import (
    SURVIVAL_TARGETS,
    course_settings,
    follow_rows,
    miss,
    scaled_sanctuary,
    values_from_rows,
)
from blinasim.trials.cohort import SANCTUARY


def main(argv: list[str]) -> None:
    try:
        course = course_settings([a for a in argv if "=" in a])
    except ValueError as err:
        sys.exit(f"pooled_scan.py: {err}")
    rest = [a for a in argv if "=" not in a]
    pairs = list(zip(rest[1::2], rest[2::2], strict=False))
    if len(rest) < 3 or len(rest) % 2 == 0 or not all(Path(p).is_file() and s.isdigit() for p, s in pairs):
        sys.exit("usage: pooled_scan.py MEDIANS CACHE.pkl SEED [CACHE.pkl SEED ...] [KEY=VALUE ...]")
    medians = [float(m) for m in rest[0].split(",")]
    pools = [(pickle.loads(Path(p).read_bytes()), int(s)) for p, s in pairs]
    base = SANCTUARY.params["median"]
    fitted = [t for t in SURVIVAL_TARGETS if t.name in ("median_rfs_months", "rfs_18_months")]
    seeds = " + ".join(str(seed) for _, seed in pools)
    print(f"pooled seeds {seeds}: {sum(len(r) for r, _ in pools)} patients; course {course}")
    print("sanctuary median | " + " | ".join(f"{t.trial} {t.name} (target {t.value})" for t in SURVIVAL_TARGETS))
    for median in medians:

        def overrides(run, factor=median / base):
            return {**course, **scaled_sanctuary(run.overrides.get("patient.sanctuary_fraction", base), factor)}

        rows = {"mt103_211": [], "blast": []}
        for runs, seed in pools:
            for trial, part in follow_rows(runs, seed, overrides).items():
                rows[trial] += part
        values = values_from_rows(rows)
        cells = [
            f"{values[(t.trial, t.name)]:.3g} (miss {miss(t, values[(t.trial, t.name)]):+.2f})"
            for t in SURVIVAL_TARGETS
        ]
        score = sum(miss(t, values[(t.trial, t.name)]) ** 2 for t in fitted)
        print(f"{median:.0e} | " + " | ".join(cells) + f" | score {score:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])

"""CRS in a BLAST-like (MRD) cohort, beside the R/R cohorts' (docs/validation.md, "CRS by burden: the
pre-phase's suppression at its sourced potency").

    python docs/calibration/crs_burden/blast_crs.py N SEED '{"overrides": ...}' OUT.json

Runs N patients of the ``blast`` cohort (seed SEED) as the trial runs them (its settings win over the
overrides) and prints how many reached CRS of grade 1, 2 and 3 or more, with the median and the largest
cycle-1 peak CRS signal. The published contrast is BLAST's CRS in 4 of 116 patients (2 of grade 3)
against MT103-211's 14% ([Gokbuget2018], [Topp2015]).
"""

from __future__ import annotations

import json
import statistics
import sys

from blinasim.trials.cohort import draw_cohort
from blinasim.trials.trial import run_cohorts


def main(argv: list[str]) -> None:
    usage = __doc__.split("\n\n")[1].strip()
    if len(argv) != 4:
        sys.exit(usage)
    try:
        n, seed, extra = int(argv[0]), int(argv[1]), json.loads(argv[2])
    except ValueError:
        sys.exit("N and SEED take integers and the overrides a JSON object: " + usage)
    out = argv[3]
    patients = draw_cohort("blast", n, seed)
    results = run_cohorts({"blast": patients}, seed, overrides={"course.plan": "none", **extra}, workers=2)
    with open(out, "w") as fh:
        json.dump(results, fh)
    for g in (1, 2, 3):
        print(f"CRS grade >= {g}: {sum(r['max_crs_grade'] >= g for r in results)} / {n}")
    peaks = [r["crs_signal_peak_cycle1"] for r in results]
    print(f"cycle-1 peak CRS signal: median {statistics.median(peaks):.1f}, largest {max(peaks):.1f} pg/mL")


if __name__ == "__main__":
    main(sys.argv[1:])

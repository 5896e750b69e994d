"""The BLAST-like cohort with overrides, one record per patient (docs/calibration/depth/README.md).

    python docs/calibration/depth/blast_probe.py N SEED '{...overrides}' [OUT.json]
"""

import json
import sys

from blinasim.trials.cohort import draw_cohort
from blinasim.trials.trial import rates, run_cohorts

if __name__ == "__main__":
    n, seed = int(sys.argv[1]), int(sys.argv[2])
    extra = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    res = run_cohorts({"blast": draw_cohort("blast", n, seed)}, seed, overrides=extra, workers=2)
    if len(sys.argv) > 4:
        with open(sys.argv[4], "w") as fh:
            json.dump(res, fh)
    print("; ".join(f"{k}={v}" for k, v in rates(res, "blast").items()))

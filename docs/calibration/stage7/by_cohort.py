"""Each cohort's share of a several-cohort stage-7 record (docs/validation.md, "Stage 7 on four cohorts").

    python docs/calibration/stage7/by_cohort.py docs/calibration/stage7/stage7_four.json \
        '{"cytokines.il6_per_ifng": 2.942, "toxicity.crs_il6_thresholds_pg_per_ml": [100.0, 173.0, 291.9, 469.8],
          "toxicity.neuro_thresholds_pg_per_ml": [9.7, 17.2, 27.5, 46.7]}'

A record of ``blinasim calibrate toxicity --seed A --seed B ...`` holds each step's cycle-1 peaks in
run order: the ``n / len(seeds)`` patients of the first seed, then the next seed's. For every step
and cohort this prints the IL-6 gain that cohort alone would ask for (the gain that puts its 86th
percentile of the peak CRS signal at the grade-1 threshold, as step 1 does for the pool) and the
shares of its patients whose cycle-1 peaks reach the step's CRS grade-1 and grade-3 and
neurotoxicity grade-1 and grade-3 thresholds. These are cycle-1 shares read from the peaks; the
step's rates in the record count the worst grade of the whole course.

A step's overrides name only what the procedure set, so the second argument gives the settings of
the code the record ran on (the defaults of that commit; for ``stage7_four.json``, those of 8ec5756).
The script checks them: step 2's gain must be the base gain scaled by step 1's peaks.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from blinasim.params.schema import load_config


def main(path: str, base: dict) -> None:
    record = json.load(open(path))
    seeds = record.get("seeds") or [record["seed"]]  # records made before several cohorts give one seed
    size, extra = divmod(record["n"], len(seeds))
    if extra:
        raise SystemExit(f"{path}: {record['n']} patients do not split evenly over the seeds {seeds}")
    first, second = (load_config(None, {**base, **step["overrides"]}) for step in record["steps"][:2])
    expected = first.cytokines.il6_per_ifng * first.toxicity.crs_il6_thresholds_pg_per_ml[0]
    expected /= np.quantile(record["steps"][0]["crs_peaks"], 0.86)
    if not np.isclose(second.cytokines.il6_per_ifng, expected, rtol=1e-9):
        raise SystemExit(
            f"{path}: step 2's IL-6 gain {second.cytokines.il6_per_ifng} is not the base's scaled by step 1's "
            f"peaks ({expected}): give the settings of the code the record ran on"
        )
    for step in record["steps"]:
        config = load_config(None, {**base, **step["overrides"]})
        gain = config.cytokines.il6_per_ifng
        crs = config.toxicity.crs_il6_thresholds_pg_per_ml
        neuro = config.toxicity.neuro_thresholds_pg_per_ml
        print(f"{step['step']} (gain {gain:.4g}, CRS {list(crs)}, neurotoxicity {list(neuro)})")
        print("  cohort  gain asked  CRS >=1  CRS >=3  neuro >=1  neuro >=3")
        parts = [(str(s), slice(i * size, (i + 1) * size)) for i, s in enumerate(seeds)] + [
            ("pooled", slice(0, record["n"]))
        ]
        for name, part in parts:
            c = np.asarray(step["crs_peaks"][part])
            u = np.asarray(step["neuro_peaks"][part])
            asked = gain * crs[0] / np.quantile(c, 0.86)
            print(
                f"  {name:>6}  {asked:10.3f}  {np.mean(c >= crs[0]):7.3f}  {np.mean(c >= crs[2]):7.3f}"
                f"  {np.mean(u >= neuro[0]):9.3f}  {np.mean(u >= neuro[2]):9.3f}"
            )


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__)
    main(sys.argv[1], json.loads(sys.argv[2]) if len(sys.argv) == 3 else {})

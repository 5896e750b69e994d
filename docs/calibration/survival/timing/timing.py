"""When the events of stage 8's patients fall (docs/validation.md, "The pace of regrowth and BLAST's
event timing").

    python docs/calibration/survival/timing/timing.py CACHE.pkl SEED [KEY=VALUE ...]

CACHE.pkl: the lattice runs of ``scripts/calibrate_survival.py --n N --seed SEED --cache CACHE.pkl``,
written at the current default of ``patient.sanctuary_fraction``. Each course is followed again with the
``KEY=VALUE`` course settings (numbers) and the script prints stage 8's four targets, BLAST's landmark
analysis at day 45 by complete MRD response, and, per trial, the first events by transplant and cause
with their times (months from the start of remission: percentiles 10/50/90, and how many fall after 18
months).
"""

from __future__ import annotations

import collections
import math
import pickle
import sys
from pathlib import Path

import numpy as np

from blinasim.clinical.course import EVENT_CAUSES
from blinasim.core.output import with_course
from blinasim.core.seeds import run_seed
from blinasim.stats import kaplan_meier
from blinasim.trials.calibration.survival import course_config, course_settings

MONTH = 365.25 / 12
LANDMARK_DAYS = 45.0


def median_months(rows: list[dict[str, float]], endpoint: str, origin: float = 0.0) -> float:
    """Kaplan-Meier median of ``endpoint`` from ``origin`` (day), in months (NaN if not reached)."""
    curve = kaplan_meier([r[f"{endpoint}_days"] - origin for r in rows], [r[f"{endpoint}_event"] for r in rows])
    m = curve.median()
    return m / MONTH if math.isfinite(m) else math.nan


def main(argv: list[str]) -> None:
    if len(argv) < 2 or not Path(argv[0]).is_file() or not argv[1].isdigit():
        sys.exit("usage: timing.py CACHE.pkl SEED [KEY=VALUE ...] (a cache of scripts/calibrate_survival.py --cache)")
    seed = int(argv[1])
    try:
        overrides = course_settings(argv[2:])
    except ValueError as err:
        sys.exit(f"timing.py: {err}")
    rows = collections.defaultdict(list)
    for run in pickle.loads(Path(argv[0]).read_bytes()):
        ds = with_course(run.dataset, course_config(run, dict(overrides)), run_seed(seed, run.index, 0))
        names = ("os_days", "os_event", "rfs_days", "rfs_event", "transplant_day", "cr_crh", "mrd_response")
        row = {k: float(ds[k].values) for k in names}
        row["cause"] = EVENT_CAUSES[int(ds.event_cause.values)]
        rows[run.trial].append(row)
    print(f"course overrides {overrides}")
    mt, blast = rows["mt103_211"], rows["blast"]
    responders = [r for r in mt if r["cr_crh"] == 1.0]
    print(f"MT103-211 median RFS {median_months(responders, 'rfs'):.2f} (5.9), OS {median_months(mt, 'os'):.2f} (6.1)")
    rfs18 = kaplan_meier([r["rfs_days"] for r in blast], [r["rfs_event"] for r in blast]).at(18 * MONTH)
    print(f"BLAST RFS at 18 months {rfs18:.3f} (0.54), median OS {median_months(blast, 'os'):.1f} (36.5)")
    at_landmark = [r for r in blast if r["rfs_days"] > LANDMARK_DAYS and r["os_days"] > LANDMARK_DAYS]
    for label, flag, published in (
        ("complete MRD responders", 1.0, "23.6 / 38.9"),
        ("non-responders", 0.0, "5.7 / 12.5"),
    ):
        group = [r for r in at_landmark if r["mrd_response"] == flag]
        rfs, os_ = median_months(group, "rfs", LANDMARK_DAYS), median_months(group, "os", LANDMARK_DAYS)
        print(f"  landmark day 45, {label}: {len(group)}; median RFS / OS {rfs:.1f} / {os_:.1f} months ({published})")
    for trial, group in rows.items():
        by = collections.defaultdict(list)
        for r in group:
            if r["rfs_event"] == 1.0:
                transplant = "transplanted" if not math.isnan(r["transplant_day"]) else "not transplanted"
                by[(transplant, r["cause"])].append(r["rfs_days"] / MONTH)
        for (transplant, cause), months in sorted(by.items()):
            q = np.percentile(months, [10, 50, 90])
            late = sum(m > 18 for m in months)
            print(
                f"  {trial}, {transplant}, {cause}: {len(months)}; months {q[0]:.1f} / {q[1]:.1f} / {q[2]:.1f};"
                f" after 18 months {late}"
            )


if __name__ == "__main__":
    main(sys.argv[1:])

"""Deaths by day per arm in a TOWER-like store (docs/validation.md, "Deaths inside the induction").

    python docs/calibration/survival/failure_clock/deaths_by_day.py STORE.zarr

For each arm: the patients dead by days 30, 60, 90, 114 and 120 (of all the store's patients in that
arm), and the deaths (by their first event) within the treatment period TOWER counted its fatal adverse events in
(the cycles given and 30 days after: to day 100 for the blinatumomab arm's 2 induction cycles, day 58
for one chemotherapy course of 28 days).
"""

import sys

import numpy as np
import xarray as xr

from blinasim.clinical.course import EVENT_CAUSES

DAYS = (30, 60, 90, 114, 120)
#: end of the treatment period of TOWER's fatal adverse events: the median cycles given plus 30 days
WINDOW = {"blinatumomab": 70.0 + 30.0, "chemotherapy": 28.0 + 30.0}

if len(sys.argv) != 2:
    sys.exit("usage: deaths_by_day.py STORE.zarr")
ds = xr.open_zarr(sys.argv[1])
for arm in ds.arm.values:
    d = ds.sel(arm=arm, replicate=0)
    os_days = d.os_days.values.astype(float)
    died = d.os_event.values.astype(float) == 1.0
    counts = ", ".join(f"day {t}: {int(np.sum(died & (os_days <= t)))}" for t in DAYS)
    print(f"{arm} (n={len(os_days)}) {counts}")
    window = WINDOW.get(str(arm))
    if window is not None:
        inside = died & (os_days <= window)
        causes = [EVENT_CAUSES[int(c)] for c in d.event_cause.values[inside]]
        by = {c: causes.count(c) for c in sorted(set(causes))}
        print(f"  dead by day {window:.0f}: {int(inside.sum())} ({inside.mean():.3f}); by first event {by}")

"""Rates of an MT103-205-like or renal sweep store with Wilson 95% intervals, incl. MRD response among CR/CRh.

python scripts/pk_trial_rates.py STORE.zarr
"""

import sys

import numpy as np

from blinasim.experiments.store import open_results
from blinasim.trials.trial import wilson_ci

ds = open_results(sys.argv[1])
for a, arm in enumerate(ds.arm.values):
    sub = ds.isel(arm=a)

    def rate(name, flags, arm=arm):
        flags = np.asarray(flags, dtype=float).ravel()
        ok = np.isfinite(flags)
        k, n = int(flags[ok].sum()), int(ok.sum())
        p, lo, hi = wilson_ci(k, n, 0.95)
        print(f"  {arm:10s} {name:28s} {p:.3f} ({k}/{n}; 95% CI {lo:.2f}-{hi:.2f})")

    cr_crh = sub.cr_crh.values.ravel()
    rate("cr_crh", cr_crh)
    rate("cr", sub.cr.values)
    rate("crh", sub.crh.values)
    rate("mrd_response (cycle 1)", sub.mrd_response.values)
    end = float(ds.time.values[-1])
    dmn = sub.days_to_mrd_negative.values.ravel()
    resp = cr_crh == 1.0
    rate(f"MRD<1e-4 by day {end:g} | CR/CRh", np.where(resp, (dmn <= end + 1e-9).astype(float), np.nan)[resp])
    g = sub.max_crs_grade.values.ravel()
    rate("crs_any", g >= 1)
    rate("crs_grade3", g >= 3)
    g = sub.max_neurotoxicity_grade.values.ravel()
    rate("neurotox_any", g >= 1)
    rate("neurotox_grade3", g >= 3)
    c = sub.bite_concentration.values.reshape(-1, ds.time.size) if sub.bite_concentration.ndim == 3 else None
    dose = sub.dose_rate.values.reshape(-1, ds.time.size)
    t = ds.time.values
    w = (t >= 10) & (t <= 27)
    css = np.nanmedian(np.where(dose[:, w] > 0, c[:, w], np.nan), axis=1)
    print(
        f"  {arm:10s} steady state days 10-27: median {np.nanmedian(css):.0f} pg/mL, mean {np.nanmean(css):.0f}; "
        f"target rate median {np.nanmedian(dose[:, w].max(axis=1)):.1f} ug/day"
    )
    if "clearance_l_per_h" in sub:
        print("  clearance median", float(np.nanmedian(sub.clearance_l_per_h.values)))

"""CD19-negative disease at blinatumomab failure in a TOWER-like store (docs/validation.md,
"CD19-negative relapses against the published shares").

    python docs/calibration/tower/cd19_share.py STORE.zarr

The blinatumomab arm's responders and their relapses by type (the first event), and its refractory
patients (no CR/CRh) with most of the marrow's and blood's blasts CD19-negative at the end of the
induction: together the failures a study of CD19 at blinatumomab failure would count.
"""

import sys

import numpy as np
import xarray as xr

from blinasim.clinical.course import EVENT_CAUSES

ds = xr.open_zarr(sys.argv[1])
d = ds.sel(arm="blinatumomab", replicate=0)
cause = np.array([EVENT_CAUSES[int(c)] for c in d.event_cause.values])
resp = ~np.isnan(d.response_day.values.astype(float))
rel = np.isin(cause, ["relapse_cd19_positive", "relapse_cd19_negative", "lineage_switch"])
neg_rel = cause == "relapse_cd19_negative"
blasts = d.blasts.isel(time=-1).sum("compartment").values.astype(float)
neg = d.blasts_cd19_negative.isel(time=-1).sum("compartment").values.astype(float)
refr = ~resp
share_neg_end = np.where(blasts > 0, neg / np.maximum(blasts, 1), 0.0)
neg_refr = refr & (share_neg_end > 0.5)
print(
    f"{sys.argv[1]}: responders {resp.sum()}, relapses {rel.sum()} (CD19-negative {neg_rel.sum()}, lineage switch {(cause == 'lineage_switch').sum()})"
)
print(
    f"  refractory {refr.sum()}, CD19-negative at the end of the induction {neg_refr.sum()}; any CD19-negative blast at the end: {(refr & (neg > 0)).sum()}"
)
fail = rel.sum() + refr.sum()
print(f"  CD19-negative among all failures: {(neg_rel.sum() + neg_refr.sum())}/{fail}")

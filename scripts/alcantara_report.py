"""ALCANTARA-like virtual trial: the trial's targets per arm with Wilson 95% intervals
(docs/validation.md, "Ph+ disease (ALCANTARA)").

    blinasim sweep experiments/alcantara.toml --out results/alcantara.zarr --workers 2
    python scripts/alcantara_report.py results/alcantara.zarr
"""

import sys

import numpy as np

from blinasim.experiments.store import open_results
from blinasim.stats import kaplan_meier, wilson_ci


def main(path: str) -> None:
    """Print CR/CRh, MRD response of responders, T315I subgroups and median OS for every arm."""
    ds = open_results(path)
    mut = ds["patient.abl1_mutation"].values
    for a, arm in enumerate(ds.arm.values):
        r = ds.isel(arm=a, replicate=0)
        cr = r.cr_crh.values
        ok = np.isfinite(cr)
        k, n = int(np.nansum(cr == 1)), int(ok.sum())
        p, lo, hi = wilson_ci(k, n)
        resp = cr == 1
        mrd = r.mrd_response.values
        km, nm = int(np.sum(mrd[resp] == 1)), int(resp.sum())
        pm, lom, him = wilson_ci(km, nm) if nm else (np.nan,) * 3
        t = mut == "t315i"
        kt, nt = int(np.sum(cr[t] == 1)), int(np.sum(ok & t))
        pt, lot, hit = wilson_ci(kt, nt)
        kn, nn = int(np.sum(cr[~t] == 1)), int(np.sum(ok & ~t))
        pn, lon, hin = wilson_ci(kn, nn)
        os_curve = kaplan_meier(r.os_days.values[ok] / 30.4375, r.os_event.values[ok].astype(bool))
        med, (mlo, mhi) = os_curve.median(), os_curve.median_ci()
        trans = int(np.nansum(r.transplanted.values[resp]))
        print(f"{arm}: n={n}")
        print(f"  CR/CRh within 2 cycles      {p:.2f} ({lo:.2f}-{hi:.2f}) {k}/{n}   trial 0.36 (16/45)")
        print(f"  complete MRD resp | CR/CRh  {pm:.2f} ({lom:.2f}-{him:.2f}) {km}/{nm}   trial 0.88 (14/16)")
        print(f"  CR/CRh with T315I           {pt:.2f} ({lot:.2f}-{hit:.2f}) {kt}/{nt}   trial 0.40 (4/10)")
        print(f"  CR/CRh without T315I        {pn:.2f} ({lon:.2f}-{hin:.2f}) {kn}/{nn}   trial 0.34 (12/35)")
        print(f"  median OS (months)          {med:.1f} ({mlo:.1f}-{mhi:.1f})   trial 7.1")
        print(f"  responders transplanted     {trans}/{nm}")


if __name__ == "__main__":
    main(sys.argv[1])

"""CRS, neurotoxicity and CR/CRh of a cohort store in narrow bins of baseline marrow blasts.

    python docs/calibration/burden_groups/bins.py STORE [ARM]

Prints, per bin of ``patient.marrow_blast_fraction`` (done runs, first replicate of the arm,
default the first arm): patients, CRS of any grade and of grade >= 3, neurotoxicity of any grade,
CR/CRh, and the share that meets the label's criterion for the pre-phase dexamethasone (marrow
blasts above ``treatment.prephase_blast_fraction``, 50%, or peripheral blasts at least
``treatment.prephase_peripheral_blasts_per_ul``, 15,000/uL, the defaults), with Wilson 95% intervals for CRS of any grade. Output of the 800-patient
store: ``bins_800.txt`` (docs/validation.md, "Response and survival by baseline marrow blasts").
"""

from __future__ import annotations

import itertools
import sys

from blinasim.errors import BlinasimError
from blinasim.experiments.store import DONE, STATUS_VAR, open_results
from blinasim.stats import wilson_ci

EDGES = (0.05, 0.25, 0.40, 0.50, 0.60, 0.75, 0.90, 1.0)


def main(argv: list[str]) -> None:
    if len(argv) not in (1, 2):
        sys.exit("usage: bins.py STORE [ARM]")
    try:
        ds = open_results(argv[0])
    except BlinasimError as exc:
        sys.exit(str(exc))
    arms = [str(a) for a in ds.arm.values]
    arm = argv[1] if len(argv) == 2 else arms[0]
    if arm not in arms:
        sys.exit(f"arm {arm!r} is not in the store; it has {', '.join(arms)}")
    one = {"arm": arms.index(arm), "replicate": 0}
    done = ds[STATUS_VAR].isel(one).values == DONE
    bf = ds["patient.marrow_blast_fraction"].values
    blood = ds["patient.peripheral_blasts_per_ul"].values
    crs = ds.max_crs_grade.isel(one).values
    neuro = ds.max_neurotoxicity_grade.isel(one).values
    cr = ds.cr_crh.isel(one).values
    print(f"store {argv[0]}, arm {arm}: {int(done.sum())} done runs")
    print("marrow blasts | n | CRS any (95% CI) | CRS >= 3 | neurotox. any | CR/CRh | pre-phase")
    for lo, hi in itertools.pairwise(EDGES):
        m = done & (bf >= lo) & (bf < hi if hi < 1.0 else bf <= hi)
        n = int(m.sum())
        if not n:
            continue
        rate, c_lo, c_hi = wilson_ci(int((crs[m] >= 1).sum()), n)
        prephase = ((bf[m] > 0.5) | (blood[m] >= 15000.0)).mean()
        print(
            f"{lo:.2f}-{hi:.2f} | {n} | {rate:.3f} ({c_lo:.3f}-{c_hi:.3f}) | {(crs[m] >= 3).mean():.3f} "
            f"| {(neuro[m] >= 1).mean():.3f} | {(cr[m] > 0.5).mean():.3f} | {prephase:.2f}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])

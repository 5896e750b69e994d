"""Response by baseline marrow blasts, split at Duell's regulatory T-cell cutoff.

    python docs/calibration/burden_groups/by_treg.py STORE [--arm ARM]

For each burden group of the pooled analysis (``blinasim.experiments.burden_report.GROUPS``),
prints the patients with blood Tregs below and above 8.525% of CD4
(``blinasim.trials.trial.TREG_CUTOFF``, Duell 2017). For each it gives CR/CRh, the MRD response, and
the MRD response among the CR/CRh (depth), with Wilson 95% intervals, and the same for the whole cohort on the last line. It reads
the done runs of the first replicate of the arm (by default the first arm).

Output of the 800-patient store: ``by_treg_800.txt`` (docs/validation.md, "Response and survival by
baseline marrow blasts"). It asks which patients at low burden fail, and whether anything but the
Tregs makes them fail.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from bins import open_arm  # the sibling script, on the path when this one runs

from blinasim.experiments.burden_report import BURDEN_VARIABLE, GROUPS
from blinasim.experiments.store import DONE, STATUS_VAR
from blinasim.stats import wilson_ci
from blinasim.trials.trial import TREG_CUTOFF


def _rate(flags: np.ndarray) -> str:
    """``k/n = p (low-high)`` of the finite entries of a yes/no array, or ``-`` when there are none."""
    ok = np.isfinite(flags)
    n, k = int(ok.sum()), int(flags[ok].sum())
    if not n:
        return "-"
    p, lo, hi = wilson_ci(k, n, 0.95)
    return f"{k}/{n} = {p:.2f} ({lo:.2f}-{hi:.2f})"


def main(argv: list[str]) -> None:
    cli = argparse.ArgumentParser(prog="by_treg.py", description="response by marrow blasts and Tregs")
    cli.add_argument("store")
    cli.add_argument("--arm", help="the arm (default: the first)")
    args = cli.parse_args(argv)
    ds, arms, arm = open_arm(args.store, args.arm)
    for needed in (BURDEN_VARIABLE, "patient.treg_fraction_of_cd4"):
        if needed not in ds:
            sys.exit(f"the store's samples do not carry {needed!r}: a cohort store is needed")
    one = {"arm": arms.index(arm), "replicate": 0}
    done = ds[STATUS_VAR].isel(one).values == DONE
    bf = ds[BURDEN_VARIABLE].values
    high_treg = ds["patient.treg_fraction_of_cd4"].values > TREG_CUTOFF
    cr = ds.cr_crh.isel(one).values.astype(float)
    mrd = ds.mrd_response.isel(one).values.astype(float)
    print(f"store {args.store}, arm {arm}: {int(done.sum())} done runs; Treg cutoff {TREG_CUTOFF:.2%} of CD4")
    print("marrow blasts | Tregs | n | CR/CRh | MRD response | MRD response among CR/CRh")
    for label, lo, hi in GROUPS:
        in_group = done & (bf >= lo) & (bf < hi)
        for name, m in (("below", in_group & ~high_treg), ("above", in_group & high_treg)):
            if not m.any():
                continue
            depth = np.where(cr[m] == 1, mrd[m], np.nan)
            print(f"{label} | {name} | {int(m.sum())} | {_rate(cr[m])} | {_rate(mrd[m])} | {_rate(depth)}")
    depth = np.where(cr[done] == 1, mrd[done], np.nan)
    print(f"all | all | {int(done.sum())} | {_rate(cr[done])} | {_rate(mrd[done])} | {_rate(depth)}")


if __name__ == "__main__":
    main(sys.argv[1:])

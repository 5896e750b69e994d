"""CRS, neurotoxicity and CR/CRh of a cohort store in narrow bins of baseline marrow blasts.

    python docs/calibration/burden_groups/bins.py STORE [--arm ARM] [--first N]

Prints, per bin of ``patient.marrow_blast_fraction`` (done runs, first replicate of the arm,
default the first arm, of the first N samples when given): patients, CRS of any grade and of grade >= 3, neurotoxicity of any grade,
CR/CRh, and the share that meets the label's criterion for the pre-phase dexamethasone (marrow
blasts above ``treatment.prephase_blast_fraction``, or peripheral blasts at least
``treatment.prephase_peripheral_blasts_per_ul``, as the store's runs set them: 50% and 15,000/uL by
default), with Wilson 95% intervals for CRS of any grade. Output of the 800-patient
store: ``bins_800.txt``; the first 400 of it and the same 400 without the pre-phase:
``bins_prephase_400.txt`` (docs/validation.md, "Response and survival by baseline marrow blasts").
"""

from __future__ import annotations

import argparse
import itertools
import sys

import xarray as xr

from blinasim.errors import BlinasimError
from blinasim.experiments.store import DONE, STATUS_VAR, open_results, run_config
from blinasim.stats import wilson_ci

EDGES = (0.05, 0.25, 0.40, 0.50, 0.60, 0.75, 0.90, 1.0)


def open_arm(store: str, arm: str | None) -> tuple[xr.Dataset, list[str], str]:
    """The store, its arms and the chosen arm (default the first); one line and exit on bad input."""
    try:
        ds = open_results(store)
    except BlinasimError as exc:
        sys.exit(str(exc))
    arms = [str(a) for a in ds.arm.values]
    arm = arm or arms[0]
    if arm not in arms:
        sys.exit(f"arm {arm!r} is not in the store; it has {', '.join(arms)}")
    return ds, arms, arm


def main(argv: list[str]) -> None:
    cli = argparse.ArgumentParser(prog="bins.py", description="CRS and response in bins of marrow blasts")
    cli.add_argument("store")
    cli.add_argument("--arm", help="the arm (default: the first)")
    cli.add_argument("--first", type=int, help="only the first N samples")
    args = cli.parse_args(argv)
    ds, arms, arm = open_arm(args.store, args.arm)
    if args.first is not None:
        if not 1 <= args.first <= ds.sizes["sample"]:
            sys.exit(f"--first {args.first}: must be 1-{ds.sizes['sample']} (the store's samples)")
        ds = ds.isel(sample=slice(0, args.first))
    treatment = run_config(ds, arm, 0).treatment  # the pre-phase criterion of the runs
    one = {"arm": arms.index(arm), "replicate": 0}
    done = ds[STATUS_VAR].isel(one).values == DONE
    bf = ds["patient.marrow_blast_fraction"].values
    blood = ds["patient.peripheral_blasts_per_ul"].values
    crs = ds.max_crs_grade.isel(one).values
    neuro = ds.max_neurotoxicity_grade.isel(one).values
    cr = ds.cr_crh.isel(one).values
    print(f"store {args.store}, arm {arm}: {int(done.sum())} done runs")
    print("marrow blasts | n | CRS any (95% CI) | CRS >= 3 | neurotox. any | CR/CRh | pre-phase")
    for lo, hi in itertools.pairwise(EDGES):
        m = done & (bf >= lo) & (bf < hi if hi < 1.0 else bf <= hi)
        n = int(m.sum())
        if not n:
            continue
        rate, c_lo, c_hi = wilson_ci(int((crs[m] >= 1).sum()), n)
        prephase = (
            (bf[m] > treatment.prephase_blast_fraction) | (blood[m] >= treatment.prephase_peripheral_blasts_per_ul)
        ).mean()
        print(
            f"{lo:.2f}-{hi:.2f} | {n} | {rate:.3f} ({c_lo:.3f}-{c_hi:.3f}) | {(crs[m] >= 3).mean():.3f} "
            f"| {(neuro[m] >= 1).mean():.3f} | {(cr[m] > 0.5).mean():.3f} | {prephase:.2f}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])

"""The TOWER-like trial's patients as a CSV, with their marrow blasts at TOWER's median (docs/validation.md,
"The TOWER-like trial at TOWER's burden").

    python docs/calibration/tower/burden80/make_csv.py N SEED OUT.csv [as-drawn]

Draws the ``mt103_211`` cohort's N patients of seed SEED (those of ``experiments/tower.toml`` at its seed 7)
and moves each patient's marrow blast fraction to the same quantile of a truncated Beta(a, 4 - a) on
[0.1, 0.97] whose median is 0.80, TOWER's (the cohort draws a truncated Beta(2.5, 1.5), median 0.64);
every other attribute stays as drawn. ``as-drawn`` writes the patients unchanged (the control, which must
reproduce the cohort sampler's runs).
"""

from __future__ import annotations

import csv
import sys

from scipy.optimize import brentq
from scipy.stats import beta

from blinasim.trials.cohort import COHORTS, draw_cohort

LO, HI, MEDIAN = 0.1, 0.97, 0.80
KEY = "patient.marrow_blast_fraction"


def trunc_cdf(d, x: float) -> float:
    return (d.cdf(x) - d.cdf(LO)) / (d.cdf(HI) - d.cdf(LO))


def trunc_ppf(d, q: float) -> float:
    return d.ppf(d.cdf(LO) + q * (d.cdf(HI) - d.cdf(LO)))


def cell(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return repr(value)
    return "" if value is None else str(value)


def main(argv: list[str]) -> None:
    n, seed, out = int(argv[0]), int(argv[1]), argv[2]
    remap = not (len(argv) > 3 and argv[3] == "as-drawn")
    old = beta(2.5, 1.5)
    a = brentq(lambda a: trunc_ppf(beta(a, 4 - a), 0.5) - MEDIAN, 0.6, 3.9)
    new = beta(a, 4 - a)
    keys = [attribute.key for attribute in COHORTS["mt103_211"].attributes]
    patients = [dict(p) for p in draw_cohort("mt103_211", n, seed)]
    drawn = sorted(p[KEY] for p in patients)
    if remap:
        for p in patients:
            p[KEY] = float(trunc_ppf(new, trunc_cdf(old, p[KEY])))
    with open(out, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(keys)
        for p in patients:
            writer.writerow([cell(p[k]) for k in keys])
    xs = sorted(p[KEY] for p in patients)
    print(f"Beta a={a:.4f} b={4 - a:.4f}; written: median {xs[n // 2]:.3f}, >= 0.5 in {sum(x >= 0.5 for x in xs)}/{n}")
    print(f"as drawn: median {drawn[n // 2]:.3f}, >= 0.5 in {sum(x >= 0.5 for x in drawn)}/{n}")


if __name__ == "__main__":
    main(sys.argv[1:])

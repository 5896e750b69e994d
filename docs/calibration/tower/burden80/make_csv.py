"""The TOWER-like trial's patients as a CSV, with their marrow blasts at TOWER's median (docs/validation.md,
"The TOWER-like trial at TOWER's burden").

    python docs/calibration/tower/burden80/make_csv.py N SEED OUT.csv [beta80|tower|as-drawn]

Draws the ``mt103_211`` cohort's N patients of seed SEED (those of ``experiments/tower.toml`` at its seed 7)
and moves each patient's marrow blast fraction to the same quantile of another distribution on
[0.1, 0.97]; every other attribute stays as drawn (the cohort draws a truncated Beta(2.5, 1.5): median
0.64, 71% at >= 50%).

- ``beta80`` (the default): a truncated Beta(a, 4 - a) whose median is 0.80, TOWER's (92% at >= 50%);
- ``tower``: the quantile function through TOWER's median, 0.80 ([TOWER2016]), and its share at >= 50%,
  75% (74.2% and 77.6% in the two arms, [Kantarjian2017] Table 1), linear between (0, 0.1), (0.25, 0.5),
  (0.5, 0.8) and (1, 0.97);
- ``as-drawn``: the patients unchanged (the control, which must reproduce the cohort sampler's runs).
"""

from __future__ import annotations

import csv
import sys

import numpy as np
from scipy.optimize import brentq
from scipy.stats import beta

from blinasim.trials.cohort import COHORTS, draw_cohort

KEY = "patient.marrow_blast_fraction"
#: The cohort's own draw of the marrow blast fraction: a Beta truncated to [LO, HI].
DRAWN = next(a for a in COHORTS["mt103_211"].attributes if a.key == KEY)
LO, HI, MEDIAN = DRAWN.low, DRAWN.high, 0.80
#: TOWER's marrow blasts as a quantile function: 25% below 0.5, the median 0.8.
TOWER_QUANTILES = (0.0, 0.25, 0.5, 1.0)
TOWER_BLASTS = (LO, 0.5, MEDIAN, HI)


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
    mode = argv[3] if len(argv) > 3 else "beta80"
    if mode not in ("beta80", "tower", "as-drawn"):
        raise SystemExit(f"unknown mode {mode!r}; allowed: beta80, tower, as-drawn")
    old = beta(DRAWN.params["a"], DRAWN.params["b"])
    if mode == "beta80":
        a = brentq(lambda a: trunc_ppf(beta(a, 4 - a), 0.5) - MEDIAN, 0.6, 3.9)
        new = beta(a, 4 - a)
        print(f"beta80: Beta a={a:.4f} b={4 - a:.4f}")
    keys = [attribute.key for attribute in COHORTS["mt103_211"].attributes]
    patients = [dict(p) for p in draw_cohort("mt103_211", n, seed)]
    drawn = sorted(p[KEY] for p in patients)
    for p in patients:
        u = trunc_cdf(old, p[KEY])
        if mode == "beta80":
            p[KEY] = float(trunc_ppf(new, u))
        elif mode == "tower":
            p[KEY] = float(np.interp(u, TOWER_QUANTILES, TOWER_BLASTS))
    with open(out, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(keys)
        for p in patients:
            writer.writerow([cell(p[k]) for k in keys])
    xs = sorted(p[KEY] for p in patients)
    print(f"{mode}: written median {xs[n // 2]:.3f}, >= 0.5 in {sum(x >= 0.5 for x in xs)}/{n}")
    print(f"as drawn: median {drawn[n // 2]:.3f}, >= 0.5 in {sum(x >= 0.5 for x in drawn)}/{n}")


if __name__ == "__main__":
    main(sys.argv[1:])

"""CRS of any grade by marrow blast bin, pooled over the given per-patient records (``undisplaced.py`` JSON).

    python docs/calibration/displacement/crs_bins.py LABEL=FILE[,FILE...] ...
"""

from __future__ import annotations

import json
import sys

BINS = ((0.1, 0.25), (0.25, 0.4), (0.4, 0.5), (0.5, 0.6), (0.6, 0.75), (0.75, 0.9), (0.9, 1.0))


def main(argv: list[str]) -> None:
    print("| model | " + " | ".join(f"{lo:g}-{hi:g}" for lo, hi in BINS) + " |")
    print("|---" * (len(BINS) + 1) + "|")
    for arg in argv:
        label, files = arg.split("=", 1)
        rows = [r for f in files.split(",") for r in json.load(open(f))]
        cells = []
        for lo, hi in BINS:
            group = [r for r in rows if lo <= r["bf"] < hi]
            crs = sum(r["max_crs_grade"] >= 1 for r in group)
            cells.append(f"{crs}/{len(group)} ({crs / len(group):.2f})" if group else "-")
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])

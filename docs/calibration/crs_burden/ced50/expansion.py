"""Blood T-cell expansion in the whole-induction records (docs/validation.md, "CRS by burden: the
pre-phase's suppression at its sourced potency").

    python docs/calibration/crs_burden/ced50/expansion.py FILES

For each record file: the median over its patients of the most blood T-cells in days 14-21 against
entry (``t_peak_d14_21_ratio``), and the share above 2 (Klinger 2012: more than twice by weeks 2-3).
"""

from __future__ import annotations

import json
import statistics
import sys


def main(files: list[str]) -> None:
    if not files:
        sys.exit(__doc__.split("\n\n")[1].strip())
    for name in files:
        ratios = [r["t_peak_d14_21_ratio"] for r in json.load(open(name)) if r["t_peak_d14_21_ratio"] is not None]
        above = sum(1 for x in ratios if x > 2.0) / len(ratios)
        print(f"{name}: median {statistics.median(ratios):.2f}, share above 2x {above:.3f} (n={len(ratios)})")


if __name__ == "__main__":
    main(sys.argv[1:])

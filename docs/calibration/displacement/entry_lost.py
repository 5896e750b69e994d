"""Who the entry exhaustion takes: per seed, responders (CR/CRh) and complete MRD responders at k 0
(``g0.25_debulk_SEED.json``) against k (``entryK_SEED.json``), below 50% marrow blasts and at or above,
and how many patients' cycle-1 CRS peak changed.

    python docs/calibration/displacement/entry_lost.py K SEED...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> None:
    k, seeds = argv[0], argv[1:]
    for seed in seeds:
        base = json.loads((HERE / f"g0.25_debulk_{seed}.json").read_text())
        cand = json.loads((HERE / f"entry{k}_{seed}.json").read_text())
        parts = []
        for name, lo, hi in (("< 50%", 0.0, 0.5), (">= 50%", 0.5, 1.01)):
            pairs = [(b, c) for b, c in zip(base, cand, strict=True) if lo <= b["bf"] < hi]
            resp = [sum(r["cr_crh"] == 1.0 for r in side) for side in zip(*pairs, strict=True)]
            deep = [sum(r["cr_crh"] == 1.0 and r["mrd_response"] == 1.0 for r in side) for side in zip(*pairs, strict=True)]
            parts.append(f"{name} (n={len(pairs)}): CR/CRh {resp[0]} -> {resp[1]}, complete MRD response {deep[0]} -> {deep[1]}")
        moved = sum(b["crs_signal_peak_cycle1"] != c["crs_signal_peak_cycle1"] for b, c in zip(base, cand, strict=True))
        grade = sum(b["max_crs_grade"] != c["max_crs_grade"] for b, c in zip(base, cand, strict=True))
        print(f"k {k}, seed {seed}: " + "; ".join(parts) + f"; cycle-1 CRS peak changed in {moved}/200, CRS grade in {grade}/200")


if __name__ == "__main__":
    main(sys.argv[1:])

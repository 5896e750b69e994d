"""CR/CRh, the burden odds ratio, depth and CRS by burden over the cohort records (docs/validation.md,
"Dexamethasone once per path to IL-6").

    python docs/calibration/crs_burden/cohorts/summarise.py FILE.json [FILE.json ...]

Each FILE is a ``scripts/burden_subgroups.py`` record (one entry per patient with its marrow blast
fraction ``bf``). Prints each file's CR/CRh, the odds ratio of CR/CRh below vs at or above 50% marrow
blasts, the MRD response among the CR/CRh responders, and CRS of any grade and grade >= 3 by burden;
then the same pooled over all files (odds ratio with its Woolf 95% interval).
"""

from __future__ import annotations

import json
import math
import sys


def counts(records: list[dict]) -> dict[str, int]:
    lo = [r for r in records if r["bf"] < 0.5]
    hi = [r for r in records if r["bf"] >= 0.5]
    responders = [r for r in records if r["cr_crh"]]
    return {
        "n": len(records),
        "cr_crh": sum(r["cr_crh"] for r in records),
        "lo_n": len(lo),
        "lo_cr": sum(r["cr_crh"] for r in lo),
        "hi_n": len(hi),
        "hi_cr": sum(r["cr_crh"] for r in hi),
        "responders": len(responders),
        "mrd": sum(r["mrd_response"] for r in responders),
        "lo_crs": sum(r["max_crs_grade"] >= 1 for r in lo),
        "hi_crs": sum(r["max_crs_grade"] >= 1 for r in hi),
        "lo_crs3": sum(r["max_crs_grade"] >= 3 for r in lo),
        "hi_crs3": sum(r["max_crs_grade"] >= 3 for r in hi),
    }


def line(name: str, c: dict[str, int]) -> str:
    a, b = c["lo_cr"], c["lo_n"] - c["lo_cr"]
    d, e = c["hi_cr"], c["hi_n"] - c["hi_cr"]
    odds = (a * e) / (b * d)
    half = 1.96 * math.sqrt(1 / a + 1 / b + 1 / d + 1 / e)
    return (
        f"{name}: CR/CRh {c['cr_crh'] / c['n']:.3f} ({c['cr_crh']}/{c['n']}); odds ratio {odds:.2f} "
        f"({odds * math.exp(-half):.2f}-{odds * math.exp(half):.2f}); depth {c['mrd'] / c['responders']:.2f} "
        f"({c['mrd']}/{c['responders']}); CRS any {c['lo_crs'] / c['lo_n']:.3f} / {c['hi_crs'] / c['hi_n']:.3f}, "
        f">= 3 {c['lo_crs3'] / c['lo_n']:.3f} / {c['hi_crs3'] / c['hi_n']:.3f} (< 50% / >= 50% blasts)"
    )


def main(paths: list[str]) -> None:
    pooled: dict[str, int] = {}
    for path in paths:
        c = counts(json.load(open(path)))
        print(line(path, c))
        for k, v in c.items():
            pooled[k] = pooled.get(k, 0) + v
    print(line("pooled", pooled))


if __name__ == "__main__":
    main(sys.argv[1:])

"""CR/CRh with and without CRS of any grade, overall and by burden group, from per-patient records
(docs/validation.md, "CRS by burden: what a rise above 50% blasts needs").

    python docs/calibration/crs_burden/crs_response.py FILE.json [FILE.json ...]

Each FILE is a whole-induction record of ``undisplaced.py`` (keys ``bf``, ``max_crs_grade``, ``cr_crh``);
the files are pooled.
"""

from __future__ import annotations

import json
import sys


def line(label: str, rows: list[dict]) -> str:
    crs = [r for r in rows if r["max_crs_grade"] >= 1]
    none = [r for r in rows if r["max_crs_grade"] < 1]
    with_crs = sum(r["cr_crh"] == 1 for r in crs)
    without = sum(r["cr_crh"] == 1 for r in none)
    return f"{label}: CR/CRh {with_crs}/{len(crs)} with CRS, {without}/{len(none)} without"


def main(argv: list[str]) -> None:
    rows = [r for name in argv for r in json.load(open(name))]
    print(line(f"all {len(rows)}", rows))
    print(line("below 50% blasts", [r for r in rows if r["bf"] < 0.5]))
    print(line("at or above 50%", [r for r in rows if r["bf"] >= 0.5]))


if __name__ == "__main__":
    main(sys.argv[1:])

"""CRS and response by burden with the marrow T-cells not displaced by the leukemia (docs/validation.md,
"CRS by burden: the shape of the first surge").

    python docs/calibration/crs_burden/undisplaced.py N SEED probe|full '{"overrides": ...}' OUT.json [--displaced] [--at X]

Runs N patients of the ``mt103_211`` cohort (seed SEED). Each patient's drawn marrow T-cell share of
the normal marrow ``s`` becomes a fixed marrow T-cell fraction ``s x (1 - 0.7)`` (0.7: the cohort's
median marrow blast fraction, so the median patient keeps its T-cells; ``--at X`` uses ``X`` instead,
e.g. ``--at 0`` gives every patient the T-cells of its marrow without leukemia), so infiltration no
longer displaces the marrow's T-cells; ``--displaced`` runs the drawn patients unchanged, for comparison.
``probe``: the first 24 days of cycle 1 (CRS); ``full``: the whole induction (``"course.plan":
"none"``), with CR/CRh and complete MRD response. Prints, below 50% marrow blasts and at or above,
CRS of any grade and grade >= 3 with the median peak CRS signal (graded with the defaults'
mapping), and for ``full`` CR/CRh and MRD response (both over all the group's patients).
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))

from burden_subgroups import by_burden  # scripts/burden_subgroups.py
from probe import capped_note, grade3_threshold  # docs/calibration/crs_burden/probe.py

from blinasim.trials.trial import rates

SHARE = "patient.marrow_t_cell_share_of_normal"
MEDIAN_BURDEN = 0.7


def undisplace(patient: dict, at: float = MEDIAN_BURDEN) -> None:
    patient["patient.marrow_t_cell_fraction"] = patient[SHARE] * (1.0 - at)
    patient[SHARE] = None


def _option(argv: list[str], name: str, default: float) -> float:
    if name not in argv:
        return default
    i = argv.index(name)
    try:
        value = float(argv[i + 1])
    except (IndexError, ValueError):
        sys.exit(f"{name} takes a marrow blast fraction in [0, 1), e.g. {name} 0.7")
    if not 0.0 <= value < 1.0:
        sys.exit(f"{name} takes a marrow blast fraction in [0, 1), not {value}")
    return value


def _share(group: list[dict], grade: int) -> float:
    return sum(r["max_crs_grade"] >= grade for r in group) / len(group)


def main(argv: list[str]) -> None:
    n, seed, mode, extra, out = int(argv[0]), int(argv[1]), argv[2], json.loads(argv[3]), argv[4]
    extra = {"course.plan": "none", **({"simulation.days": 24.0} if mode == "probe" else {}), **extra}
    at = _option(argv[5:], "--at", MEDIAN_BURDEN)
    adjust = None if "--displaced" in argv[5:] else (lambda patient: undisplace(patient, at))
    burden, results = by_burden(n, seed, extra, out, adjust=adjust)
    for lo, hi in ((0.0, 0.5), (0.5, 1.01)):
        group = [r for b, r in zip(burden, results, strict=True) if lo <= b < hi]
        peak = statistics.median(r["crs_signal_peak_cycle1"] for r in group)
        line = f"blasts [{lo},{min(hi, 1.0)}): n={len(group)} crs>=1 {_share(group, 1):.3f} crs>=3 {_share(group, 3):.3f} median peak {peak:.1f}"
        if mode == "full":
            rt = rates(group, "mt103_211")
            line += " " + "; ".join(f"{k}={rt[k]}" for k in ("cr_crh", "mrd_response"))
        print(line, flush=True)
    note = capped_note([r["crs_signal_peak_cycle1"] for r in results], grade3_threshold(extra))
    if note:
        print(note)


if __name__ == "__main__":
    main(sys.argv[1:])

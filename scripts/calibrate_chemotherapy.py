"""Calibrate salvage chemotherapy: the shared potency scale against INO-VATE's standard-care arm.

One knob, ``chemotherapy.potency_scale`` (prior 1.0: each regimen's blast log kill per course as
set in docs/parameters.md), is scanned on one MT103-211-like cohort (``blinasim.trials.cohort``,
the same patients and seeds for every value: common random numbers) treated with the
physician's-choice arm (TOWER's regimen mix, a regimen drawn per patient from its seed) and no
blinatumomab. Response is read on the arm's own assessment days (before courses 2 and 3: days 28
and 56, :func:`blinasim.clinical.combination.chemotherapy_assessment_days`) with
:func:`blinasim.clinical.endpoints.response`, as every run scores itself: CR, CR/CRh and
CR/CRh/CRi (= INO-VATE's CR/CRi) from the modelled neutrophil and platelet counts
(:mod:`blinasim.clinical.blood_counts`). The recorded fit (docs/validation.md) was made before
the counts existed, with normal hematopoiesis as the recovery proxy.

The fitted scale interpolates CR/CRi linearly between the two scanned values around the target
(29.4%, Kantarjian 2016, the first 218 randomised). TOWER's standard-care CR 16% and CR/CRh/CRi
25% (Kantarjian 2017) are checks, reported with their misses.

    python scripts/calibrate_chemotherapy.py --n 100 --seed 7 --workers 2 --scales 0.6 0.8 1.0 1.3

Prints a table and writes ``docs/calibration/chemotherapy.json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

TARGET_CR_CRI = 0.294  # INO-VATE standard care (Kantarjian 2016)
CHECKS = {"cr": 0.16, "cr_crh_cri": 0.25}  # TOWER standard care (Kantarjian 2017)
DAYS = 57.0  # the lattice run covers both assessments (days 28 and 56)


def run_one(job: tuple[int, dict, int, float]) -> dict:
    """One patient at one potency scale: regimen and response read-outs."""
    from blinasim.core.model import simulate
    from blinasim.core.seeds import run_seed
    from blinasim.trials.trial import patient_config

    i, overrides, seed, scale = job
    extra = {
        "treatment.regimen": "none",
        "treatment.chemotherapy": "physicians_choice",
        "chemotherapy.potency_scale": scale,
        "simulation.days": DAYS,
        "course.plan": "none",
    }
    cfg = patient_config("mt103_211", overrides, extra)
    ds = simulate(cfg, seed=run_seed(seed, i, 0))
    return {
        "patient": i,
        "scale": scale,
        "regimen": ds.attrs["chemotherapy_regimen"],
        "cr": float(ds.cr.values),
        "cr_crh": float(ds.cr_crh.values),
        "cr_crh_cri": float(ds.cr_crh_cri.values),
    }


def main(argv: list[str] | None = None) -> int:
    from blinasim.trials.cohort import draw_cohort

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scales", type=float, nargs="+", default=[0.6, 0.8, 1.0, 1.3])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs/calibration/chemotherapy.json"))
    args = ap.parse_args(argv)
    patients = draw_cohort("mt103_211", args.n, args.seed)
    jobs = [(i, p, args.seed, s) for s in args.scales for i, p in enumerate(patients)]
    with ProcessPoolExecutor(args.workers) as pool:
        rows = list(pool.map(run_one, jobs, chunksize=1))
    table = []
    for s in args.scales:
        mine = [r for r in rows if r["scale"] == s]
        rates = {k: sum(r[k] for r in mine) / len(mine) for k in ("cr", "cr_crh", "cr_crh_cri")}
        by_regimen = {}
        for reg in sorted({r["regimen"] for r in mine}):
            rr = [r for r in mine if r["regimen"] == reg]
            by_regimen[reg] = {"n": len(rr), "cr_crh_cri": sum(r["cr_crh_cri"] for r in rr) / len(rr)}
        table.append({"scale": s, **rates, "by_regimen": by_regimen})
        print(f"scale {s:5.2f}: CR {rates['cr']:.3f}  CR/CRh {rates['cr_crh']:.3f}  CR/CRh/CRi {rates['cr_crh_cri']:.3f}  "
              + "  ".join(f"{k} {v['cr_crh_cri']:.2f} (n={v['n']})" for k, v in by_regimen.items()), flush=True)  # fmt: skip
    fit = math.nan
    pts = sorted((t["scale"], t["cr_crh_cri"]) for t in table)
    for (s0, y0), (s1, y1) in itertools.pairwise(pts):
        if (y0 - TARGET_CR_CRI) * (y1 - TARGET_CR_CRI) <= 0 and y1 != y0:
            fit = s0 + (TARGET_CR_CRI - y0) * (s1 - s0) / (y1 - y0)
            break
    print(f"fitted chemotherapy.potency_scale = {fit:.3f} (target CR/CRi {TARGET_CR_CRI})")
    out = {"n": args.n, "seed": args.seed, "days": [28.0, 56.0], "target_cr_cri": TARGET_CR_CRI,
           "checks": CHECKS, "scan": table, "fitted_potency_scale": fit}  # fmt: skip
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

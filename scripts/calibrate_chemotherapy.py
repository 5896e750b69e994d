"""Calibrate salvage chemotherapy: the shared potency scale against INO-VATE's standard-care arm.

One knob, ``chemotherapy.potency_scale`` (prior 1.0: each regimen's blast log kill per course as
set in docs/parameters.md), is scanned on one MT103-211-like cohort (``blinasim.trials.cohort``,
the same patients and seeds for every value: common random numbers) treated with the
physician's-choice arm (TOWER's regimen mix, a regimen drawn per patient from its seed) and no
blinasim. Each run covers the cohort's lattice days (84) and the clinical course of plan
``chemotherapy``; response is read as every run scores itself, on the common assessment days
(:func:`blinasim.clinical.endpoints.assessment_days`: days 28 and 70), CR, CR/CRh and CR/CRh/CRi
(= INO-VATE's CR/CRi) from the modelled neutrophil and platelet counts
(:mod:`blinasim.clinical.blood_counts`), and a treatment-related death before an assessment is a
failure (:func:`blinasim.clinical.endpoints.response_before_death`).

Each run is followed again (``with_course``, no new lattice run) under every value of
``--hazards`` (``chemotherapy.toxic_death_per_neutropenic_day``); for each scale the hazard that
gives TOWER's treatment-related deaths of the standard-care arm (8 of 109 treated, 7.3%;
Stein 2019, Table 4) is interpolated. The fitted scale interpolates CR/CRi linearly between the
two scanned values around the target (29.4%, Kantarjian 2016, the first 218 randomised) at
``--fit-hazard`` (default: the config's hazard). TOWER's standard-care CR 16% and CR/CRh/CRi 25%
(Kantarjian 2017) are checks, reported with their misses.

``--sensitivity-sds`` scans the patients' chemosensitivity spread (``chemotherapy.sensitivity_log_sd``)
with every scale: for each spread the potency scale is fitted to the CR/CRi target as above, and the
event-free survival at 6 months there (interpolated between the scanned scales) is reported against
TOWER's standard-care 12% (Kantarjian 2017), with the complete MRD response of the responders; the
treatment-related death hazard is fitted at the first spread given.

``--seed`` may be given more than once: ``--n`` patients are drawn per seed, each cohort runs on its
own seed, and every rate is pooled over the cohorts (as stage 7 pools its cohorts' peaks), so one
cohort's scatter does not set the fit; each cohort's CR/CRi is printed beside the pooled one.

    python scripts/calibrate_chemotherapy.py --n 100 --seed 7 --workers 1 --scales 0.5 0.7 0.9 \
        --hazards 0 0.002 0.004 0.008

Prints a table and writes ``docs/calibration/chemotherapy.json`` (the scan's rates, the fits, and under
``runs`` every patient's read-outs at every scale, spread and hazard, with its cohort's seed).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

TARGET_CR_CRI = 0.294  # INO-VATE standard care (Kantarjian 2016)
CHECKS = {"cr": 0.16, "cr_crh_cri": 0.25}  # TOWER standard care (Kantarjian 2017)
#: treatment-related fatal adverse events of TOWER's standard-care arm: 8 of 109 treated (Stein 2019, Table 4)
TARGET_TOXIC_DEATH = 8 / 109
#: event-free survival at 6 months of TOWER's standard-care arm (Kantarjian 2017)
TARGET_EFS_6_MONTHS = 0.12
EFS_DAYS = 6 * 30.4375


def run_one(job: tuple[int, dict, int, float, list[float], float]) -> list[dict]:
    """One patient at one potency scale, followed under each treatment-related death hazard: regimen,
    response read-outs (deaths before an assessment counted as failures) and the cause of death."""
    from blinasim.clinical import course
    from blinasim.core.model import simulate
    from blinasim.core.output import with_course
    from blinasim.core.seeds import run_seed
    from blinasim.trials.trial import patient_config

    i, overrides, seed, scale, hazards, sd = job
    extra = {
        "treatment.regimen": "none",
        "treatment.chemotherapy": "physicians_choice",
        "chemotherapy.potency_scale": scale,
        "chemotherapy.sensitivity_log_sd": sd,
        "chemotherapy.toxic_death_per_neutropenic_day": 0.0,
        "course.plan": "chemotherapy",
    }
    cfg = patient_config("mt103_211", overrides, extra)
    rs = run_seed(seed, i, 0)
    ds = simulate(cfg, seed=rs)
    rows = []
    for h in hazards:
        c = cfg.model_copy(deep=True)
        c.chemotherapy.toxic_death_per_neutropenic_day = h
        fu = course.follow(course.lattice_run(ds), c, rs)
        d = with_course(ds, c, rs)
        toxic = fu.death_cause == course.DEATH_TREATMENT
        rows.append({
            "patient": i,
            "seed": seed,
            "scale": scale,
            "sd": sd,
            "hazard": h,
            "regimen": ds.attrs["chemotherapy_regimen"],
            "cr": float(d.cr.values),
            "cr_crh": float(d.cr_crh.values),
            "cr_crh_cri": float(d.cr_crh_cri.values),
            "toxic_death": float(toxic),
            "toxic_death_day": float(fu.os_days) if toxic else math.nan,
            "os_days": float(fu.os_days),
            "os_event": int(fu.os_event),
            "mrd_response": float(d.mrd_response.values),
            "efs_days": float(fu.efs_days),
        })  # fmt: skip
    return rows


def _interpolate(points: list[tuple[float, float]], target: float) -> float:
    """The x where the piecewise-linear y(x) through ``points`` first crosses ``target`` (NaN if never)."""
    pts = sorted(points)
    for (x0, y0), (x1, y1) in itertools.pairwise(pts):
        if (y0 - target) * (y1 - target) <= 0 and y1 != y0:
            return x0 + (target - y0) * (x1 - x0) / (y1 - y0)
    return math.nan


def main(argv: list[str] | None = None) -> int:
    from blinasim.clinical.endpoints import assessment_days
    from blinasim.params.schema import Config
    from blinasim.trials.cohort import draw_cohort
    from blinasim.trials.trial import patient_config

    defaults = Config().chemotherapy
    default_hazard, default_sd = defaults.toxic_death_per_neutropenic_day, defaults.sensitivity_log_sd
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--seed", type=int, action="append", default=None,
                    help="a cohort's seed; give it once per cohort to pool several (default: 7)")  # fmt: skip
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scales", type=float, nargs="+", default=[0.6, 0.8, 1.0, 1.3])
    ap.add_argument("--sensitivity-sds", type=float, nargs="+", default=None,
                    help="chemotherapy.sensitivity_log_sd values to scan with every scale (default: the config's)")  # fmt: skip
    ap.add_argument("--hazards", type=float, nargs="+", default=[default_hazard],
                    help="chemotherapy.toxic_death_per_neutropenic_day values to follow every run under")  # fmt: skip
    ap.add_argument("--fit-hazard", type=float, default=None,
                    help="the hazard at which the potency scale is fitted (default: the config's)")  # fmt: skip
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs/calibration/chemotherapy.json"))
    args = ap.parse_args(argv)
    seeds = args.seed or [7]
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        seeds_text = ", ".join(map(str, repeated))  # every repeated seed, as `blinasim calibrate toxicity` names them
        print(f"error: --seed {seeds_text} given more than once: give each cohort's seed once", file=sys.stderr)
        return 2
    fit_hazard = default_hazard if args.fit_hazard is None else args.fit_hazard
    hazards = sorted(set(args.hazards) | {fit_hazard})
    cohorts = {seed: draw_cohort("mt103_211", args.n, seed) for seed in seeds}
    days = assessment_days(patient_config("mt103_211", cohorts[seeds[0]][0], {"treatment.regimen": "none"}))
    sds = args.sensitivity_sds or [default_sd]
    jobs = [
        (i, p, seed, s, hazards, sd)
        for sd in sds
        for s in args.scales
        for seed in seeds
        for i, p in enumerate(cohorts[seed])
    ]
    with ProcessPoolExecutor(args.workers) as pool:
        rows = [r for rs in pool.map(run_one, jobs, chunksize=1) for r in rs]
    table = []
    for sd, s in itertools.product(sds, args.scales):
        for h in hazards:
            mine = [r for r in rows if r["scale"] == s and r["hazard"] == h and r["sd"] == sd]
            keys = ("cr", "cr_crh", "cr_crh_cri", "toxic_death")
            rates = {k: sum(r[k] for r in mine) / len(mine) for k in keys}
            early = [r["toxic_death_day"] for r in mine if r["toxic_death"]]
            rates["toxic_death_by_day_30"] = sum(d <= 30 for d in early) / len(mine)
            rates["toxic_death_by_day_60"] = sum(d <= 60 for d in early) / len(mine)
            rates["efs_6_months"] = sum(r["efs_days"] > EFS_DAYS for r in mine) / len(mine)
            responders = [r for r in mine if r["cr_crh_cri"]]
            rates["mrd_response_of_responders"] = (
                sum(r["mrd_response"] == 1.0 for r in responders) / len(responders) if responders else math.nan
            )
            by_regimen = {}
            for reg in sorted({r["regimen"] for r in mine}):
                rr = [r for r in mine if r["regimen"] == reg]
                by_regimen[reg] = {"n": len(rr), "cr_crh_cri": sum(r["cr_crh_cri"] for r in rr) / len(rr),
                                   "toxic_death": sum(r["toxic_death"] for r in rr) / len(rr)}  # fmt: skip
            table.append({"scale": s, "sd": sd, "hazard": h, **rates, "by_regimen": by_regimen})
            print(f"sd {sd:.2f} scale {s:5.2f} hazard {h:.4f}/day: CR {rates['cr']:.3f}  CR/CRh {rates['cr_crh']:.3f}  "
                  f"EFS at 6 months {rates['efs_6_months']:.3f}  MRD response of the responders "
                  f"{rates['mrd_response_of_responders']:.2f}  "
                  f"CR/CRh/CRi {rates['cr_crh_cri']:.3f}  treatment-related deaths {rates['toxic_death']:.3f} "
                  f"(by day 30 {rates['toxic_death_by_day_30']:.3f}, 60 {rates['toxic_death_by_day_60']:.3f})  "
                  + "  ".join(f"{k} {v['cr_crh_cri']:.2f}/{v['toxic_death']:.2f} (n={v['n']})"
                              for k, v in by_regimen.items()), flush=True)  # fmt: skip
            if len(seeds) > 1:
                by_seed = {seed: sum(r["cr_crh_cri"] for r in mine if r["seed"] == seed) / args.n for seed in seeds}
                table[-1]["cr_crh_cri_by_seed"] = {str(k): v for k, v in by_seed.items()}
                print("    CR/CRh/CRi by cohort: " + "  ".join(f"seed {k} {v:.3f}" for k, v in by_seed.items()))
    hazard_fits = {
        s: _interpolate(
            [(t["hazard"], t["toxic_death"]) for t in table if t["scale"] == s and t["sd"] == sds[0]],
            TARGET_TOXIC_DEATH,
        )
        for s in args.scales
    }
    for s, h in hazard_fits.items():
        print(f"scale {s:.2f}: fitted chemotherapy.toxic_death_per_neutropenic_day = {h:.5f} "
              f"(target treatment-related deaths {TARGET_TOXIC_DEATH})")  # fmt: skip
    fits = {}
    for sd in sds:
        at = [t for t in table if t["hazard"] == fit_hazard and t["sd"] == sd]
        fit = _interpolate([(t["scale"], t["cr_crh_cri"]) for t in at], TARGET_CR_CRI)
        xs, ys = zip(*sorted((t["scale"], t["efs_6_months"]) for t in at), strict=True)
        efs = float(np.interp(fit, xs, ys, left=math.nan, right=math.nan))  # NaN outside the scanned scales
        fits[sd] = {"potency_scale": fit, "efs_6_months": efs}
        print(
            f"sd {sd:.2f}: fitted chemotherapy.potency_scale = {fit:.3f} at hazard {fit_hazard} (target CR/CRi "
            f"{TARGET_CR_CRI}); EFS at 6 months there {efs:.3f} (TOWER standard care {TARGET_EFS_6_MONTHS})"
        )
    fit = fits[sds[0]]["potency_scale"]
    out = {"n": args.n, "seeds": seeds, "days": days, "target_cr_cri": TARGET_CR_CRI,
           "target_toxic_death": TARGET_TOXIC_DEATH, "checks": CHECKS, "scan": table,
           "fitted_toxic_death_per_neutropenic_day": {str(k): v for k, v in hazard_fits.items()},
           "fit_hazard": fit_hazard, "fitted_potency_scale": fit,
           "fits_by_sensitivity_log_sd": {str(k): v for k, v in fits.items()},
           "runs": rows}  # fmt: skip
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

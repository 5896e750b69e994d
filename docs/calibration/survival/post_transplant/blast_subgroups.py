"""BLAST-like patients by subgroup, against the subgroups BLAST published (docs/validation.md, "Relapse and
non-relapse death after a transplant").

    python docs/calibration/survival/post_transplant/blast_subgroups.py CACHE.pkl SEED [DRAWN_MEDIAN] [--escape P]
    python docs/calibration/survival/post_transplant/blast_subgroups.py CACHE.pkl SEED [CACHE.pkl SEED ...]
        [--drawn M] [--median M] [--escape P] [KEY=VALUE ...]

CACHE.pkl: the lattice runs of ``scripts/calibrate_survival.py --n N --seed SEED --cache CACHE.pkl``;
several caches are pooled, each course followed with its own seed (as stage 8's pooled scan does).
DRAWN_MEDIAN or ``--drawn M``: the cohort median of ``patient.sanctuary_fraction`` when the caches were
written (their patients' draws are stored with them; default: the current default). Each patient's draw
is scaled to ``--median M`` (default: the current default), keeping its place in the distribution (as
stage 8's scan does). ``--escape P`` sets ``course.gvl_escape_probability``; ``KEY=VALUE`` sets any course
setting (numbers; a sensitivity). Follows each BLAST-like course and prints:

* the trial's two targets: RFS at 18 months (0.54) and median OS (36.5 months);
* the landmark analysis at day 45 (the end of cycle 1) by complete MRD response: median RFS and OS from
  the landmark (Gokbuget 2018: RFS 23.6 vs 5.7 months, OS 38.9 vs 12.5 months);
* the patients transplanted in continuous remission and, with and without such a transplant, the share
  alive without relapse at 5 years (the final analysis: 40.5% vs 19.4%; 74 of 110 transplanted);
* the first events of each group (``event_cause``).
"""

from __future__ import annotations

import collections
import math
import pickle
import sys
from pathlib import Path

from blinasim.clinical.course import EVENT_CAUSES
from blinasim.core.output import with_course
from blinasim.core.seeds import run_seed
from blinasim.stats import kaplan_meier, wilson_ci
from blinasim.trials.calibration.survival import (
    alive_relapse_free,
    course_config,
    course_settings,
    scaled_sanctuary,
    transplanted_in_remission,
)
from blinasim.trials.cohort import SANCTUARY

MONTH = 365.25 / 12
LANDMARK_DAYS = 45.0


def median_months(rows: list[dict[str, float]], endpoint: str, origin: float = LANDMARK_DAYS) -> str:
    """Kaplan-Meier median of ``endpoint`` from ``origin`` (day), in months ('not reached' if it is not)."""
    curve = kaplan_meier([r[f"{endpoint}_days"] - origin for r in rows], [r[f"{endpoint}_event"] for r in rows])
    m = curve.median()
    return "not reached" if math.isnan(m) or math.isinf(m) else f"{m / MONTH:.1f}"


def _follow(
    runs: list, seed: int, factor: float, default: float, course_overrides: dict[str, float]
) -> list[dict[str, object]]:
    """Each run's course followed again (its sanctuary draw scaled by ``factor``); the runs are BLAST-like
    here, any trial's for ``docs/calibration/survival/joint/joint_scan.py``."""
    rows = []
    for run in runs:
        share = scaled_sanctuary(run.overrides.get("patient.sanctuary_fraction", default), factor)
        ds = with_course(run.dataset, course_config(run, {**share, **course_overrides}), run_seed(seed, run.index, 0))
        row = {k: float(ds[k].values) for k in ("os_days", "os_event", "rfs_days", "rfs_event", "transplant_day")}
        row["mrd_response"] = float(ds.mrd_response.values)
        row["cr_crh"] = float(ds.cr_crh.values)
        row["cause"] = EVENT_CAUSES[int(ds.event_cause.values)]
        row["hsct_in_ccr"] = transplanted_in_remission(row)
        rows.append(row)
    return rows


def _option(argv: list[str], name: str) -> tuple[list[str], float | None]:
    """``argv`` without ``name VALUE``, and the value (None if absent)."""
    if name not in argv:
        return argv, None
    i = argv.index(name)
    try:
        return argv[:i] + argv[i + 2 :], float(argv[i + 1])
    except (IndexError, ValueError):
        sys.exit(f"blast_subgroups.py: {name} needs a number")


USAGE = (
    "usage: blast_subgroups.py CACHE.pkl SEED [CACHE.pkl SEED ...] [DRAWN_MEDIAN] [--drawn M] [--median M] "
    "[--escape P] [KEY=VALUE ...] (caches written by scripts/calibrate_survival.py --cache)"
)


def main(argv: list[str]) -> None:
    argv, escape = _option(argv, "--escape")
    argv, drawn = _option(argv, "--drawn")
    argv, median = _option(argv, "--median")
    try:
        course_overrides = course_settings([a for a in argv if "=" in a])
    except ValueError as err:
        sys.exit(f"blast_subgroups.py: {err}")
    if escape is not None:
        course_overrides["course.gvl_escape_probability"] = escape
    positional = [a for a in argv if "=" not in a]
    if len(positional) == 3:  # the first form: one cache, its seed and the median it was drawn at
        drawn, positional = float(positional[2]), positional[:2]
    pairs = list(zip(positional[::2], positional[1::2], strict=False))
    if not pairs or len(positional) % 2 or any(not Path(c).is_file() or not s.isdigit() for c, s in pairs):
        sys.exit(USAGE)
    default = SANCTUARY.params["median"]
    median = default if median is None else median
    factor = median / (default if drawn is None else drawn)
    print(f"sanctuary median {median:.0e} (draws scaled by {factor:.3g}); course overrides {course_overrides}")
    rows = []
    for cache, seed_text in pairs:
        seed = int(seed_text)
        runs = [r for r in pickle.loads(Path(cache).read_bytes()) if r.trial == "blast"]
        rows.extend(_follow(runs, seed, factor, default, course_overrides))
    seed = " + ".join(s for _, s in pairs)
    n = len(rows)
    print(f"blast: {n} patients, seed {seed}")
    rfs = kaplan_meier([r["rfs_days"] for r in rows], [r["rfs_event"] for r in rows]).at(18 * MONTH)
    print(f"  RFS at 18 months {rfs:.3f} (BLAST 0.54); median OS {median_months(rows, 'os', 0.0)} months (BLAST 36.5)")
    at_landmark = [r for r in rows if r["rfs_days"] > LANDMARK_DAYS and r["os_days"] > LANDMARK_DAYS]
    for label, flag in (("complete MRD responders", 1.0), ("MRD non-responders", 0.0)):
        group = [r for r in at_landmark if r["mrd_response"] == flag]
        print(
            f"  landmark day 45, {label}: {len(group)}; median RFS {median_months(group, 'rfs')} months, "
            f"median OS {median_months(group, 'os')} months"
        )
    for label, flag in (("transplanted in continuous remission", True), ("not transplanted in remission", False)):
        group = [r for r in rows if r["hsct_in_ccr"] is flag]
        alive_free = alive_relapse_free(group)
        p, lo, hi = wilson_ci(alive_free, len(group)) if group else (math.nan, math.nan, math.nan)
        causes = collections.Counter(r["cause"] for r in group)
        print(
            f"  {label}: {len(group)} ({len(group) / n:.2f}); alive without relapse at 5 years {alive_free}/{len(group)}"
            f" = {p:.3f} ({lo:.3f}-{hi:.3f})"
        )
        print("    first events: " + ", ".join(f"{k} {v}" for k, v in sorted(causes.items())))
        if flag:
            relapsed = sum(1 for r in group if r["cause"].startswith("relapse") or r["cause"] == "lineage_switch")
            print(f"    relapsed after the transplant: {relapsed}/{len(group)} = {relapsed / len(group):.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])

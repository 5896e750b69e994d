"""Where the untransplanted patients' relapses come from (docs/validation.md, "The sanctuary at 1e-3:
BLAST's subgroups, a fresh seed and the burden groups").

    python docs/calibration/survival/sanctuary_kill/residue.py CACHE.pkl SEED [--drawn M] [KEY=VALUE ...]

CACHE.pkl: the lattice runs of ``scripts/calibrate_survival.py --cache`` (``--drawn M``: the sanctuary
median they were drawn at, default the current default; each draw is scaled to the current default).
Each course is followed again (``KEY=VALUE``: course settings) and, for the patients in remission who are
never transplanted (BLAST-like: complete MRD responders; MT103-211-like: CR/CRh), the script prints the
sanctuary's cells at the start, at the end of the lattice run and at the end of the trial's cycles
(percentiles 10/50/90), how many patients' sanctuary grew over the cycles and how many lost it, and their
first events, and how many are event-free by the kill hazard the lattice measured in their last
infused cycle (``clinical.course.infusion_hazard``).
"""

from __future__ import annotations

import collections
import math
import pickle
import sys
from pathlib import Path

import numpy as np

from blinasim.clinical import course
from blinasim.core.seeds import run_seed
from blinasim.trials.calibration.survival import course_config, course_settings, scaled_sanctuary
from blinasim.trials.cohort import SANCTUARY

#: the responders' plan per trial (clinical.course.PLANS): its last cycle's end, in days
END_OF_CYCLES = {trial: float(sum(on + off for on, off in spec["cycles"])) for trial, spec in course.PLANS.items()}
RESPONSE = {"blast": "mrd_response", "mt103_211": "cr_crh"}


def main(argv: list[str]) -> None:
    drawn = SANCTUARY.params["median"]
    if "--drawn" in argv:
        i = argv.index("--drawn")
        try:
            drawn = float(argv[i + 1])
        except (IndexError, ValueError):
            sys.exit("residue.py: --drawn needs a number")
        argv = argv[:i] + argv[i + 2 :]
    if len(argv) < 2 or not Path(argv[0]).is_file() or not argv[1].isdigit():
        sys.exit("usage: residue.py CACHE.pkl SEED [--drawn M] [KEY=VALUE ...] (a cache of calibrate_survival.py)")
    try:
        overrides = course_settings(argv[2:])
    except ValueError as err:
        sys.exit(f"residue.py: {err}")
    seed, factor = int(argv[1]), SANCTUARY.params["median"] / drawn
    print(f"sanctuary median {SANCTUARY.params['median']:.0e} (draws scaled by {factor:.3g}); course {overrides}")
    groups = collections.defaultdict(list)
    for run in pickle.loads(Path(argv[0]).read_bytes()):
        if float(run.dataset[RESPONSE[run.trial]].values) != 1.0:
            continue
        share = scaled_sanctuary(run.overrides.get("patient.sanctuary_fraction", drawn), factor)
        lattice = course.lattice_run(run.dataset)
        fu = course.follow(lattice, course_config(run, {**overrides, **share}), run_seed(seed, run.index, 0))
        if fu.transplanted:
            continue
        end = END_OF_CYCLES[run.trial]
        at_end = fu.sanctuary[np.searchsorted(fu.times, end)] if fu.times[-1] >= end else np.nan
        groups[run.trial].append(
            (
                fu.sanctuary[0],
                fu.sanctuary[len(lattice.times) - 1],
                at_end,
                course.EVENT_CAUSES[fu.event_cause],
                course.infusion_hazard(lattice),
            )
        )
    for trial, rows in groups.items():
        s0, s_lat, s_end, causes, hazard = zip(*rows, strict=True)
        print(f"{trial}: {len(rows)} responders never transplanted; cycles end on day {END_OF_CYCLES[trial]:.0f}")
        for label, x in (("start", s0), ("end of the lattice run", s_lat), ("end of the cycles", s_end)):
            x = np.asarray(x)[np.isfinite(x)]
            q = np.percentile(x, [10, 50, 90]) if len(x) else [np.nan] * 3
            print(
                f"  sanctuary cells, {label}: {q[0]:.2g} / {q[1]:.2g} / {q[2]:.2g} ({len(x)} patients in remission then)"
            )
        grew = sum(1 for a, c in zip(s0, s_end, strict=True) if np.isfinite(c) and c > a)
        lost = sum(1 for c in s_end if c == 0.0)
        print(
            f"  over the cycles the sanctuary grew in {grew} and died out in {lost} of {int(np.isfinite(s_end).sum())} in remission then"
        )
        print("  first events: " + ", ".join(f"{k} {v}" for k, v in sorted(collections.Counter(causes).items())))
        for low, high in ((0.0, 1.2), (1.2, 2.0), (2.0, math.inf)):
            band = [c for c, h in zip(causes, hazard, strict=True) if low <= h < high]
            print(
                f"  the lattice's measured kill hazard {low:g}-{high:g}/day: {len(band)} patients,"
                f" {band.count('none')} without an event"
            )


if __name__ == "__main__":
    main(sys.argv[1:])

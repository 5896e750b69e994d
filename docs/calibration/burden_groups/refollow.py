"""The burden groups of a cohort store with every clinical course followed again on today's course.

    python docs/calibration/burden_groups/refollow.py STORE [DRAWN_MEDIAN] [--check N]

The lattice part of each stored run is kept; its clinical course
(:func:`blinasim.core.output.with_course`) is followed again with the run's own config and seed, and
the report's burden groups (``blinasim.experiments.burden_report.burden_groups``) are computed on the
new time-to-event outputs. DRAWN_MEDIAN: the cohort median of ``patient.sanctuary_fraction`` the store
was drawn with (default: today's); each patient's draw is scaled to today's median, keeping its place
in the distribution, as stage 8's scan does. ``--check N`` follows the first N runs only and reports
whether every course output equals the stored one (run it with the code that wrote the store: a
stored run followed again must give back its own course).

Output for the 800-patient store: ``refollow_800.txt`` (docs/validation.md, "Relapse and non-relapse
death after a transplant").
"""

from __future__ import annotations

import sys

import numpy as np

from blinasim.core.output import COURSE_VARIABLES, with_course
from blinasim.core.seeds import run_seed
from blinasim.experiments.store import open_results, run_config
from blinasim.trials.calibration.survival import scaled_sanctuary
from blinasim.trials.cohort import SANCTUARY

TIMES = ("os_days", "os_event", "rfs_days", "rfs_event", "efs_days", "efs_event")


def main(argv: list[str]) -> None:
    check = None
    if "--check" in argv:
        i = argv.index("--check")
        check = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2 :]
    if len(argv) not in (1, 2):
        sys.exit("usage: refollow.py STORE [DRAWN_MEDIAN] [--check N]")
    ds = open_results(argv[0]).load()  # one read: a run at a time from the shards is slow
    median = SANCTUARY.params["median"]
    factor = median / float(argv[1]) if len(argv) == 2 else 1.0
    root = int(ds.attrs["root_seed"])
    n = ds.sizes["sample"] if check is None else check
    new = {k: ds[k].values.astype(np.float64).copy() for k in TIMES}
    same = 0
    for s in range(n):
        run = ds.isel(arm=0, sample=s, replicate=0)
        cfg = run_config(ds, 0, s)
        cfg = cfg.with_overrides(scaled_sanctuary(cfg.patient.sanctuary_fraction, factor))
        run.attrs["config"] = cfg.to_json()  # what a single run's Dataset carries
        again = with_course(run, cfg, run_seed(root, s, 0))
        for k in TIMES:
            new[k][0, s, 0] = float(again[k].values)
        if check is not None:  # the stored course against the one followed again
            same += all(
                np.array_equal(again[k].values, run[k].values, equal_nan=True) for k in COURSE_VARIABLES if k in run
            )
    if check is not None:
        print(f"{same} of {n} runs give back every stored course output")
        return
    print(f"store {argv[0]}: {n} runs followed again; sanctuary median {median:.0e} (draws scaled by {factor:.3g})")
    for k in TIMES:
        ds[k] = (ds[k].dims, new[k])
    from blinasim.experiments.burden_report import burden_groups  # here: the check runs on older code too

    # The rates are lattice read-outs the course does not touch: only the hazard ratios are new.
    binary = {k: ds[k] for k in ("cr_crh", "mrd_response") if k in ds}
    print("\n".join(burden_groups(ds, binary, [str(a) for a in ds.arm.values]).to_markdown()))


if __name__ == "__main__":
    main(sys.argv[1:])

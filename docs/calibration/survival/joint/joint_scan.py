"""The sanctuary's kill and the sanctuary median fitted together on stage 8's calibration seeds, scored with
BLAST's subgroups and both trials' OS (docs/validation.md, "The sanctuary's kill fitted jointly"; the
criteria are in this directory's README, written before the scan was run).

    python docs/calibration/survival/joint/joint_scan.py CACHE.pkl SEED [CACHE.pkl SEED ...]
        [--factors 0.1,0.2,0.3,0.5] [--halves 0,1e8,1e9] [--medians 3e-4,1e-3,3e-3] [--drawn M] [--workers W]

CACHE.pkl: the lattice runs of ``scripts/calibrate_survival.py --n N --seed SEED --cache CACHE.pkl``, drawn
at the sanctuary median ``--drawn`` (default: the current default); the caches are pooled, each course
followed with its own seed. Every grid point (``course.sanctuary_kill_factor`` x
``course.sanctuary_kill_half_cells`` x the sanctuary median) follows every course again and prints the six
scored targets, their misses (log2 for a median, the difference for a share) and the score, the summed
squared miss. A median not reached within the follow-up is scored at the follow-up's length (a lower bound
of its miss).
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

from blinasim.trials.calibration.survival import FIT_TARGETS, CoursePoint, point_row, scan_course, score
from blinasim.trials.cohort import SANCTUARY

#: The scored targets (now the package's stage 8, :data:`blinasim.trials.calibration.survival.FIT_TARGETS`): the
#: four survival targets a course setting moves (the MRD response is the lattice's) and BLAST's two subgroups.
SCORED = FIT_TARGETS


def _grid(argv: list[str], name: str, default: str) -> tuple[list[str], list[float]]:
    if name not in argv:
        return argv, [float(x) for x in default.split(",")]
    i = argv.index(name)
    try:
        return argv[:i] + argv[i + 2 :], [float(x) for x in argv[i + 1].split(",")]
    except (IndexError, ValueError):
        sys.exit(f"joint_scan.py: {name} needs a comma-separated list of numbers")


def main(argv: list[str]) -> None:
    argv, factors = _grid(argv, "--factors", "0.1,0.2,0.3,0.5")
    argv, halves = _grid(argv, "--halves", "0,1e8,1e9")
    argv, medians = _grid(argv, "--medians", "3e-4,1e-3,3e-3")
    argv, drawn = _grid(argv, "--drawn", str(SANCTUARY.params["median"]))
    argv, workers = _grid(argv, "--workers", "2")
    pairs = list(zip(argv[::2], argv[1::2], strict=False))
    if not pairs or len(argv) % 2 or any(not Path(c).is_file() or not s.isdigit() for c, s in pairs):
        sys.exit("usage: joint_scan.py CACHE.pkl SEED [CACHE.pkl SEED ...] [--factors ..] [--halves ..] [--medians ..]")
    pools = [(pickle.loads(Path(cache).read_bytes()), int(seed)) for cache, seed in pairs]
    n = sum(len(runs) for runs, _ in pools)
    print(f"pooled seeds {' + '.join(s for _, s in pairs)}: {n} patients; caches drawn at median {drawn[0]:.0e}")
    print(
        "factor | K | median | "
        + " | ".join(f"{t.trial} {t.name} ({t.value})" for t in SCORED)
        + " | transplanted share | score",
        flush=True,
    )
    grid = [CoursePoint(f, h, m) for f in factors for h in halves for m in medians]
    results = scan_course(pools, grid, drawn=drawn[0], workers=int(workers[0]))
    best = None
    for point, values in results:
        total = score(values)
        print(point_row(point, values, SCORED), flush=True)
        if best is None or total < best[0]:
            best = (total, point.kill_factor, point.half_cells, point.median)
    print(f"best: factor {best[1]:g}, K {best[2]:.0e}, median {best[3]:.0e}, score {best[0]:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])

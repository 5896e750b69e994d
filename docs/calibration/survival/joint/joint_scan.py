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

import math
import multiprocessing
import pickle
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "post_transplant"))

from blast_subgroups import MONTH, _follow, alive_relapse_free  # docs/calibration/survival/post_transplant

from blinasim.trials.calibration.survival import (
    BLAST_FOLLOW_UP_DAYS,
    SURVIVAL_TARGETS,
    SurvivalTarget,
    miss,
    values_from_rows,
)
from blinasim.trials.cohort import SANCTUARY

#: BLAST's final analysis by transplant in continuous remission ([Gokbuget2020]).
SUBGROUPS = (
    SurvivalTarget("alive_relapse_free_5y_transplanted", "blast", 0.405, "rate", "[Gokbuget2020]"),
    SurvivalTarget("alive_relapse_free_5y_not_transplanted", "blast", 0.194, "rate", "[Gokbuget2020]"),
)
#: The scored targets: the four survival targets a course setting moves (the MRD response is the lattice's)
#: and BLAST's two subgroups.
SCORED = tuple(t for t in SURVIVAL_TARGETS if t.name != "mrd_response_among_cr_crh") + SUBGROUPS

_POOLS: list[tuple[list, int]] = []


def point(args: tuple[float, float, float, float]) -> tuple[tuple[float, float, float], dict[tuple[str, str], float]]:
    """Every pooled course followed at one grid point; the scored targets' values."""
    factor, half, median, drawn = args
    course = {"course.sanctuary_kill_factor": factor, "course.sanctuary_kill_half_cells": half}
    rows: dict[str, list[dict]] = {"mt103_211": [], "blast": []}
    for runs, seed in _POOLS:
        for trial in rows:
            part = [r for r in runs if r.trial == trial]
            rows[trial] += _follow(part, seed, median / drawn, SANCTUARY.params["median"], course)
    values: dict[tuple[str, str], float] = dict(values_from_rows(rows))
    blast = rows["blast"]
    for target, transplanted in zip(SUBGROUPS, (True, False), strict=True):
        group = [r for r in blast if r["hsct_in_ccr"] is transplanted]
        values[("blast", target.name)] = alive_relapse_free(group) / len(group) if group else math.nan
    values[("blast", "transplanted_share")] = sum(r["hsct_in_ccr"] for r in blast) / len(blast)
    return (factor, half, median), values


def scored_value(target: SurvivalTarget, values: dict[tuple[str, str], float]) -> float:
    """The target's value, with a median not reached (NaN or infinite) read as the BLAST follow-up's length."""
    v = values[(target.trial, target.name)]
    if target.kind == "median" and not math.isfinite(v):
        return BLAST_FOLLOW_UP_DAYS / MONTH
    return v


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
    for cache, seed in pairs:
        _POOLS.append((pickle.loads(Path(cache).read_bytes()), int(seed)))
    n = sum(len(runs) for runs, _ in _POOLS)
    print(f"pooled seeds {' + '.join(s for _, s in pairs)}: {n} patients; caches drawn at median {drawn[0]:.0e}")
    print(
        "factor | K | median | "
        + " | ".join(f"{t.trial} {t.name} ({t.value})" for t in SCORED)
        + " | transplanted share | score",
        flush=True,
    )
    grid = [(f, h, m, drawn[0]) for f in factors for h in halves for m in medians]
    with multiprocessing.get_context("fork").Pool(int(workers[0])) as pool:
        results = pool.map(point, grid, chunksize=1)
    best = None
    for (factor, half, median), values in results:
        cells, score = [], 0.0
        for t in SCORED:
            v = scored_value(t, values)
            m = miss(t, v)
            score += m * m
            cells.append(f"{v:.3g} ({m:+.2f})")
        print(
            f"{factor:g} | {half:.0e} | {median:.0e} | "
            + " | ".join(cells)
            + f" | {values[('blast', 'transplanted_share')]:.2f} | {score:.3f}",
            flush=True,
        )
        if best is None or score < best[0]:
            best = (score, factor, half, median)
    print(f"best: factor {best[1]:g}, K {best[2]:.0e}, median {best[3]:.0e}, score {best[0]:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])

"""Stage 8 of the calibration: survival (docs/validation.md, "The sanctuary's kill fitted jointly").

    python scripts/calibrate_survival.py --seed 2024 --seed 2025 --seed 2026 --seed 2027 \\
        --cache-dir CACHES [--n 200] [--workers 2] [--drawn M]
        [--factors 0.1,0.2,0.3] [--halves 0,1e8,1e9] [--medians 2e-4,5e-4,1e-3] [--course KEY=VALUE ...]
    python scripts/calibrate_survival.py --seed 2024 --cache lattice2024.pkl [...]   # one seed

Runs the lattice part of n MT103-211-like and n BLAST-like virtual patients per seed once (kept in
``--cache-dir``/lattice{SEED}.pkl, or ``--cache`` for one seed, and reused when present), then follows
every clinical course again at each point of the grid of ``course.sanctuary_kill_factor`` x
``course.sanctuary_kill_half_cells`` x the cohort median of ``patient.sanctuary_fraction``, the seeds
pooled (:func:`blinasim.trials.calibration.survival.scan_course`). Prints each target's model value and
miss (a median not reached within the follow-up shown, and scored, as the follow-up's length), and the
score (the summed squared miss of the scored targets, FIT_TARGETS); the point with the lowest score is the
choice. ``--drawn``: the sanctuary median the cached patients were drawn at (default: today's; a cache
written on other defaults names it here). A grid left out is today's default.
"""

from __future__ import annotations

import argparse
import math
import pickle
import sys
import time
from pathlib import Path

from blinasim.params.schema import CourseConfig
from blinasim.trials.calibration.survival import (
    FIT_TARGETS,
    SURVIVAL_TARGETS,
    CoursePoint,
    LatticeRun,
    course_settings,
    default_point,
    lattice_runs,
    point_row,
    scan_course,
    score,
)
from blinasim.trials.cohort import SANCTUARY

SHOWN = FIT_TARGETS + tuple(t for t in SURVIVAL_TARGETS if t not in FIT_TARGETS)


def _numbers(parser: argparse.ArgumentParser, option: str, text: str, low: float, high: float) -> list[float]:
    """A comma-separated list of numbers within [low, high], or one message naming the option."""
    try:
        values = [float(x) for x in text.split(",")]
    except ValueError:
        parser.error(f"{option} {text!r}: expected comma-separated numbers, e.g. {option} 0.1,0.2")
    bad = [v for v in values if not low <= v <= high]
    if bad:
        parser.error(f"{option} {text!r}: {bad[0]:g} is outside the allowed range {low:g} to {high:g}")
    return values


def _schema_range(field: str) -> tuple[float, float]:
    """The bounds the configuration schema allows for ``course.<field>`` (the scan refuses what a run would)."""
    bounds = {"ge": -math.inf, "le": math.inf}
    for meta in CourseConfig.model_fields[field].metadata:
        bounds.update({k: getattr(meta, k) for k in bounds if getattr(meta, k, None) is not None})
    return float(bounds["ge"]), float(bounds["le"])


def _load(parser: argparse.ArgumentParser, path: Path) -> list[LatticeRun]:
    """A cache written by this script, or one message naming the file."""
    try:
        runs = pickle.loads(path.read_bytes())
    except Exception as err:  # any unreadable cache gets the same message
        parser.error(
            f"{path}: not a lattice cache written by this script ({type(err).__name__}); delete it or name another"
        )
    if not isinstance(runs, list) or not runs or not all(isinstance(r, LatticeRun) for r in runs):
        parser.error(f"{path}: not a lattice cache written by this script; delete it or name another")
    return runs


def _pools(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[tuple[list[LatticeRun], int]]:
    pools = []
    for seed in args.seed:
        path = args.cache if args.cache else (args.cache_dir / f"lattice{seed}.pkl" if args.cache_dir else None)
        start = time.perf_counter()
        if path is not None and path.exists():
            runs = _load(parser, path)
            print(f"seed {seed}: {len(runs)} patients from {path}", flush=True)
        else:
            runs = lattice_runs(args.n, seed, workers=args.workers)
            print(f"seed {seed}: {len(runs)} patients run in {time.perf_counter() - start:.0f} s", flush=True)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                partial = path.with_name(path.name + ".partial")
                partial.write_bytes(pickle.dumps(runs))
                partial.replace(path)  # never a half-written cache under the final name
        pools.append((runs, seed))
    return pools


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="patients per trial and seed (default 200)")
    parser.add_argument("--seed", type=int, action="append", help="a calibration seed (repeat to pool seeds)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cache", type=Path, help="one seed's lattice runs: kept in this file and reused")
    parser.add_argument("--cache-dir", type=Path, help="each seed's lattice runs kept in DIR/lattice{SEED}.pkl")
    parser.add_argument("--drawn", type=float, help="the sanctuary median the cached patients were drawn at")
    parser.add_argument("--factors", help="course.sanctuary_kill_factor values (default: today's)")
    parser.add_argument("--halves", help="course.sanctuary_kill_half_cells values (default: today's)")
    parser.add_argument("--medians", help="cohort medians of patient.sanctuary_fraction (default: today's)")
    parser.add_argument(
        "--course",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a course setting (number) for every candidate, e.g. course.regrowth_log_sd=1 (a sensitivity)",
    )
    args = parser.parse_args()
    args.seed = args.seed or [8191]
    if len(set(args.seed)) != len(args.seed):
        parser.error("--seed: a seed given more than once; give each calibration seed once")
    if args.cache and len(args.seed) > 1:
        parser.error("--cache holds one seed's patients; with several --seed use --cache-dir DIR")
    if args.cache and args.cache_dir:
        parser.error("give --cache (one seed) or --cache-dir (any seeds), not both")
    if args.n < 1 or args.workers < 1:
        parser.error("--n and --workers must be at least 1")
    try:
        course = course_settings(args.course)
    except ValueError as err:
        parser.error(f"--course {err}")
    today = default_point()
    factors = _numbers(
        parser, "--factors", args.factors or str(today.kill_factor), *_schema_range("sanctuary_kill_factor")
    )
    halves = _numbers(
        parser, "--halves", args.halves or str(today.half_cells), *_schema_range("sanctuary_kill_half_cells")
    )
    medians = _numbers(parser, "--medians", args.medians or str(today.median), 1e-12, SANCTUARY.high)
    drawn = today.median if args.drawn is None else args.drawn
    if not 0.0 < drawn <= SANCTUARY.high:
        parser.error(f"--drawn {drawn:g}: a cohort median above 0 and at most {SANCTUARY.high:g}")
    pools = _pools(args, parser)
    points = [CoursePoint(f, h, m) for f in factors for h in halves for m in medians]
    start = time.perf_counter()
    table = scan_course(pools, points, drawn=drawn, course=course, workers=args.workers)
    n = sum(len(runs) for runs, _ in pools)
    seeds = " + ".join(str(s) for s in args.seed)
    print(
        f"courses followed again at {len(points)} points in {time.perf_counter() - start:.0f} s; seeds {seeds} "
        f"pooled ({n} patients), drawn at the sanctuary median {drawn:.0e}; course {course}"
    )
    print(
        "kill factor | K | median | "
        + " | ".join(f"{t.trial} {t.name} ({t.value:g}{'' if t in FIT_TARGETS else ', not scored'})" for t in SHOWN)
        + " | transplanted share | score"
    )
    best, best_score, unscored = None, math.inf, 0
    for point, values in table:
        s = score(values)
        print(point_row(point, values, SHOWN), flush=True)
        unscored += math.isnan(s)
        if s < best_score:
            best, best_score = point, s
    if unscored:
        print(
            f"{unscored} of {len(table)} points have no score: a scored target is NaN there (no patient in its "
            "group, e.g. no responder or no transplant); pool more patients"
        )
    if best is None:
        print("choice: none (no point has a score)")
        return 1
    print(
        f"choice: kill factor {best.kill_factor:g}, K {best.half_cells:.0e}, sanctuary median {best.median:.0e} "
        f"(score {best_score:.3f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

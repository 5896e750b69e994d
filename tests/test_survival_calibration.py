"""Stage 8 of the calibration, survival (blinasim.trials.calibration.survival): the joint scan of the sanctuary's
kill and median, its score and subgroups, and ``scripts/calibrate_survival.py`` end to end on a small cached
pool of lattice runs."""

from __future__ import annotations

import math
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from blinasim.core.model import simulate
from blinasim.core.seeds import run_seed
from blinasim.trials.calibration.survival import (
    BLAST_FOLLOW_UP_DAYS,
    FIT_TARGETS,
    MONTH,
    SUBGROUP_TARGETS,
    SURVIVAL_TARGETS,
    CoursePoint,
    LatticeRun,
    alive_relapse_free,
    default_point,
    miss,
    scan_course,
    score,
    scored_value,
    survival_values,
    transplanted_in_remission,
)
from blinasim.trials.cohort import SANCTUARY, draw_cohort
from blinasim.trials.trial import patient_config

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "calibrate_survival.py"
SEED = 5


@pytest.fixture(scope="module")
def pool() -> list[LatticeRun]:
    """Two MT103-211-like and two BLAST-like patients of seed 5 on a small lattice, seeded as stage 8 seeds
    them (:func:`blinasim.trials.calibration.survival.lattice_runs`)."""
    runs = []
    for trial in ("mt103_211", "blast"):
        for i, patient in enumerate(draw_cohort(trial, 2, SEED)):
            overrides = {**patient, "simulation.lattice_size": 48}
            runs.append(
                LatticeRun(trial, i, overrides, simulate(patient_config(trial, overrides), seed=run_seed(SEED, i, 0)))
            )
    return runs


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        (math.isnan(a[k]) and math.isnan(b[k])) if isinstance(a[k], float) and math.isnan(a[k]) else a[k] == b[k]
        for k in a
    )


def test_the_scan_at_todays_defaults_is_the_plain_follow_and_workers_do_not_change_it(pool):
    """At today's point, drawn at today's median, every patient keeps its own share and course settings: the
    scan gives the values of following each course with no override. Forked workers give the same values."""
    plain = survival_values(pool, SEED)
    (point, values), *_ = scan_course([(pool, SEED)], [default_point()])
    assert point == default_point()
    assert _same(values, plain)
    points = [default_point(), CoursePoint(0.5, 0.0, 3 * default_point().median)]
    one = scan_course([(pool, SEED)], points, workers=1)
    two = scan_course([(pool, SEED)], points, workers=2)
    assert [p for p, _ in one] == points == [p for p, _ in two]
    assert all(_same(a, b) for (_, a), (_, b) in zip(one, two, strict=True))


def test_a_points_overrides_scale_each_drawn_share_and_set_the_kill(pool):
    """A point moves every patient's sanctuary share by median / drawn (its place in the distribution kept,
    capped at the attribute's bound) and sets the kill factor and its saturation."""
    run = pool[0]
    share = run.overrides["patient.sanctuary_fraction"]
    assert CoursePoint(0.3, 1e7, 4e-4).overrides(run, 2e-4) == {
        "course.sanctuary_kill_factor": 0.3,
        "course.sanctuary_kill_half_cells": 1e7,
        "patient.sanctuary_fraction": share * 2.0,
    }
    assert CoursePoint(0.3, 0.0, 1.0).overrides(run, 1e-9)["patient.sanctuary_fraction"] == SANCTUARY.high
    # pooling: a seed's patients followed twice count twice, and a value of a pooled scan is the pooled rows'
    (_, once), (_, twice) = (scan_course(p, [default_point()])[0] for p in ([(pool, SEED)], [(pool, SEED)] * 2))
    assert twice[("mt103_211", "median_os_months")] == once[("mt103_211", "median_os_months")]


def test_subgroups_count_a_transplant_in_remission_and_5_year_relapse_free_survival():
    five = 5 * 365.25

    def row(transplant, rfs_days, rfs_event):
        return {"transplant_day": transplant, "rfs_days": rfs_days, "rfs_event": rfs_event}

    in_ccr = row(100.0, 2000.0, 0.0)  # transplanted, censored at 5 years without relapse
    relapsed_after = row(100.0, 400.0, 1.0)  # transplanted in remission, relapsed after it
    relapsed_before = row(300.0, 200.0, 1.0)  # the transplant came after the relapse
    never = row(math.nan, five, 0.0)
    assert [transplanted_in_remission(r) for r in (in_ccr, relapsed_after, relapsed_before, never)] == [
        True,
        True,
        False,
        False,
    ]
    assert alive_relapse_free([in_ccr, relapsed_after, never]) == 2


def test_the_score_sums_the_fit_targets_squared_misses_and_reads_an_unreached_median_as_the_follow_up():
    """Six scored targets: the four a course setting moves and BLAST's two subgroups; the MRD response among the
    CR/CRh (a lattice read-out) is reported, not scored. A median not reached counts as the follow-up's length."""
    assert [t.name for t in FIT_TARGETS] == [
        "median_rfs_months",
        "median_os_months",
        "rfs_18_months",
        "median_os_months",
        *(t.name for t in SUBGROUP_TARGETS),
    ]
    values = {(t.trial, t.name): t.value for t in SURVIVAL_TARGETS + SUBGROUP_TARGETS}
    assert score(values) == 0.0
    values[("mt103_211", "mrd_response_among_cr_crh")] = 0.1  # not scored
    assert score(values) == 0.0
    values[("blast", "median_os_months")] = math.nan  # not reached in 5 years
    values[("blast", "alive_relapse_free_5y_transplanted")] = 0.505
    blast_os = next(t for t in FIT_TARGETS if t.trial == "blast" and t.name == "median_os_months")
    expected = miss(blast_os, BLAST_FOLLOW_UP_DAYS / MONTH) ** 2 + 0.1**2
    assert score(values) == pytest.approx(expected)
    assert miss(blast_os, BLAST_FOLLOW_UP_DAYS / MONTH) > 0


def _script(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=cwd)


def test_the_stage_8_script_scans_a_cached_pool_and_names_the_choice(pool, tmp_path):
    """``scripts/calibrate_survival.py`` reads a seed's cache from ``--cache-dir``, scans the grid and prints
    one line per point and the point with the lowest score as the choice; the line of today's point carries
    the values of the plain follow."""
    (tmp_path / f"lattice{SEED}.pkl").write_bytes(pickle.dumps(pool))
    today = default_point()
    proc = _script(
        "--seed", str(SEED), "--cache-dir", str(tmp_path), "--workers", "1",
        "--factors", f"{today.kill_factor},0.5", "--halves", f"{today.half_cells}", "--medians", f"{today.median}",
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert out[0] == f"seed {SEED}: 4 patients from {tmp_path / f'lattice{SEED}.pkl'}"
    lines = [line for line in out if line.count(" | ") > 5 and not line.startswith("kill factor")]
    assert len(lines) == 2
    scores = [float(line.rsplit(" | ", 1)[1]) for line in lines]
    scored = [s for s in scores if not math.isnan(s)]
    assert scored, "the small pool should score at least one point"
    best = lines[scores.index(min(scored))].split(" | ")[:3]
    unscored = len(scores) - len(scored)
    assert (f"{unscored} of 2 points have no score" in proc.stdout) is (unscored > 0)
    assert out[-1].startswith(f"choice: kill factor {best[0]}, K {best[1]}, sanctuary median {best[2]} (score")
    first = lines[0].split(" | ")
    assert first[:3] == [f"{today.kill_factor:g}", f"{today.half_cells:.0e}", f"{today.median:.0e}"]
    plain = survival_values(pool, SEED)
    for target, cell in zip(FIT_TARGETS, first[3:], strict=False):
        value = scored_value(target, plain)  # an unreached median is shown as the follow-up, as it is scored
        assert cell == f"{value:.3g} ({miss(target, value):+.2f})"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seed", "1", "--seed", "2", "--cache", "x.pkl"], "--cache holds one seed's patients"),
        (["--seed", "1", "--seed", "1"], "--seed: a seed given more than once"),
        (["--seed", "1", "--factors", "0.1,2"], "--factors '0.1,2': 2 is outside the allowed range 0 to 1"),
        (["--seed", "1", "--medians", "a"], "--medians 'a': expected comma-separated numbers"),
        (["--seed", "1", "--drawn", "0"], "--drawn 0: a cohort median above 0"),
        (["--seed", "1", "--course", "patient.weight_kg=70"], "'patient.weight_kg' is not a course setting"),
    ],
)
def test_the_stage_8_script_refuses_bad_options_with_one_message(tmp_path, args, message):
    proc = _script(*args, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_stage_8_script_refuses_a_cache_it_did_not_write_and_leaves_it(tmp_path):
    cache = tmp_path / "lattice3.pkl"
    cache.write_bytes(b"not a pickle")
    proc = _script("--seed", "3", "--cache-dir", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"{cache}: not a lattice cache written by this script" in proc.stderr
    assert cache.read_bytes() == b"not a pickle"
    cache.write_bytes(pickle.dumps({"runs": []}))
    proc = _script("--seed", "3", "--cache-dir", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2 and f"{cache}: not a lattice cache written by this script" in proc.stderr

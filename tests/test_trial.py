"""Virtual-trial helpers: confidence intervals and endpoint rates."""

from __future__ import annotations

import json
import math

import pytest

from blinasim.trials.trial import Rate, rates, run_cohorts


def test_wilson_interval():
    r = Rate(43, 100)
    lo, hi = r.ci95
    assert r.value == 0.43
    assert lo == pytest.approx(0.3373, abs=1e-3) and hi == pytest.approx(0.5283, abs=1e-3)
    lo0, hi0 = Rate(0, 10).ci95
    assert lo0 == pytest.approx(0.0, abs=1e-12) and 0.25 < hi0 < 0.3
    assert math.isnan(Rate(0, 0).value)


def test_rates_skip_not_assessable_patients():
    rows = [
        {
            "trial": "t",
            "cr_crh": 1.0,
            "cr": 1.0,
            "crh": 0.0,
            "mrd_response": math.nan,
            "max_crs_grade": 3.0,
            "max_neurotoxicity_grade": 0.0,
        },
        {
            "trial": "t",
            "cr_crh": 0.0,
            "cr": 0.0,
            "crh": 0.0,
            "mrd_response": 1.0,
            "max_crs_grade": 1.0,
            "max_neurotoxicity_grade": 1.0,
        },
        {
            "trial": "t",
            "cr_crh": math.nan,
            "cr": math.nan,
            "crh": math.nan,
            "mrd_response": 0.0,
            "max_crs_grade": 0.0,
            "max_neurotoxicity_grade": 4.0,
        },
    ]
    r = rates(rows, "t")
    assert (r["cr_crh"].successes, r["cr_crh"].n) == (1, 2)
    assert (r["mrd_response"].successes, r["mrd_response"].n) == (1, 2)
    assert (r["crs_any"].successes, r["crs_grade3"].successes) == (2, 1)
    assert r["neurotox_grade3"].successes == 1
    # Records made before ``seizures`` was read out are not counted.
    assert (r["seizure"].successes, r["seizure"].n) == (0, 0)
    r = rates([{**row, "seizures": float(k)} for row, k in zip(rows, (0, 2, 1), strict=True)], "t")
    assert (r["seizure"].successes, r["seizure"].n) == (2, 3)


#: Tiny patients: a 16-site lattice, one day. Their trial names have no TRIAL_SETTINGS, so the
#: patients run as given wherever they run (worker processes fork from a server that never saw a
#: monkeypatch).
TINY = {"simulation.days": 1.0, "simulation.lattice_size": 16, "treatment.regimen": "flat"}
TINY_TRIALS = {
    "tiny_rr": [{**TINY, "patient.t_cells_per_ul": 300.0}, {**TINY, "patient.t_cells_per_ul": 900.0}],
    "tiny_mrd": [{**TINY, "patient.marrow_blast_fraction": 0.01}],
}


def same(a, b) -> bool:
    """NaN-safe equality of lists of patient records."""
    return json.dumps(a) == json.dumps(b)


def test_run_cohorts_is_reproducible_and_uses_the_patients():
    a = run_cohorts(TINY_TRIALS, seed=3, workers=1)
    b = run_cohorts(TINY_TRIALS, seed=3, workers=1)
    assert [(r["trial"], r["patient"]) for r in a] == [("tiny_rr", 0), ("tiny_rr", 1), ("tiny_mrd", 0)]
    assert same(a, b)
    assert not same([a[0]], [a[1]])  # the patients differ


def test_run_cohorts_gives_the_same_records_on_every_runner():
    """The patients run on a runner (an experiment executor, a warm pool) and never depend on where."""
    from blinasim.core.worker import SerialRunner, WorkerPool
    from blinasim.experiments.sweep import InProcessExecutor, LocalExecutor

    here = run_cohorts(TINY_TRIALS, seed=3, workers=1)
    assert same(run_cohorts(TINY_TRIALS, seed=3, runner=SerialRunner()), here)
    assert same(run_cohorts(TINY_TRIALS, seed=3, runner=InProcessExecutor()), here)
    with WorkerPool(2) as pool:
        assert same(run_cohorts(TINY_TRIALS, seed=3, runner=pool), here)
        assert same(run_cohorts(TINY_TRIALS, seed=3, runner=pool), here)  # the same warm workers again
    executor = LocalExecutor(2)
    try:
        assert same(run_cohorts(TINY_TRIALS, seed=3, runner=executor), here)
    finally:
        executor.close()
    assert same(run_cohorts(TINY_TRIALS, seed=3, workers=2), here)  # a pool started for the call


def test_run_cohorts_without_a_runner_starts_one_pool_of_workers(monkeypatch):
    import blinasim.core.worker as worker

    started = []

    class Counting(worker.WorkerPool):
        def map(self, fn, items, /):
            started.append(self.n_workers)
            return worker.SerialRunner().map(fn, items)

    monkeypatch.setattr(worker, "WorkerPool", Counting)
    records = run_cohorts(TINY_TRIALS, seed=3, workers=3)
    assert started == [3] and len(records) == 3
    assert same(records, run_cohorts(TINY_TRIALS, seed=3, workers=1))


def test_runner_or_pool_keeps_one_pool_for_the_block():
    from blinasim.core.worker import SerialRunner, WorkerPool, runner_or_pool

    given = SerialRunner()
    with runner_or_pool(given, 4) as r:
        assert r is given
    with runner_or_pool(None, 1) as r:
        assert isinstance(r, SerialRunner)
    with runner_or_pool(None, 2) as r:
        assert isinstance(r, WorkerPool) and r.n_workers == 2
        assert r.map(abs, [-1, 2, -3]) == [1, 2, 3]
        pool = r._pool
        assert r.map(abs, [-4]) == [4] and r._pool is pool  # the same processes, kept warm
    assert r._pool is None  # closed at the end of the block
    with pytest.raises(ValueError, match="need at least 1"):
        WorkerPool(0)


@pytest.mark.slow
def test_run_cohorts_on_a_dask_cluster():
    pytest.importorskip("distributed")
    from blinasim.experiments.sweep import DaskExecutor

    executor = DaskExecutor(local_workers=1)
    try:
        on_dask = run_cohorts(TINY_TRIALS, seed=3, runner=executor)
    finally:
        executor.close()
    assert same(on_dask, run_cohorts(TINY_TRIALS, seed=3, workers=1))


def test_treg_split_counts_by_the_duell_cutoff():
    from blinasim.trials.trial import TREG_CUTOFF, treg_split

    def patient(treg, cr_crh):
        return {"trial": "mt103_211", "cr_crh": cr_crh, "attributes": {"patient.treg_fraction_of_cd4": treg}}

    low, high = TREG_CUTOFF / 2, TREG_CUTOFF * 2
    results = [patient(low, 1.0), patient(low, 1.0), patient(high, 1.0), patient(low, 0.0), patient(high, 0.0)]
    results += [patient(high, math.nan), {"trial": "blast", "cr_crh": 1.0, "attributes": {}}]
    split = treg_split(results)
    assert (split["responders_below"].successes, split["responders_below"].n) == (2, 3)
    assert (split["nonresponders_above"].successes, split["nonresponders_above"].n) == (1, 2)
    assert (split["response_below"].successes, split["response_below"].n) == (2, 3)
    assert (split["response_above"].successes, split["response_above"].n) == (1, 2)

"""Stages 1-5 of the calibration: a Bayesian search of the uncertain parameters against every target.

Procedure (docs/validation.md; the same arguments reproduce a search):

1. Virtual cohorts: ``n`` MT103-211-like and ``n`` BLAST-like patients drawn
   with :func:`blinasim.trials.cohort.draw_cohort` from ``seed``; run seeds
   ``SeedSequence(seed, spawn_key=(patient, 0))``. Every candidate runs the same
   patients with the same seeds (common random numbers), plus the in-vitro
   co-culture (Philipp 2022) with ``assays`` seeds.
2. Search: Bayesian optimisation (optuna's multivariate TPE sampler, seeded,
   one candidate at a time, so the sequence is deterministic) over
   :data:`blinasim.trials.calibration.parameters.PARAMETERS` on log scales;
   candidate 0 is the current defaults (or a candidate of an earlier search).
3. Score: :func:`blinasim.trials.calibration.targets.score`, squared misses in
   units of what each study could resolve.
4. Every candidate's parameters, values, misses and score go to ``out``
   (JSON, rewritten after each candidate, so a stopped search keeps what it
   did). Verification of the best candidate at >= 200 patients per trial is
   :func:`blinasim.trials.calibration.verify.verify`.

Optuna is optional (``pip install "blinasim[calibration]"``); it is imported
only when a search starts.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from typing import Any

from blinasim.core.worker import Runner, runner_or_pool
from blinasim.errors import arg
from blinasim.params.schema import ConfigError
from blinasim.trials.calibration.assay import run_assay
from blinasim.trials.calibration.parameters import PARAMETERS, current_values, to_overrides
from blinasim.trials.calibration.targets import TARGETS, score, summarise
from blinasim.trials.cohort import draw_cohort
from blinasim.trials.trial import run_cohorts

#: The virtual trials every candidate runs.
SEARCH_TRIALS = ("mt103_211", "blast")


class CalibrationError(ConfigError):
    """A calibration that cannot start (bad options, a missing earlier record, no optuna): one line per problem."""


def _optuna():
    """The optuna module, or a :class:`CalibrationError` saying how to install it."""
    try:
        import optuna  # optional: only a search needs it
    except ImportError:
        raise CalibrationError(
            ['the calibration search needs optuna: pip install "blinasim[calibration]" (or pip install optuna)']
        ) from None
    return optuna


def check_parameters(names: list[str]) -> dict[str, tuple[float, float]]:
    """The search space of ``names`` (in the order of
    :data:`~blinasim.trials.calibration.parameters.PARAMETERS`); unknown names raise
    :class:`CalibrationError`."""
    unknown = [k for k in names if k not in PARAMETERS]
    if unknown:
        raise CalibrationError([f"{arg('parameters')}: unknown {unknown}; allowed: {', '.join(PARAMETERS)}"])
    if not names:
        raise CalibrationError([f"{arg('parameters')}: none given; allowed: {', '.join(PARAMETERS)}"])
    return {k: v for k, v in PARAMETERS.items() if k in names}


def load_candidate(spec: str) -> dict[str, float]:
    """The parameters of candidate ``C`` of an earlier search's JSON, given as ``"PATH:C"``."""
    path, _, which = spec.rpartition(":")
    try:
        with open(path) as fh:
            record = next(r for r in json.load(fh)["records"] if r["candidate"] == int(which))
    except (OSError, ValueError, StopIteration, KeyError, TypeError) as exc:
        raise CalibrationError(
            [f"{arg('start', repr(spec))}: expected JSON:CANDIDATE of an earlier run ({exc!r})"]
        ) from None
    return dict(record["params"])


def load_warm_start(path: str, n: int, seed: int) -> dict[str, Any]:
    """An earlier search's JSON, checked to have run the same cohorts (``n`` and ``seed``)."""
    try:
        with open(path) as fh:
            earlier = json.load(fh)
        ran = (earlier["n"], earlier["seed"])
        earlier["records"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CalibrationError(
            [f"{arg('warm_start', repr(path))}: expected the JSON of an earlier search ({exc!r})"]
        ) from None
    if ran != (n, seed):
        raise CalibrationError([f"{arg('warm_start', repr(path))}: n/seed {ran[0]}/{ran[1]} differ from {n}/{seed}"])
    return earlier


def evaluate(
    params: dict[str, float],
    cohorts: dict[str, list[dict[str, Any]]],
    seed: int,
    assays: int,
    runner: Runner,
) -> tuple[dict[str, float], dict[str, float], float]:
    """Run one candidate: the cohorts and ``assays`` in-vitro co-cultures (seeds ``seed``, ``seed + 1``, ...).

    Returns
    -------
    tuple
        The model's value for every target, the misses, and the score.
    """
    over = to_overrides(params)
    results = run_cohorts(cohorts, seed, over, runner=runner)
    vitro = list(runner.map(run_assay, [(over, seed + k) for k in range(assays)]))
    values = summarise(results, vitro)
    total, misses = score(values)
    return values, misses, total


def best_record(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The record with the lowest score (NaN scores last)."""
    return min(records, key=lambda r: r["score"] if not math.isnan(r["score"]) else math.inf)


def search(
    n: int = 24,
    candidates: int = 40,
    *,
    startup: int = 12,
    assays: int = 2,
    seed: int = 2024,
    parameters: list[str] | None = None,
    start: str | None = None,
    warm_start: str | None = None,
    out: str | os.PathLike | None = None,
    runner: Runner | None = None,
    workers: int = 2,
    on_message: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Stages 1-5: search the calibrated parameters (Bayesian optimisation) against every target.

    Parameters
    ----------
    n
        Patients per trial per candidate.
    candidates
        Candidates to run (the starting point included unless ``warm_start``).
    startup
        Random candidates before the TPE model is used.
    assays
        In-vitro co-culture seeds per candidate.
    seed
        Cohort, run and sampler seed.
    parameters
        The subset of :data:`~blinasim.trials.calibration.parameters.PARAMETERS` searched
        (default: all); the others keep the starting point's values.
    start
        ``"PATH:C"``: start from candidate ``C`` of an earlier search instead of the defaults;
        it is candidate 0 (for the searched parameters), and the parameters not searched keep
        its values.
    warm_start
        JSON of an earlier search (same ``n`` and ``seed``): its candidates are told to the
        optimiser first and kept in the record.
    out
        JSON file rewritten after every candidate (None: nothing written).
    runner, workers
        Where the patients and assays run; without a runner one pool of ``workers`` processes
        serves every candidate.
    on_message
        Called with one line per candidate.

    Returns
    -------
    dict
        The record: the settings, ``best`` and every candidate in ``records``.
    """
    say = on_message or (lambda msg: None)
    space = check_parameters(list(PARAMETERS) if parameters is None else parameters)
    base = current_values()
    if start:
        base.update({k: v for k, v in load_candidate(start).items() if k in PARAMETERS})
    earlier = load_warm_start(warm_start, n, seed) if warm_start else None
    optuna = _optuna()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup, multivariate=True)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    fixed = {k: v for k, v in base.items() if k not in space}
    records: list[dict[str, Any]] = []
    if earlier is not None:
        distributions = {k: optuna.distributions.FloatDistribution(lo, hi, log=True) for k, (lo, hi) in space.items()}
        for r in earlier["records"]:
            # The optimiser sees the searched parameters (the starting point's values where an earlier
            # stage did not search one); the record keeps what the candidate actually ran with.
            params = {k: r["params"].get(k, base[k]) for k in space}
            study.add_trial(optuna.trial.create_trial(params=params, distributions=distributions, value=r["score"]))
            records.append({**r, "stage": "warm start"})
    else:
        study.enqueue_trial({k: base[k] for k in space})
    cohorts = {trial: draw_cohort(trial, n, seed) for trial in SEARCH_TRIALS}
    meta = {
        "n": n,
        "seed": seed,
        "assays": assays,
        "trials": candidates,
        "startup": startup,
        "parameters": {k: list(v) for k, v in space.items()},
        "fixed": fixed,
        "start": start,
        "targets": [t.__dict__ for t in TARGETS],
    }
    record: dict[str, Any] = {**meta, "best": best_record(records) if records else None, "records": records}
    with runner_or_pool(runner, workers) as pool:
        for c in range(len(records), len(records) + candidates):
            trial = study.ask()
            params = {k: trial.suggest_float(k, lo, hi, log=True) for k, (lo, hi) in space.items()}
            params = {**fixed, **params}
            t0 = time.time()
            values, misses, total = evaluate(params, cohorts, seed, assays, pool)
            study.tell(trial, total)
            records.append({"candidate": c, "params": params, "values": values, "misses": misses, "score": total})
            shown = " ".join(f"{k}={v:.2f}" for k, v in values.items())
            say(f"[{c:2d}] score {total:8.1f}  {shown}  ({time.time() - t0:.0f} s)")
            record = {**meta, "best": best_record(records), "records": records}
            if out is not None:
                _write_json(record, out)
    return record


def _write_json(record: dict[str, Any], path: str | os.PathLike) -> None:
    """Write ``record`` to ``path`` through a temporary file (never half-written)."""
    tmp = f"{os.fspath(path)}.tmp"
    with open(tmp, "w") as fh:
        json.dump(record, fh, indent=1)
    os.replace(tmp, path)

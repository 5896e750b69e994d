"""Calibration of the uncertain defaults against published targets, as an API.

``blinasim calibrate`` runs each stage from the command line (docs/validation.md
has the commands that produced the defaults and their records):

- stages 1-5, the Bayesian search against every target:
  :func:`~blinasim.trials.calibration.search.search`, ``blinasim calibrate search``;
- stage 6, a run of the R/R calibration cohort with CR/CRh and the quantiles
  of its CRS signal: :func:`~blinasim.trials.calibration.scans.rr_scan`,
  ``blinasim calibrate scan``;
- stage 7, the IL-6 gain and the toxicity mappings from quantiles:
  :func:`~blinasim.trials.calibration.scans.calibrate_toxicity`,
  ``blinasim calibrate toxicity``;
- verification at 200 + 200 patients:
  :func:`~blinasim.trials.calibration.verify.verify`, ``blinasim calibrate verify``.

Modules, from the bottom up:

- :mod:`~blinasim.trials.calibration.targets`: the targets with their sources,
  the model's value for each (:func:`summarise`) and the score;
- :mod:`~blinasim.trials.calibration.parameters`: the parameters searched, their
  ranges and current values, the grade-threshold spacing;
- :mod:`~blinasim.trials.calibration.assay`: the in-vitro co-culture;
- :mod:`~blinasim.trials.calibration.scans`: stages 6 and 7, the
  quantile-to-threshold mapping and the IL-6 gain;
- :mod:`~blinasim.trials.calibration.search`: stages 1-5 (optuna, optional);
- :mod:`~blinasim.trials.calibration.verify`: the verification trials.

Every stage runs its virtual patients through a runner
(:class:`blinasim.core.worker.Runner`: an experiment executor, or one pool of
local processes kept warm across the stage's runs); where a patient runs never
changes its result.
"""

from __future__ import annotations

from blinasim.trials.calibration.assay import IN_VITRO, in_vitro_assay, run_assay
from blinasim.trials.calibration.parameters import GRADE3, PARAMETERS, current_values, spaced_thresholds, to_overrides
from blinasim.trials.calibration.scans import (
    RRScan,
    ToxicityCalibration,
    calibrate_toxicity,
    il6_gain,
    level_reached_by,
    rr_scan,
    share_reaching,
    toxicity_thresholds,
)
from blinasim.trials.calibration.search import CalibrationError, evaluate, search
from blinasim.trials.calibration.targets import (
    CLAIMED,
    TARGET_BY_NAME,
    TARGETS,
    TRIAL_TARGETS,
    Target,
    score,
    summarise,
)
from blinasim.trials.calibration.verify import Verification, verify

__all__ = [
    "CLAIMED",
    "GRADE3",
    "IN_VITRO",
    "PARAMETERS",
    "TARGETS",
    "TARGET_BY_NAME",
    "TRIAL_TARGETS",
    "CalibrationError",
    "RRScan",
    "Target",
    "ToxicityCalibration",
    "Verification",
    "calibrate_toxicity",
    "current_values",
    "evaluate",
    "il6_gain",
    "in_vitro_assay",
    "level_reached_by",
    "rr_scan",
    "run_assay",
    "score",
    "search",
    "share_reaching",
    "spaced_thresholds",
    "summarise",
    "to_overrides",
    "toxicity_thresholds",
    "verify",
]

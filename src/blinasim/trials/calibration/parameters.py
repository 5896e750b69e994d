"""The calibrated parameters: their search ranges, their current values, and the grade thresholds.

:data:`PARAMETERS` lists the uncertain parameters that the Bayesian search
(:mod:`blinasim.trials.calibration.search`, stages 1-5) moves, each over an
order-of-magnitude range on a log scale. One of them is not a config key: the
grade-3 CRS threshold (:data:`GRADE3`) expands into the whole threshold list
(:func:`to_overrides`), with grade 1 at its default and grades 2 and 4 kept in
their places relative to grades 1 and 3 (:func:`spaced_thresholds`, also used
by stage 7, :mod:`blinasim.trials.calibration.scans`).
"""

from __future__ import annotations

import math

from blinasim.params.paths import get_dotted
from blinasim.params.schema import load_config

#: The grade-3 CRS threshold, searched as a parameter of its own (see :func:`to_overrides`).
GRADE3 = "toxicity.crs_il6_thresholds_pg_per_ml[2]"

#: The calibrated parameters and the ranges searched (log scale). Each is uncertain: an
#: order-of-magnitude choice ("approx.") that no direct measurement pins down.
PARAMETERS: dict[str, tuple[float, float]] = {
    "tcells.contacts_per_hour": (5.0, 120.0),
    "tcells.speed_um_per_min": (3.0, 15.0),
    "tcells.exhaustion_per_engaged_day": (0.02, 1.0),
    "tcells.exhaustion_hill": (2.0, 8.0),
    "tcells.exhaustion_e50": (0.2, 0.9),
    "tcells.activated_division_per_day": (0.05, 1.0),
    "tcells.activation_half_life_days": (0.5, 5.0),
    "tcells.contraction_rate_per_day": (0.02, 1.0),
    "tcells.blood_contact_ul_per_h": (1e-3, 0.1),
    "cytokines.ifng_release_pg_per_cell_h": (1e-4, 3e-3),
    "tcells.treg_suppression_half": (0.01, 0.2),
    "tcells.treg_suppression_max": (0.3, 1.0),
    # The IL-6 level at which grade 3 begins (grade 1 stays at its default; grades 2 and 4 keep their places
    # relative to grades 1 and 3, :func:`spaced_thresholds`): the mapping from serum IL-6 to a clinical grade is
    # the least certain link.
    GRADE3: (150.0, 5000.0),
}


def spaced_thresholds(grade1: float, grade3: float, template: list[float]) -> list[float]:
    """Four grade thresholds with grades 1 and 3 where given and grades 2 and 4 where ``template`` puts
    them relative to its own grades 1 and 3, on a log scale (stage 7 of the calibration moves the
    ends of a toxicity mapping and keeps its shape)."""
    if not 0 < grade1 < grade3:
        raise ValueError(f"grade thresholds need 0 < grade 1 < grade 3, got {grade1!r} and {grade3!r}")
    span = math.log(template[2] / template[0])
    return [grade1 * (grade3 / grade1) ** (math.log(t / template[0]) / span) for t in template]


def to_overrides(params: dict[str, float]) -> dict[str, object]:
    """Config overrides of a candidate (the grade-3 threshold expands into the threshold list)."""
    over: dict[str, object] = {k: v for k, v in params.items() if k != GRADE3}
    if GRADE3 in params:
        default = load_config(None).toxicity.crs_il6_thresholds_pg_per_ml
        over["toxicity.crs_il6_thresholds_pg_per_ml"] = spaced_thresholds(default[0], params[GRADE3], default)
    return over


def current_values(names: list[str] | None = None) -> dict[str, float]:
    """The current defaults (docs/parameters.md) of the calibrated parameters ``names`` (default:
    all of :data:`PARAMETERS`), the starting point of a search."""
    data = load_config(None).model_dump()
    out = {}
    for name in PARAMETERS if names is None else names:
        if name == GRADE3:
            out[name] = float(data["toxicity"]["crs_il6_thresholds_pg_per_ml"][2])
        else:
            out[name] = float(get_dotted(data, name))
    return out

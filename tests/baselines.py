"""The exact regression baseline: a few small, varied runs and the summary numbers pinned for each.

``tests/test_baselines.py`` runs every case of :data:`CASES` through the public API
(:func:`blinasim.load_config`, :func:`blinasim.simulate`) and compares its summary
(:func:`summarise`) with the one stored in ``tests/baselines.json``, exactly: a float must be
the same float, the hash of the whole Dataset the same hash. On any difference the test fails
with a table of what changed. When a change of results is intended, regenerate the file and
commit it with the change that caused it::

    python scripts/update_baselines.py

(docs/testing.md, "Regression baseline").
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

import blinasim
from blinasim.core.output import PROVENANCE_ATTRS
from blinasim.core.seeds import run_seed
from blinasim.trials.cohort import draw_cohort
from blinasim.trials.trial import TRIAL_SETTINGS

#: The file that holds the pinned summaries.
BASELINE_FILE = Path(__file__).resolve().parent / "baselines.json"
#: The command that regenerates :data:`BASELINE_FILE`, run from the repository root.
UPDATE_COMMAND = "python scripts/update_baselines.py"
#: Dataset attributes that describe the software, not the result (a version bump alone does not fail the baseline).
#: The creation date and the git commit (blinasim.core.output.PROVENANCE_ATTRS) are left out too.
VERSION_ATTRS = frozenset(
    {"blinasim_version", "numpy_version", "numba_version", "mesa_version", "xarray_version", *PROVENANCE_ATTRS}
)

#: Seed of the mini cohort's draw and runs (:func:`blinasim.trials.cohort.draw_cohort`).
COHORT_SEED = 5

#: A value of a summary: numbers, an endpoint label, or None for NaN (JSON has no NaN).
Value = float | int | str | None


@dataclass(frozen=True)
class Case:
    """One pinned run: its config overrides (of the built-in defaults) and its run seed.

    Attributes
    ----------
    name
        The case's key in the baseline file.
    description
        What the case exercises.
    overrides
        Dotted-key overrides passed to :func:`blinasim.load_config`.
    seed
        The run seed; None: derived from ``simulation.seed``.
    """

    name: str
    description: str
    overrides: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None

    def inputs(self) -> dict[str, Any]:
        """What the run is made of, as the baseline file stores it beside its summary (a changed case is reported
        as such)."""
        return json.loads(json.dumps({"overrides": self.overrides, "seed": self.seed}))

    def run(self) -> xr.Dataset:
        """Simulate the case."""
        return blinasim.simulate(blinasim.load_config(None, self.overrides), seed=self.seed)


def _cohort_cases(trial: str, n: int) -> list[Case]:
    """The first ``n`` patients of a trial's cohort (seed :data:`COHORT_SEED`), each run exactly as
    :func:`blinasim.trials.trial.run_cohorts` runs them (trial settings, ``run_seed(seed, patient, 0)``)."""
    patients = draw_cohort(trial, n, COHORT_SEED)
    return [
        Case(
            f"cohort_{trial}_{i}",
            f"patient {i} of draw_cohort({trial!r}, {n}, {COHORT_SEED}) under the trial's settings",
            {**patient, **TRIAL_SETTINGS[trial]},
            run_seed(COHORT_SEED, i, 0),
        )
        for i, patient in enumerate(patients)
    ]


#: Small lattices keep each run short; every case still exercises its process.
SMALL = {"simulation.lattice_size": 64}

CASES: tuple[Case, ...] = (
    Case(
        "step_up_cycle1",
        "the default patient and regimen (R/R step-up, 9 then 28 ug/day), cycle 1 with its break",
        {},
    ),
    Case(
        "flat_regimen",
        "28 ug/day from day 0 (no step-up), to the day-28 assessment",
        {**SMALL, "simulation.days": 30.0, "treatment.regimen": "flat"},
    ),
    Case(
        "toxicity_rules",
        "flat dosing without premedication in a strong IL-6 responder: CRS and neurotoxicity grades, a hold",
        {
            **SMALL,
            "simulation.days": 21.0,
            "treatment.regimen": "flat",
            "treatment.dexamethasone_premedication": False,
            "patient.il6_response": 3.0,
        },
    ),
    Case(
        "checkpoint_nivolumab",
        "blinatumomab with anti-PD-1 (nivolumab) from the first infusion day, PD-L1 induced by IFN-gamma",
        {**SMALL, "simulation.days": 30.0, "treatment.checkpoint_inhibitor": "nivolumab", "disease.pdl1_baseline": 0.3},
    ),
    Case(
        "salvage_chemotherapy",
        "salvage chemotherapy alone (the comparator arm), a course and the marrow's recovery",
        {**SMALL, "simulation.days": 28.0, "treatment.regimen": "none", "treatment.chemotherapy": "salvage"},
    ),
    Case(
        "lineage_switch_relapse",
        "a KMT2A-rearranged patient over two cycles: CR at day 28, then a lineage-switch relapse",
        {
            **SMALL,
            "simulation.days": 84.0,
            "treatment.cycles": 2,
            "patient.kmt2a_rearranged": True,
            "disease.lineage_switch_per_division_kmt2a": 0.0005,
        },
    ),
    Case(
        "cd19_negative_relapse",
        "pre-existing CD19-negative blasts over two cycles: CR at day 28, then a CD19-negative relapse",
        {**SMALL, "simulation.days": 84.0, "treatment.cycles": 2, "disease.cd19_negative_fraction": 0.002},
    ),
    *_cohort_cases("mt103_211", 2),
    *_cohort_cases("blast", 1),
)


def _value(x: Any) -> Value:
    """A summary value as JSON stores it exactly: Python float, int or str; None for NaN."""
    if isinstance(x, np.ndarray):
        x = x.item()
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and math.isnan(x):
        return None
    return x


def dataset_hash(ds: xr.Dataset) -> str:
    """SHA-256 of every variable and coordinate (name, dtype, shape, bytes; strings as UTF-8) and every attribute
    but the software versions (:data:`VERSION_ATTRS`)."""
    h = hashlib.sha256()
    for name in sorted(map(str, ds.variables)):
        var = ds.variables[name]
        values = np.asarray(var.values)
        h.update(f"{name}|{values.dtype}|{values.shape}|".encode())
        if values.dtype.kind in "OUS":
            h.update("\x1f".join(map(str, values.ravel())).encode())
        else:
            h.update(np.ascontiguousarray(values).tobytes())
        h.update(json.dumps(var.attrs, sort_keys=True, default=str).encode())
    attrs = {k: v for k, v in ds.attrs.items() if k not in VERSION_ATTRS}
    h.update(json.dumps(attrs, sort_keys=True, default=str).encode())
    return h.hexdigest()


def summarise(ds: xr.Dataset) -> dict[str, Value]:
    """The pinned numbers of one run.

    Parameters
    ----------
    ds
        The run's Dataset (:func:`blinasim.simulate`).

    Returns
    -------
    dict
        Final and peak blasts per compartment, CD19-negative and lineage-switched blasts at the end,
        total kills, T-cell peaks and exhausted T-cells at the end, IL-6 and IFN-gamma peaks, the
        maximal CRS and neurotoxicity grades, the endpoints (CR/CRh, CR, CRh, MRD response, relapse,
        discontinuation), the number of records and the hash of the whole Dataset (:func:`dataset_hash`).
    """
    out: dict[str, Value] = {"records": ds.sizes["time"]}
    for compartment in ("marrow", "blood"):
        blasts = ds.blasts.sel(compartment=compartment).values
        out[f"blasts_{compartment}_final"] = _value(blasts[-1])
        out[f"blasts_{compartment}_peak"] = _value(blasts.max())
    for name in ("blasts_cd19_negative", "blasts_lineage_switched", "t_cells_exhausted"):
        out[f"{name}_final"] = _value(ds[name].values[-1].sum())
    out["marrow_blast_fraction_final"] = _value(ds.marrow_blast_fraction.values[-1])
    out["mrd_final"] = _value(ds.mrd.values[-1])
    out["kills_total"] = _value(ds.kills.values.sum())
    out["normal_b_kills_total"] = _value(ds.normal_b_kills.values.sum())
    for compartment in ("marrow", "blood"):
        out[f"t_cells_{compartment}_peak"] = _value(ds.t_cells.sel(compartment=compartment).values.max())
    out["il6_peak"] = _value(ds.il6.values.max())
    out["ifng_peak"] = _value(ds.ifng.values.max())
    for name in (
        "max_crs_grade",
        "max_neurotoxicity_grade",
        "cr_crh",
        "cr",
        "crh",
        "response_day",
        "mrd_response",
        "relapse_day",
        "relapse_type",
        "discontinuation_day",
    ):
        out[name] = _value(ds[name].values)
    out["dataset_sha256"] = dataset_hash(ds)
    return out


def compute(cases: tuple[Case, ...] = CASES) -> dict[str, dict[str, Any]]:
    """Run every case: ``{name: {"description", "inputs", "summary"}}``, the layout of the baseline file's cases."""
    return {
        case.name: {"description": case.description, "inputs": case.inputs(), "summary": summarise(case.run())}
        for case in cases
    }


def load(path: Path = BASELINE_FILE) -> dict[str, dict[str, Any]]:
    """The pinned cases of the baseline file."""
    return json.loads(path.read_text())["cases"]


def save(cases: dict[str, dict[str, Any]], path: Path = BASELINE_FILE) -> None:
    """Write the baseline file (floats as their shortest exact repr, so they load back bit for bit)."""
    doc = {
        "about": f"Exact regression baseline of tests/test_baselines.py (tests/baselines.py). Do not edit: "
        f"regenerate with `{UPDATE_COMMAND}` when a change of results is intended.",
        "cases": cases,
    }
    path.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")


def _flatten(prefix: str, value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(f"{prefix}.{key}" if prefix else str(key), item))
        return out
    return {prefix: value}


#: Marks an entry that one side does not have.
MISSING = "(missing)"


def changes(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """Every entry whose value differs, exactly, between two (nested) records: ``(key, old, new)``.

    Floats compare by value (``==``: no tolerance); an entry only one side has is reported with :data:`MISSING`
    on the other.
    """
    a, b = _flatten("", old), _flatten("", new)
    out = []
    for key in sorted(a.keys() | b.keys()):
        x, y = a.get(key, MISSING), b.get(key, MISSING)
        if x != y or type(x) is not type(y):
            out.append((key, x, y))
    return out


def _change(old: Any, new: Any) -> str:
    if isinstance(old, int | float) and isinstance(new, int | float) and not isinstance(old, bool):
        if old == 0:
            return f"{new - old:+.6g}"
        return f"{(new - old) / abs(old):+.3e} (relative)"
    return ""


def _show(value: Any, width: int = 24) -> str:
    text = repr(value) if isinstance(value, float) else str(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def drift_table(case: str, rows: list[tuple[str, Any, Any]]) -> str:
    """A readable table of one case's changes: key, baseline value, new value, change."""
    width = max([len("entry"), *(len(k) for k, _, _ in rows)])
    lines = [f"{case}:", f"  {'entry':{width}s}  {'baseline':>24s}  {'now':>24s}  change"]
    for key, old, new in rows:
        lines.append(f"  {key:{width}s}  {_show(old):>24s}  {_show(new):>24s}  {_change(old, new)}")
    return "\n".join(lines)


def drift_message(case: str, input_rows: list[tuple[str, Any, Any]], summary_rows: list[tuple[str, Any, Any]]) -> str:
    """Why a case fails its baseline: what changed, and the command that accepts an intended change."""
    parts = [f"regression baseline drift in case {case!r} (tests/baselines.json):"]
    if input_rows:
        parts.append("the case itself changed (its config overrides or seed):\n" + drift_table(case, input_rows))
    if summary_rows:
        parts.append("results changed:\n" + drift_table(case, summary_rows))
    parts.append(
        f"If this change of results is intended, regenerate the baseline with `{UPDATE_COMMAND}` and commit "
        "tests/baselines.json with the change that caused it (docs/testing.md). If not, the change has a bug."
    )
    return "\n".join(parts)

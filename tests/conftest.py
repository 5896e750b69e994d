"""Shared fixtures: small configs and a once-per-session JIT warm-up."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import blinasim
from blinasim.params.schema import Config

#: The first line of every error of the command line, e.g. ``blinasim calibrate verify: error: ...``
#: (docs/getting-started.md, "Errors").
CLI_ERROR = re.compile(r"blinasim(?: [a-z][a-z-]*)*: error: ")

CONTRACT_TIME = [
    "dose_rate",
    "bite_concentration",
    "marrow_blast_fraction",
    "mrd",
    "kills",
    "il6",
    "ifng",
    "crs_grade",
    "pdl1_mean",
]
CONTRACT_TIME_COMPARTMENT = [
    "blasts",
    "blasts_cd19_negative",
    "blasts_lineage_switched",
    "normal_b_cells",
    "t_cells",
    "t_cells_engaged",
    "t_cells_exhausted",
]
CONTRACT_SCALARS = [
    "cr_crh",
    "mrd_response",
    "max_crs_grade",
    "relapse_day",
    "relapse_type",
    "os_days",
    "os_event",
    "rfs_days",
    "rfs_event",
    "efs_days",
    "efs_event",
    "days_to_mrd_negative",
    "event_cause",
    "transplanted",
    "transplant_day",
]


def make_config(**dotted) -> Config:
    """A small, fast config; keyword names use ``__`` for dots (``simulation__days=2``)."""
    overrides = {"simulation.lattice_size": 48, "simulation.days": 4.0}
    overrides.update({k.replace("__", "."): v for k, v in dotted.items()})
    return blinasim.load_config(None, overrides)


#: No toxicity rule acts (no hold, tocilizumab or discontinuation): for mechanism tests (killing, cytokine
#: kinetics, dexamethasone's action) whose patient, on flat dosing or without premedication, would otherwise
#: reach the hold grades of the calibrated toxicity mapping and have the infusion stopped.
NO_TOX_RULES = {
    f"protocol__{rule}": 5
    for rule in (
        "crs_hold_grade",
        "crs_discontinue_grade",
        "tocilizumab_grade",
        "neuro_hold_grade",
        "neuro_discontinue_grade",
        "seizure_hold_grade",
    )
} | {"protocol__seizure_discontinue_count": 100}


def hand_lattice(
    cells=(0.0, 0.0, 0.0),
    cr_crh: float = 1.0,
    response_day: float = 28.0,
    days: float = 84.0,
    mrd_response: float = math.nan,
    neutrophils_per_ul: float | None = None,
):
    """A hand-made lattice run for the clinical course: constant disease ``cells`` (CD19+,
    CD19-negative, myeloid) over ``days``, a response on ``response_day`` when ``cr_crh`` is 1, and
    a constant neutrophil count when ``neutrophils_per_ul`` is given (None: not recorded)."""
    from blinasim.clinical import course

    times = np.arange(0.0, days + 1e-9, 0.25)
    n = len(times)
    mono = 4e11
    return course.LatticeRun(
        times=times,
        cells=np.tile(np.asarray(cells, dtype=float), (n, 1)),
        kills=np.zeros(n),
        dose_rate=np.zeros(n),
        cycle=np.zeros(n, dtype=np.int16),
        mrd=np.full(n, sum(cells) / mono),
        marrow_nucleated=1e12,
        marrow_mononuclear=mono,
        cr_crh=cr_crh,
        response_day=response_day if cr_crh == 1.0 else math.nan,
        mrd_response=mrd_response,
        mrd_response_day=math.nan,
        relapse_day=math.nan,
        relapse_type="none",
        neutrophils=None if neutrophils_per_ul is None else np.full(n, neutrophils_per_ul),
    )


def run(**dotted):
    return blinasim.simulate(make_config(**dotted))


@pytest.fixture(scope="session", autouse=True)
def warm_jit():
    """Compile (or load from cache) every kernel once per test session."""
    blinasim.simulate(make_config(simulation__days=0.5, simulation__lattice_size=16))


def total(ds, name):
    """Sum over compartments, as agents x cells_per_agent (float)."""
    return ds[name].sum("compartment").values if "compartment" in ds[name].dims else ds[name].values


def agents(ds, values):
    """Cells back to agent counts (exact integers)."""
    return np.rint(np.asarray(values) / ds.attrs["cells_per_agent"]).astype(np.int64)

"""Pictures of the marrow lattice: what each site shows, coded, for the output and the live view.

:func:`lattice_codes` gives one small integer per site (:data:`LATTICE_MEANINGS`):
the resident (empty, another marrow cell, a normal B cell, a blast by phenotype)
unless a T-cell crawls over it, in which case the T-cell's state (naive, active,
exhausted, or in a synapse, in that increasing priority when several share a
site). :func:`t_cells_per_site` counts the marrow T-cells of each site.

With ``output.snapshot_every_days`` > 0 the record phase keeps a snapshot every
that many days (:func:`maybe_take`) and the Dataset gets the variables of
:func:`snapshot_variables`, with dims ``(time_snapshot, y, x)``. At the default
(0) nothing is taken and the Dataset is unchanged. ``blinasim view`` draws the
same codes live.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from blinasim.kernels.layout import (
    KIND_BLAST,
    NO_PARTNER,
    PHENO_CD19_NEGATIVE,
    PHENO_MYELOID,
    SITE_OTHER,
    SITE_TARGET,
)

#: The codes of :func:`lattice_codes`, in order (code = index); CF ``flag_meanings``.
LATTICE_MEANINGS = (
    "empty",
    "other_marrow_cell",
    "normal_b_cell",
    "blast_cd19_positive",
    "blast_cd19_negative",
    "blast_lineage_switched",
    "t_cell_naive",
    "t_cell_active",
    "t_cell_exhausted",
    "t_cell_engaged",
)
(
    EMPTY,
    OTHER_MARROW,
    NORMAL_B,
    BLAST_CD19_POSITIVE,
    BLAST_CD19_NEGATIVE,
    BLAST_SWITCHED,
    T_NAIVE,
    T_ACTIVE,
    T_EXHAUSTED,
    T_ENGAGED,
) = range(len(LATTICE_MEANINGS))
#: A T-cell counts as active from this activation (0-1) on, when neither engaged nor exhausted.
ACTIVE_THRESHOLD = 0.5


def lattice_codes(state: Any, exhausted_threshold: float) -> np.ndarray:
    """The coded lattice of a :class:`blinasim.core.state.State`: int8 ``(side, side)``, row = y.

    ``exhausted_threshold`` is ``tcells.exhausted_threshold`` (the census's).
    """
    kind = state.site_kind
    codes = np.zeros(kind.shape[0], dtype=np.int8)
    codes[kind == SITE_OTHER] = OTHER_MARROW
    sites = np.flatnonzero(kind == SITE_TARGET)
    if sites.size:
        tg = state.targets
        slots = state.site_slot[sites]
        blast = tg.kind[slots] == KIND_BLAST
        phenotype = tg.phenotype[slots]
        target_code = np.full(sites.size, NORMAL_B, dtype=np.int8)
        target_code[blast] = BLAST_CD19_POSITIVE
        target_code[blast & ((phenotype == PHENO_CD19_NEGATIVE) | (tg.cd19[slots] <= 0.0))] = BLAST_CD19_NEGATIVE
        target_code[blast & (phenotype == PHENO_MYELOID)] = BLAST_SWITCHED
        codes[sites] = target_code
    tc = state.tcells
    pos = tc.pos[: tc.n]
    marrow = pos >= 0
    if np.any(marrow):
        t_code = np.full(int(np.count_nonzero(marrow)), T_NAIVE, dtype=np.int8)
        t_code[tc.activation[: tc.n][marrow] >= ACTIVE_THRESHOLD] = T_ACTIVE
        t_code[tc.exhaustion[: tc.n][marrow] > exhausted_threshold] = T_EXHAUSTED
        t_code[tc.partner[: tc.n][marrow] != NO_PARTNER] = T_ENGAGED
        np.maximum.at(codes, pos[marrow], t_code)
    return codes.reshape(state.side, state.side)


def t_cells_per_site(state: Any) -> np.ndarray:
    """Marrow T-cells on each site: int16 ``(side, side)``."""
    tc = state.tcells
    pos = tc.pos[: tc.n]
    counts = np.bincount(pos[pos >= 0], minlength=state.n_sites)
    return np.minimum(counts, np.iinfo(np.int16).max).astype(np.int16).reshape(state.side, state.side)


def init_snapshots(model: Any) -> None:
    """Set ``model.snapshot_every_days`` (0 = off) from ``output.snapshot_every_days`` and empty lists."""
    model.snapshot_every_days = float(model.config.output.snapshot_every_days)
    model.snapshot_days: list[float] = []
    model.snapshot_codes: list[np.ndarray] = []
    model.snapshot_t_cells: list[np.ndarray] = []


def maybe_take(model: Any) -> None:
    """In the record phase, after the row is written: keep a snapshot at the baseline record and then at the
    first record at least ``snapshot_every_days`` after the previous snapshot (snapshot times are record times)."""
    every = getattr(model, "snapshot_every_days", 0.0)
    if not every:
        return
    day = float(model.rec_time_days[model.rec_index - 1])
    if model.snapshot_days and day < model.snapshot_days[-1] + every - 1e-9:
        return
    model.snapshot_days.append(day)
    model.snapshot_codes.append(lattice_codes(model.state, model.config.tcells.exhausted_threshold))
    model.snapshot_t_cells.append(t_cells_per_site(model.state))


def snapshot_variables(model: Any) -> tuple[dict, dict]:
    """``(data_vars, coords)`` of the snapshots for the Dataset; both empty when snapshots are off."""
    import xarray as xr

    if not getattr(model, "snapshot_every_days", 0.0):
        return {}, {}
    side = model.state.side
    um = model.config.simulation.site_diameter_um
    dims = ("time_snapshot", "y", "x")
    codes = np.stack(model.snapshot_codes) if model.snapshot_codes else np.zeros((0, side, side), np.int8)
    t_cells = np.stack(model.snapshot_t_cells) if model.snapshot_t_cells else np.zeros((0, side, side), np.int16)
    data_vars = {
        "lattice": xr.Variable(
            dims,
            codes,
            attrs={
                "long_name": "marrow lattice site contents (a T-cell's state over the resident it crawls on)",
                "flag_values": np.arange(len(LATTICE_MEANINGS), dtype=np.int8),
                "flag_meanings": " ".join(LATTICE_MEANINGS),
            },
        ),
        "lattice_t_cells": xr.Variable(
            dims, t_cells, attrs={"units": "1", "long_name": "marrow T-cells on the site (simulated agents)"}
        ),
    }
    coords = {
        "time_snapshot": (
            "time_snapshot",
            np.asarray(model.snapshot_days, dtype=np.float64),
            {"units": "day", "long_name": "time of the lattice snapshot since simulation start"},
        ),
        "y": ("y", (np.arange(side) + 0.5) * um, {"units": "um", "long_name": "lattice site centre, y"}),
        "x": ("x", (np.arange(side) + 0.5) * um, {"units": "um", "long_name": "lattice site centre, x"}),
    }
    return data_vars, coords

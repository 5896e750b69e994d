"""Burden through mechanisms: dexamethasone debulking (the pre-phase's clinical purpose), the
marrow effector-to-target ratio, and what they do to response and CRS."""

from __future__ import annotations

import numpy as np

from blinasim.kernels.glucocorticoid import lymphoblast_apoptosis
from blinasim.kernels.layout import (
    KIND_BLAST,
    KIND_NORMAL_B,
    PHENO_CD19_NEGATIVE,
    PHENO_CD19_POSITIVE,
    PHENO_MYELOID,
    POS_BLOOD,
    POS_DEAD,
    SITE_EMPTY,
    SITE_TARGET,
    TARGET_FIELDS,
    TG_POS,
)
from tests.conftest import run

#: a high-burden patient that meets the label's pre-phase rule (> 50% marrow blasts)
HIGH = {
    "simulation__lattice_size": 48,
    "simulation__days": 1.0,
    "simulation__record_every_hours": 1.0,
    "patient__marrow_blast_fraction": 0.8,
    "treatment__regimen": "none",
}


def marrow_blasts_at_start(ds) -> float:
    """Marrow blasts at the first record after the first slow step (the baseline record is before it)."""
    return float(ds.blasts.sel(compartment="marrow").values[1])


def test_pre_phase_dexamethasone_debulks_before_the_first_infusion():
    """The 5-day pre-phase acts on the baseline blasts: fewer at the first record than without it,
    by about the integrated hazard (0.2/day x ~0.9 occupancy x 5 days: ~60% fewer)."""
    without = run(**HIGH, treatment__dexamethasone_prephase="never", treatment__dexamethasone_premedication=False)
    with_pre = run(**HIGH, treatment__dexamethasone_prephase="always", treatment__dexamethasone_premedication=False)
    ratio = marrow_blasts_at_start(with_pre) / marrow_blasts_at_start(without)
    assert 0.25 < ratio < 0.6
    # The drug does not kill without the mechanism.
    off = run(
        **HIGH,
        treatment__dexamethasone_prephase="always",
        treatment__dexamethasone_premedication=False,
        dexamethasone__blast_kill_per_day_max=0.0,
    )
    assert marrow_blasts_at_start(off) == marrow_blasts_at_start(without)


def test_glucocorticoids_kill_only_free_lymphoid_blasts():
    """Lineage-switched (myeloid) blasts have left the lymphoid programme, a blast in a synapse is
    left to it, and normal B cells are not counted here: at certain death only free lymphoid blasts go."""
    kind = np.array([KIND_BLAST, KIND_BLAST, KIND_BLAST, KIND_BLAST, KIND_NORMAL_B], dtype=np.int8)
    pheno = np.array([PHENO_CD19_POSITIVE, PHENO_CD19_NEGATIVE, PHENO_MYELOID, PHENO_CD19_POSITIVE, 0], dtype=np.int8)
    engaged = np.array([0, 0, 0, 1, 0], dtype=np.uint8)
    pos = np.array([0, 1, 2, 3, POS_BLOOD], dtype=np.int32)
    n = len(kind)
    targets = tuple(
        {"pos": pos, "kind": kind, "phenotype": pheno, "engaged": engaged}.get(name, np.zeros(n, dtype=dt))
        for name, dt in TARGET_FIELDS.items()
    )
    lattice = (np.full(4, SITE_TARGET, dtype=np.int8), np.arange(4, dtype=np.int32))
    killed = lymphoblast_apoptosis(7, 0, n, targets, lattice, 1.0)
    assert killed == 2
    assert list(targets[TG_POS]) == [POS_DEAD, POS_DEAD, 2, 3, POS_BLOOD]
    assert list(lattice[0]) == [SITE_EMPTY, SITE_EMPTY, SITE_TARGET, SITE_TARGET]

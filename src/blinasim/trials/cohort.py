"""Virtual patients: cohorts whose baseline attributes follow a trial's population.

A cohort specification lists, for each patient attribute (a dotted config
key), a distribution chosen to match the trial's published baseline
characteristics. Drawing is reproducible: the same specification, size and
seed give the same patients (numpy ``SeedSequence``), and every patient is a
set of config overrides that the experiment machinery validates like any
other sample.

Ph status (``patient.ph_positive``) is a recorded characteristic without a
mechanism in the model: MT103-211 enrolled Ph-negative patients only, BLAST a
few Ph-positive ones, and the report stratifies by it. Age is not drawn (the
model has no age effects); the limits are listed in docs/validation.md.

Sources for the distributions (approx. where marked; the keys in square brackets
are on the references page, docs/references.md):

* MT103-211 [Topp2015]: 189 adults with Ph-negative
  relapsed/refractory B-ALL, >= 10% marrow blasts at entry, 70% with >= 50%
  blasts; step-up dosing 9 then 28 ug/day.
* BLAST [Gokbuget2018]: 116 adults in hematologic CR with MRD
  >= 1e-3; MRD at entry mostly between 1e-3 and 1e-1; 15 ug/m2/day (28 ug/day).
  Drawn by MRD as the trial measured it (``patient.marrow_mrd``: leukemic cells
  per marrow mononuclear cell), not by the blast share of nucleated cells,
  which is 2-2.5x lower at this burden.
* ``mrd_1e4``: the BLAST population entering at MRD >= 1e-4.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Attribute:
    """One drawn attribute: a distribution over a config key, optionally truncated.

    ``kind`` is "lognormal" (``median``, ``log_sd``), "normal" (``mean``, ``sd``),
    "beta" (``a``, ``b``) or "bernoulli" (``p``); ``low``/``high`` truncate by
    redrawing (rejection), so the shape inside the bounds is kept.
    """

    key: str
    kind: str
    params: dict[str, float]
    low: float = -math.inf
    high: float = math.inf
    source: str = ""

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        out = np.empty(n)
        filled = 0
        while filled < n:
            m = max(2 * (n - filled), 16)
            p = self.params
            if self.kind == "lognormal":
                x = p["median"] * np.exp(p["log_sd"] * rng.standard_normal(m))
            elif self.kind == "normal":
                x = p["mean"] + p["sd"] * rng.standard_normal(m)
            elif self.kind == "beta":
                x = rng.beta(p["a"], p["b"], m)
            elif self.kind == "bernoulli":
                return rng.random(n) < p["p"]
            else:
                raise ValueError(f"unknown distribution kind {self.kind!r} for {self.key}")
            x = x[(x >= self.low) & (x <= self.high)]
            take = min(len(x), n - filled)
            out[filled : filled + take] = x[:take]
            filled += take
        return out


@dataclass(frozen=True)
class CohortSpec:
    """A trial population: its attributes and the fixed settings of its patients."""

    name: str
    description: str
    attributes: tuple[Attribute, ...]
    fixed: dict[str, Any] = field(default_factory=dict)


#: The T-cell mix, drawn alike in both trial populations (BLAST with its own source note).
CD4_FRACTION = Attribute(
    "patient.cd4_fraction",
    "beta",
    {"a": 5.5, "b": 4.5},
    0.1,
    0.9,
    "approx.: CD4 share of T-cells ~0.6 in healthy adults, lower and more variable after salvage therapy "
    "(Beta(5.5, 4.5): mean 0.55, sd 0.15)",
)
TREG_FRACTION_OF_CD4 = Attribute(
    "patient.treg_fraction_of_cd4",
    "lognormal",
    {"median": 0.06, "log_sd": 0.8},
    0.01,
    0.7,
    "[Duell2017]: blood Tregs 1.8-8.3% of CD4 in 22 responders and 3.4-65.9% in 20 non-responders, 14 of "
    "42 patients above the 8.5% cutoff; a lognormal with median 6% and log-sd 0.8 puts 33% above it",
)
#: Constitutive PD-L1 of the blasts (before IFN-gamma induces it), drawn alike in both trial populations.
PDL1_BASELINE = Attribute(
    "disease.pdl1_baseline",
    "beta",
    {"a": 1.0, "b": 19.0},
    0.0,
    1.0,
    "approx.: PD-L1 is low or absent on most untreated B-ALL blasts and higher in a few patients, and IFN-gamma "
    "induces it under blinatumomab ([Feucht2016]; [Kohnke2015]); Beta(1, 19): mean 0.05 (the default), median 0.035, "
    "5% of patients above 0.15",
)

#: The myeloid IL-6 response, drawn alike in both trial populations.
IL6_RESPONSE = Attribute(
    "patient.il6_response",
    "lognormal",
    {"median": 1.0, "log_sd": 1.2},
    0.01,
    100.0,
    "approx.: IL-6 made by stimulated blood cells varies about 100-fold between people (genetic and "
    "non-genetic factors; [Li2016], [TerHorst2016]: log-sd 1.2 puts 95% of people within a 100-fold range), "
    "and monocyte counts after salvage vary too",
)

#: Occult disease outside the marrow (extramedullary / CNS sanctuary), drawn alike in both trial populations.
SANCTUARY = Attribute(
    "patient.sanctuary_fraction",
    "lognormal",
    {"median": 1e-5, "log_sd": 2.3},
    0.0,
    0.1,
    "approx.: extramedullary and CNS disease is occult in most patients and overt in a minority of R/R B-ALL; "
    "blinatumomab does worse there ([Sigmund2020]; [Liu2023]); log-sd 2.3 spreads 95% of patients over 4 orders "
    "of magnitude; the median is calibrated (docs/validation.md, survival)",
)

#: Marrow T-cells as a share of the marrow the leukemia has not replaced: infiltration displaces them,
#: so the effector:target ratio falls with burden (the R/R populations).
MARROW_T_SHARE_OF_NORMAL = Attribute(
    "patient.marrow_t_cell_share_of_normal",
    "lognormal",
    {"median": 0.08, "log_sd": 0.7},
    0.005,
    0.5,
    "approx.: T-cells are ~5-10% of a normal marrow's nucleated cells (marrow lymphocytes ~10-15%, most T), "
    "fewer and more variable after salvage (lymphopenia); the marrow effector:target ratio varies widely "
    "between R/R patients and responders show stronger T-cell expansion ([Zugmaier2017]); the median is "
    "calibrated (docs/validation.md, burden)",
)

MT103_211 = CohortSpec(
    name="mt103_211",
    description="Ph-negative R/R B-ALL adults (Topp 2015), step-up 9 -> 28 ug/day, 2 cycles",
    attributes=(
        Attribute(
            "patient.marrow_blast_fraction",
            "beta",
            {"a": 2.5, "b": 1.5},
            0.10,
            0.97,
            "[Topp2015]: >= 10% blasts at entry, 70% of patients >= 50% (Beta(2.5, 1.5) on [0.1, 0.97] gives 71%)",
        ),
        Attribute(
            "patient.peripheral_blasts_per_ul",
            "lognormal",
            {"median": 200.0, "log_sd": 2.0},
            0.0,
            1e5,
            "approx.: peripheral involvement varies over orders of magnitude in R/R B-ALL",
        ),
        Attribute(
            "patient.t_cells_per_ul",
            "lognormal",
            {"median": 500.0, "log_sd": 0.6},
            50.0,
            5000.0,
            "approx.: R/R patients are often lymphopenic (normal adult CD3 550-2271/uL)",
        ),
        MARROW_T_SHARE_OF_NORMAL,
        CD4_FRACTION,
        TREG_FRACTION_OF_CD4,
        IL6_RESPONSE,
        SANCTUARY,
        Attribute(
            "patient.b_cells_per_ul",
            "lognormal",
            {"median": 20.0, "log_sd": 1.0},
            0.0,
            1000.0,
            "approx.: normal B cells are suppressed after prior therapy",
        ),
        Attribute(
            "disease.blast_cd19_median",
            "lognormal",
            {"median": 2.2e4, "log_sd": 0.3},
            3e3,
            2e5,
            "approx.: between-patient spread of blast CD19 density around 1e4-5e4",
        ),
        PDL1_BASELINE,
        Attribute(
            "patient.kmt2a_rearranged", "bernoulli", {"p": 0.05}, source="approx.: KMT2A-r in ~5% of adult B-ALL"
        ),
        Attribute(
            "patient.hematopoietic_reserve",
            "lognormal",
            {"median": 0.5, "log_sd": 0.7},
            0.1,
            2.0,
            "approx.: heavily pretreated marrows recover counts slowly ([Topp2015]: 34% after alloHSCT, most after "
            "salvage therapy; a quarter of the responses were CRh, with partial count recovery)",
        ),
        Attribute(
            "patient.weight_kg",
            "normal",
            {"mean": 75.0, "sd": 15.0},
            45.0,
            150.0,
            "approx.: adult body weight (all >= 45 kg: flat dosing)",
        ),
        Attribute("patient.height_cm", "normal", {"mean": 172.0, "sd": 10.0}, 150.0, 200.0, "approx.: adult height"),
    ),
    fixed={
        "treatment.regimen": "rr_step_up",
        "treatment.cycles": 2,
        "simulation.days": 84.0,
        "patient.ph_positive": False,  # Topp 2015: Ph-negative patients only
    },
)

#: MRD at entry as the BLAST trial measured it (leukemic cells / marrow mononuclear cells, Ig/TCR PCR).
ENTRY_MRD_BLAST = Attribute(
    "patient.marrow_mrd",
    "lognormal",
    {"median": 7.1e-3, "log_sd": 1.84},
    1e-3,
    0.11,
    "[Gokbuget2018]: MRD >= 1e-3 at entry, about half below 1e-2, most of the rest below 1e-1, under a "
    "tenth above; approx.: log10 MRD normal (mean -2.15, sd 0.8) truncated at 1e-3 puts 50% / 41% / 9% in "
    "those decades; the top is cut at 0.11, about the MRD of 5% marrow blasts (MRD counts mononuclear "
    "cells, [Bruggemann2010]), since the patients were in hematologic CR",
)

BLAST = CohortSpec(
    name="blast",
    description="adults in CR with MRD >= 1e-3 (Gokbuget 2018), 15 ug/m2/day (28 ug/day), 1 cycle",
    attributes=(
        ENTRY_MRD_BLAST,
        Attribute(
            "patient.t_cells_per_ul",
            "lognormal",
            {"median": 1000.0, "log_sd": 0.5},
            100.0,
            5000.0,
            "approx.: T-cell counts near normal in CR (550-2271/uL)",
        ),
        Attribute(
            "patient.marrow_t_cell_fraction",
            "lognormal",
            {"median": 0.06, "log_sd": 0.5},
            0.005,
            0.3,
            "approx.: near-normal marrow T-cell share in CR (marrow lymphocytes ~10-15%, most T)",
        ),
        replace(CD4_FRACTION, source="approx.: as MT103-211"),
        replace(
            TREG_FRACTION_OF_CD4,
            source="approx.: as MT103-211 ([Duell2017] measured R/R patients; no MRD-cohort data)",
        ),
        replace(IL6_RESPONSE, source="approx.: as MT103-211"),
        replace(SANCTUARY, source="approx.: as MT103-211"),
        Attribute(
            "patient.b_cells_per_ul",
            "lognormal",
            {"median": 50.0, "log_sd": 1.0},
            0.0,
            1000.0,
            "approx.: normal B cells recovering after chemotherapy",
        ),
        Attribute(
            "disease.blast_cd19_median",
            "lognormal",
            {"median": 2.2e4, "log_sd": 0.3},
            3e3,
            2e5,
            "approx.: as MT103-211",
        ),
        replace(PDL1_BASELINE, source="approx.: as MT103-211"),
        Attribute(
            "patient.kmt2a_rearranged", "bernoulli", {"p": 0.05}, source="approx.: KMT2A-r in ~5% of adult B-ALL"
        ),
        Attribute(
            "patient.ph_positive",
            "bernoulli",
            {"p": 0.05},
            source="[Gokbuget2018]: 110 of the 116 patients were Ph-negative in hematologic remission; "
            "a few Ph-positive patients were enrolled",
        ),
        Attribute("patient.weight_kg", "normal", {"mean": 75.0, "sd": 15.0}, 45.0, 150.0, "approx.: adults"),
        Attribute("patient.height_cm", "normal", {"mean": 172.0, "sd": 10.0}, 150.0, 200.0, "approx.: adults"),
    ),
    fixed={
        "treatment.regimen": "mrd",
        "treatment.cycles": 1,
        "simulation.days": 42.0,
        "patient.peripheral_blasts_per_ul": 0.0,
        "patient.marrow_cellularity": 0.5,
    },
)

#: BLAST's patients at the lower MRD threshold of other MRD trials (>= 1e-4): the BLAST population with its
#: entry MRD shape shifted down one decade.
MRD_1E4 = replace(
    BLAST,
    name="mrd_1e4",
    description="adults in CR with MRD >= 1e-4 (BLAST-like, lower threshold), 15 ug/m2/day, 1 cycle",
    attributes=tuple(
        replace(
            a,
            params={"median": 7.1e-4, "log_sd": 1.84},
            low=1e-4,
            source="approx.: BLAST's entry MRD ([Gokbuget2018]) one decade lower, truncated at the 1e-4 "
            "threshold of MRD trials that enrol below 1e-3 (e.g. [Bruggemann2010] standard sensitivity)",
        )
        if a.key == "patient.marrow_mrd"
        else a
        for a in BLAST.attributes
    ),
)

COHORTS: dict[str, CohortSpec] = {spec.name: spec for spec in (MT103_211, BLAST, MRD_1E4)}


def draw_cohort(spec: CohortSpec | str, n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` virtual patients as dotted-key overrides (fixed settings included)."""
    if isinstance(spec, str):
        if spec not in COHORTS:
            raise ValueError(f"unknown cohort {spec!r}; known: {', '.join(COHORTS)}")
        spec = COHORTS[spec]
    if n < 1:
        raise ValueError(f"cohort size must be >= 1, not {n}")
    patients: list[dict[str, Any]] = [dict(spec.fixed) for _ in range(n)]
    for attr in spec.attributes:
        # One stream per attribute, keyed by its name: adding or reordering attributes
        # never shifts the draws of the others.
        rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(0xC0, zlib.crc32(attr.key.encode()))))
        values = attr.draw(rng, n)
        for patient, value in zip(patients, values, strict=True):
            patient[attr.key] = bool(value) if attr.kind == "bernoulli" else float(value)
    return patients

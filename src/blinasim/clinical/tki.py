"""Tyrosine kinase inhibitors of Ph+ B-ALL: oral PK, BCR::ABL1 inhibition of the blasts and
the off-target suppression of T-cells (docs/model.md, "Ph+ disease and tyrosine kinase inhibitors").

**PK.** One oral dose a day (``treatment.tki``, from ``treatment.tki_start_day``). Each dose
adds a decaying exponential (half-life ``tki.<drug>_half_life_h``) whose size makes the
steady-state daily mean equal the labelled AUC over 24 h (``tki.<drug>_auc_per_mg`` x
dose): absorption is fast next to elimination (dasatinib peaks at 0.5-1.5 h), so the level
is the exact sum of decaying doses, with the peak-to-trough swing the half-life implies
(dasatinib ~60-fold over a day, ponatinib 2-fold). The pharmacologically active level is
the unbound one (``tki.<drug>_unbound_fraction``).

**Exposure-response.** An Emax model, ``I = C_u^h / (C_u^h + IC50_u^h)``, on the unbound
level against the *unbound* cellular IC50. The IC50s were measured on Ba/F3 cells in medium
with 10% serum (``tki.assay_serum_fraction``), where the drug binds less than in plasma;
the unbound IC50 is the nominal one times the free fraction in the assay,
``1 / (1 + (1/fu - 1) x serum share)`` (binding proportional to the protein present).

* BCR::ABL1 (Ph+ blasts only, ``patient.ph_positive``): the IC50 of the patient's ABL1
  (native or ``patient.abl1_mutation`` = "t315i"), times ``tki.prior_failure_ic50_fold``
  after failure of a second-generation TKI (``patient.prior_tki_failure``). The inhibition
  slows division (``tki.max_division_block``) and adds apoptosis
  (``tki.max_apoptosis_per_day``) of every Ph+ blast phenotype (a lineage-switched clone
  keeps its BCR::ABL1).
* T-cells (any patient on the drug): dasatinib inhibits LCK and with it TCR signalling,
  reversibly; the share ``tki.max_tcell_suppression x I_T`` of killing, activated division
  and cytokine release is lost while the drug is present (IC50 ``tki.<drug>_tcell_ic50_nm``).

No random draws: the lattice model and the Mesa reference read the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from blinasim.params.schema import Config

#: hours between doses (once daily)
DOSE_INTERVAL_H = 24.0


@dataclass(frozen=True)
class TkiDrug:
    """One TKI's numbers, as configured (``tki.<drug>_*``)."""

    name: str
    dose_mg: float
    auc_per_mg: float
    half_life_h: float
    unbound_fraction: float
    molecular_weight: float
    ic50_nm: float
    ic50_t315i_nm: float
    tcell_ic50_nm: float


def tki_drug(config: Config) -> TkiDrug | None:
    """The configured TKI (``treatment.tki``), or None."""
    name = config.treatment.tki
    if name == "none":
        return None
    t = config.tki
    return TkiDrug(
        name,
        *(
            getattr(t, f"{name}_{field}")
            for field in (
                "dose_mg",
                "auc_per_mg",
                "half_life_h",
                "unbound_fraction",
                "molecular_weight",
                "ic50_nm",
                "ic50_t315i_nm",
                "tcell_ic50_nm",
            )
        ),
    )


def assay_free_fraction(unbound_fraction: float, serum_fraction: float) -> float:
    """Free fraction of a drug in culture medium with ``serum_fraction`` serum, given its plasma free fraction
    (bound/free proportional to the protein present)."""
    return 1.0 / (1.0 + (1.0 / unbound_fraction - 1.0) * serum_fraction)


def emax(c: float, ic50: float, hill: float) -> float:
    """Fractional effect ``c^h / (c^h + ic50^h)`` (0 at ``c`` = 0)."""
    if c <= 0.0:
        return 0.0
    x = (c / ic50) ** hill
    return x / (1.0 + x)


class TkiExposure:
    """One patient's TKI: unbound level, BCR::ABL1 inhibition and T-cell suppression over time."""

    def __init__(self, config: Config):
        self.cfg = config
        self.drug = tki_drug(config)
        if self.drug is None:
            return
        d, t, p = self.drug, config.tki, config.patient
        self.k_per_h = math.log(2.0) / d.half_life_h
        # Steady-state mean unbound level (nM): AUC over a day / 24 h, ng/mL -> nM, x free fraction.
        mean_total_nm = d.dose_mg * d.auc_per_mg / DOSE_INTERVAL_H * 1000.0 / d.molecular_weight
        self.mean_unbound_nm = mean_total_nm * d.unbound_fraction
        # Each dose adds A exp(-k t); at steady state the daily mean is A / (k tau).
        self.dose_amplitude_nm = self.mean_unbound_nm * self.k_per_h * DOSE_INTERVAL_H
        free_in_assay = assay_free_fraction(d.unbound_fraction, t.assay_serum_fraction)
        ic50 = d.ic50_t315i_nm if p.abl1_mutation == "t315i" else d.ic50_nm
        if p.prior_tki_failure:
            ic50 *= t.prior_failure_ic50_fold
        self.abl1_ic50_unbound_nm = ic50 * free_in_assay
        self.tcell_ic50_unbound_nm = d.tcell_ic50_nm * free_in_assay

    @property
    def active(self) -> bool:
        """Whether the patient takes a TKI."""
        return self.drug is not None

    def unbound_nm(self, day: float) -> float:
        """Unbound plasma level (nM) at ``day``: the exact sum of the daily doses taken so far."""
        if self.drug is None:
            return 0.0
        hours = (day - self.cfg.treatment.tki_start_day) * 24.0
        if hours < 0.0:
            return 0.0
        doses = math.floor(hours / DOSE_INTERVAL_H + 1e-9) + 1
        since_last = hours - (doses - 1) * DOSE_INTERVAL_H
        decay = math.exp(-self.k_per_h * DOSE_INTERVAL_H)
        # sum_{i<doses} exp(-k (since_last + i tau)) as a geometric series
        return self.dose_amplitude_nm * math.exp(-self.k_per_h * since_last) * (1.0 - decay**doses) / (1.0 - decay)

    def abl1_inhibition(self, day: float) -> float:
        """Fractional BCR::ABL1 inhibition in the blasts at ``day`` (0 for Ph-negative disease or no TKI)."""
        if self.drug is None or not self.cfg.patient.ph_positive:
            return 0.0
        return emax(self.unbound_nm(day), self.abl1_ic50_unbound_nm, self.cfg.tki.hill)

    def tcell_suppression(self, day: float) -> float:
        """Share of T-cell killing, activated division and cytokine release lost at ``day`` (off-target LCK)."""
        if self.drug is None:
            return 0.0
        c = self.unbound_nm(day)
        return self.cfg.tki.max_tcell_suppression * emax(c, self.tcell_ic50_unbound_nm, self.cfg.tki.hill)

    def steady_state_mean(self, effect: str, points: int = 96) -> float:
        """Mean over one steady-state dosing interval of ``effect`` ("abl1" or "tcell"), midpoint rule."""
        if self.drug is None:
            return 0.0
        fn = self.abl1_inhibition if effect == "abl1" else self.tcell_suppression
        start = self.cfg.treatment.tki_start_day + 60.0  # steady state (>= 60 days of dosing)
        return sum(fn(start + (i + 0.5) / points) for i in range(points)) / points


def ph_blast_rates(config: Config, birth: float, death: float, inhibition: float) -> tuple[float, float]:
    """Division and death rates (1/day) of Ph+ blasts at BCR::ABL1 inhibition ``inhibition``:
    division slowed by ``tki.max_division_block x I``, death raised by ``tki.max_apoptosis_per_day x I``.
    Unchanged (the same floats) at ``inhibition`` = 0."""
    if inhibition <= 0.0:
        return birth, death
    t = config.tki
    return birth * (1.0 - t.max_division_block * inhibition), death + t.max_apoptosis_per_day * inhibition

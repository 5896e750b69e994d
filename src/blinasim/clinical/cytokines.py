"""Phase 8: the cytokine surge, its grading, and the drugs that act on it.

Serum cytokines are compartment state fed by the agents (docs/cytokines.md):

* **IFN-gamma** is released by T-cells in a synapse. Release per engaged
  T-cell is ``q * competence * (1 - dexamethasone suppression)``; the number
  of engaged T-cells is scaled from agents to the patient, so the surge grows
  with disease burden (more targets, more synapses).
* **IL-6** is made by myeloid cells (monocytes, macrophages) activated by the
  T-cell cytokines (Teachey 2013; Giavridis 2018; Norelli 2018): production
  follows a lagged IFN-gamma signal (time constant ``myeloid_response_h``),
  which puts the IL-6 peak hours after a start or a step-up. Its gain is
  ``il6_per_ifng`` times the patient's own ``patient.il6_response``: myeloid
  cytokine responses differ widely between people, and this spread, not
  burden alone, decides which patients reach severe CRS.
* **Pyroptotic targets** feed the same myeloid activation: a target killed by
  perforin and granzyme B dies by gasdermin-E pyroptosis and releases
  damage-associated molecules (HMGB1, ATP) that activate macrophages to make
  IL-6; in patients CRS severity tracked leukemic burden and target-cell
  gasdermin E ([Liu2020]). The DAMP pool is fed by the targets killed,
  ``damp_release_pg_per_cell`` each (in IFN-gamma equivalents of myeloid
  activation), and cleared with ``damp_half_life_h``. Unlike IFN-gamma it does
  not desensitise, so sustained killing of a large leukemia keeps driving
  IL-6: the surge scales with burden.
* **Competence** (0-1) is the T-cells' capacity to make cytokines. Repeated
  engagement desensitises it (cytokine production is lost before killing,
  Wherry 2011), with a lag of hours, and it recovers over weeks, so the first exposure dominates and
  later cycles do not repeat the surge.
* **Dexamethasone** suppresses release by ``Emax * D / (D + ED50)``, where
  ``D`` is the sum of doses decaying with the effect half-life and the ED50 is
  ``dexamethasone.cytokine_ed50_mg`` (the debulking has its own); it does not
  reduce killing (Brandl 2007). ``dexamethasone.suppression_sites`` says where:
  on each cell type (the default: the T-cells' IFN-gamma release, and again
  the macrophages' IL-6 production, so the IFN-gamma path to IL-6 carries it
  twice), or once on each path to IL-6 (the T-cells' release, and the
  macrophages' response to DAMPs), reading the PBMC-culture measurement as
  the whole pathway's.
* **Tocilizumab** blocks the IL-6 receptor: the CRS driver is the effective
  IL-6 signal ``IL6 * (1 - blockade)``; blockade also slows receptor-mediated
  IL-6 clearance, so serum IL-6 rises after a dose (Nishimoto 2008).

Every linear piece is integrated exactly over a tick with its input held
constant. Grades: CRS from the effective IL-6 signal lagged by
``toxicity.crs_symptom_lag_h`` (fever and hypotension follow the cytokines
and resolve over hours, also after tocilizumab), neurotoxicity from the
serum IL-6 + IFN-gamma exposure averaged over ``neuro_integration_h`` (not
reduced by tocilizumab, which does not treat neurotoxicity), each against
four ascending thresholds (``toxicity.*``).

The neurotoxicity exposure counts the cytokines in proportion to a **CNS
priming** ``p`` (0-1): under infusion blinatumomab makes T-cells adhere to the
vascular endothelium and cross into the CNS (Klinger 2020), so the brain is
exposed after days of infusion, not at the first-dose surge that brings CRS
(median onset of neurological events about day 9, after the step-up; Stein
2019). ``p`` relaxes towards 1 while the infusion runs and towards 0 while it
is off, through a chain of :data:`PRIMING_TRANSITS` transit compartments with
the mean transit time ``neuro_priming_days`` (0: primed from the start).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from blinasim.params.schema import Config, CytokineConfig

LN2 = math.log(2.0)

#: Transit compartments of the CNS priming: a delay with a gamma-shaped onset (the transit
#: device of Friberg 2002), so the CNS is barely primed at the first-dose surge and mostly
#: primed after the step-up; ``cytokines.neuro_priming_days`` is its mean transit time.
PRIMING_TRANSITS = 3


def _relax(x: float, target: float, dt: float, tau: float) -> float:
    """Exact step of dx/dt = (target - x) / tau over dt with a constant target."""
    return target + (x - target) * math.exp(-dt / tau)


def competence_step(
    cfg: CytokineConfig, competence: float, lagged_share: float, share: float, dt_hours: float
) -> tuple[float, float]:
    """One tick of T-cell cytokine competence; returns (competence, lagged engaged share).

    ``dc/dt = -k_des s c + k_rec (1 - c)``, exact for constant ``s``, where ``s`` is the engaged
    share of the T-cells lagged by the desensitisation lag: desensitisation takes hours to set
    in, so the first surge scales with burden.
    """
    lagged_share = _relax(lagged_share, share, dt_hours, cfg.desensitisation_lag_h)
    k_des = cfg.desensitisation_per_engaged_day * lagged_share
    k_rec = 1.0 / cfg.competence_recovery_days
    k = k_des + k_rec
    c_star = k_rec / k
    return c_star + (competence - c_star) * math.exp(-k * (dt_hours / 24.0)), lagged_share


def grade(value: float, thresholds: list[float]) -> int:
    """Number of ascending thresholds reached (0-4)."""
    g = 0
    for t in thresholds:
        if value >= t:
            g += 1
    return g


@dataclass
class DrugEffects:
    """Dexamethasone amount in effect and tocilizumab receptor blockade."""

    dex_doses: list[tuple[float, float]]  # (time in hours, mg)
    toci_doses: list[float]  # times in hours

    def dex_amount_mg(self, t_hours: float, half_life_h: float) -> float:
        k = LN2 / half_life_h
        return sum(mg * math.exp(-k * (t_hours - td)) for td, mg in self.dex_doses if td <= t_hours)

    def toci_blockade(self, t_hours: float, half_life_days: float) -> float:
        k = LN2 / (half_life_days * 24.0)
        occupancy = 0.0
        for td in self.toci_doses:
            if td <= t_hours:
                occupancy = max(occupancy, math.exp(-k * (t_hours - td)))
        return occupancy


class CytokineModel:
    """Serum IFN-gamma and IL-6 of one patient, with CRS and neurotoxicity grades."""

    def __init__(self, config: Config):
        self.cfg = config.cytokines
        self.il6_response = config.patient.il6_response
        self.tox = config.toxicity
        self.dex_cfg = config.dexamethasone
        self.suppress_each_path = config.dexamethasone.suppression_sites == "each_path"
        self.toci_cfg = config.tocilizumab
        self.ifng = 0.0  # pg/mL
        self.il6 = 0.0  # pg/mL
        self.lagged_ifng = 0.0  # pg/mL, the myeloid activation signal (IFN-gamma + DAMPs, lagged)
        self.damp = 0.0  # pg/mL IFN-gamma equivalents, from pyroptotic targets
        self.competence = 1.0
        self.lagged_engaged_share = 0.0
        self.neuro_exposure = 0.0  # pg/mL, time-averaged IL-6 + IFN-gamma reaching a primed CNS
        primed = 1.0 if self.cfg.neuro_priming_days == 0.0 else 0.0
        self.priming_transit = [primed] * PRIMING_TRANSITS  # the priming's transit chain; the last is ``p``
        self.crs_signal = 0.0  # pg/mL, effective IL-6 lagged by the symptom lag
        self.dex_suppression = 0.0
        self.toci_blockade = 0.0
        self.crs_grade = 0
        self.neuro_grade = 0
        self.effects = DrugEffects([], [])

    def step(
        self,
        t_hours: float,
        dt_hours: float,
        engaged_cells: float,
        engaged_share: float,
        killed_cells: float = 0.0,
        infusing: bool = True,
        lymphoid_cells: float = 0.0,
    ) -> None:
        """Advance one tick ending at ``t_hours``.

        Parameters
        ----------
        engaged_cells
            T-cells in a synapse, scaled to the patient (cells).
        engaged_share
            Engaged T-cells / all T-cells (drives desensitisation).
        killed_cells
            Targets lysed in this tick, scaled to the patient (cells): the pyroptotic DAMP source.
        infusing
            Whether blinatumomab is being infused (the CNS priming rises while it is).
        lymphoid_cells
            Engaged T-cells of the lymphoid tissue times their own competence (cells;
            :class:`blinasim.clinical.lymphoid.LymphoidTissue`): their IFN-gamma joins the pool.
        """
        c, dex = self.cfg, self.dex_cfg
        amount = self.effects.dex_amount_mg(t_hours, dex.effect_half_life_h)
        self.dex_suppression = dex.max_suppression * amount / (amount + dex.cytokine_ed50_mg)
        self.toci_blockade = self.effects.toci_blockade(t_hours, self.toci_cfg.blockade_half_life_days)
        release = 1.0 - self.dex_suppression

        self.competence, self.lagged_engaged_share = competence_step(
            c, self.competence, self.lagged_engaged_share, engaged_share, dt_hours
        )

        volume_ml = c.distribution_volume_l * 1000.0
        k_ifng = LN2 / c.ifng_half_life_h
        production = c.ifng_release_pg_per_cell_h * engaged_cells * self.competence * release / volume_ml
        if lymphoid_cells > 0.0:
            production += c.ifng_release_pg_per_cell_h * lymphoid_cells * release / volume_ml
        self.ifng = _relax(self.ifng, production / k_ifng, dt_hours, 1.0 / k_ifng)
        if killed_cells > 0.0 or self.damp > 0.0:
            k_damp = LN2 / c.damp_half_life_h
            damp_production = c.damp_release_pg_per_cell * killed_cells / dt_hours / volume_ml
            self.damp = _relax(self.damp, damp_production / k_damp, dt_hours, 1.0 / k_damp)
        k_il6 = LN2 / c.il6_half_life_h
        k_il6_eff = k_il6 * (1.0 - self.toci_cfg.receptor_clearance_share * self.toci_blockade)
        # IFN-gamma already carries the suppression. Once on each path to IL-6, the macrophages'
        # response to DAMPs carries it too; on each cell type, their IL-6 production carries it again.
        # (A factor of 1.0 is exact, so either setting keeps its own arithmetic bit for bit.)
        damp_release, myeloid_release = (release, 1.0) if self.suppress_each_path else (1.0, release)
        self.lagged_ifng = _relax(
            self.lagged_ifng, self.ifng + self.damp * damp_release, dt_hours, c.myeloid_response_h
        )
        il6_production = c.il6_per_ifng * self.il6_response * k_il6 * self.lagged_ifng * myeloid_release
        self.il6 = _relax(self.il6, il6_production / k_il6_eff, dt_hours, 1.0 / k_il6_eff)

        if c.neuro_priming_days > 0.0:
            tau = c.neuro_priming_days * 24.0 / PRIMING_TRANSITS
            inflow = 1.0 if infusing else 0.0
            chain = self.priming_transit
            for i in range(PRIMING_TRANSITS):
                # Each compartment relaxes towards the previous one's value over the tick (the
                # previous one taken at the end of the tick: first-order accurate for the chain).
                chain[i] = _relax(chain[i], inflow, dt_hours, tau)
                inflow = chain[i]
        self.neuro_exposure = _relax(
            self.neuro_exposure, (self.il6 + self.ifng) * self.neuro_priming, dt_hours, c.neuro_integration_h
        )
        self.crs_signal = _relax(self.crs_signal, self.effective_il6, dt_hours, self.tox.crs_symptom_lag_h)
        self.crs_grade = grade(self.crs_signal, self.tox.crs_il6_thresholds_pg_per_ml)
        self.neuro_grade = grade(self.neuro_exposure, self.tox.neuro_thresholds_pg_per_ml)

    @property
    def effective_il6(self) -> float:
        """IL-6 signalling left after receptor blockade: the CRS driver."""
        return self.il6 * (1.0 - self.toci_blockade)

    @property
    def neuro_priming(self) -> float:
        """The CNS priming ``p`` (0-1): the last compartment of the priming's transit chain."""
        return self.priming_transit[-1]

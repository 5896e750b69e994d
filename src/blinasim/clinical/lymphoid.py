"""Spleen and lymph nodes: where most of the body's T-cells live, with the extramedullary leukemia.

The lattice is marrow and blood only, but a patient's T-cells are mostly in the lymphoid
tissues: spleen and lymph nodes together hold about 20 times the T-cells of the blood
([Westermann1992], [GanusovDeBoer2007]). In a patient with a large leukemia, leukemic blasts
also fill the spleen, liver and nodes, and blinatumomab bridges those T-cells to them. This
compartment is that tissue, well mixed, at the scale of the patient (cells, not agents):

* **T-cells** ``T`` = ``lymphoid.t_cells_per_blood_t_cell`` x the patient's blood T-cells at
  entry (``patient.t_cells_per_ul`` x blood volume): a lymphopenic patient's tissues are
  lymphopenic too. They are not displaced by the marrow's infiltration, so they are the
  effectors whose engagement grows with burden.
* **Blasts** ``B`` start at ``lymphoid.blasts_per_marrow_blast`` x the marrow's leukemic
  cells at entry (after a pre-phase's dexamethasone, as in the marrow). Apart from killing
  they follow the leukemia's untreated kinetics (``disease.blast_birth_rate_per_day`` -
  ``disease.blast_death_rate_per_day``) and dexamethasone's lymphoblast death
  (:func:`blinasim.core.processes.glucocorticoid.hazard_per_day`). Below one cell the tissue
  is clear.
* **Other cells** ``O`` = ``lymphoid.other_cells_per_t_cell`` x ``T``: the tissue's other
  nucleated cells (normal B cells among them: in relapsed patients after salvage they are
  few and are not counted as targets).
* **Synapses.** A free T-cell probes ``tcells.contacts_per_hour`` neighbours an hour, as in
  the marrow; a probe finds a free blast with the tissue's density ``(B - E) / N``
  (``N = T + O + B``) and adheres with the marrow's avidity law at the median CD19 and CD3
  densities, ``P = 1 - exp(-beta x bridge x CD19 x CD3 / (CD3 + CD3_half))``. A synapse lasts
  ``tcells.synapse_hours`` (``tau``). Synapses form and end within an hour, faster than the
  drug level and the cytokines change, so the engaged T-cells ``E`` are taken at their
  steady state: ``E / tau = k P (T - E) (B - E) / N``, the smaller root of a quadratic (one
  T-cell to a target at a time, both sides saturating).
* **Killing.** Completed synapses kill with the marrow's lysis probability (regulatory
  T-cells, their suppression and a TKI's T-cell block lower it:
  :func:`blinasim.core.processes.killing.lysis_probability`): ``E x lysis x dt / tau``
  blasts a tick.
* **Cytokines.** Engaged lymphoid T-cells release IFN-gamma like engaged marrow T-cells, with
  a competence of their own that the same desensitisation law lowers
  (:func:`blinasim.clinical.cytokines.competence_step`); their release joins the serum pool.

No random draws, and no agents: the lattice model and the Mesa reference advance the same
object (in the ``cytokines`` phase) and read the same numbers. Not represented: the
tissue's normal B cells as targets, exhaustion of lymphoid T-cells (each engages rarely, the
tissue holding many more T-cells than blasts), lymphoid T-cell expansion and traffic to
blood, and the action of chemotherapy or a TKI on the extramedullary blasts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from blinasim.clinical.cytokines import competence_step
from blinasim.params.schema import Config


def synapse_probability(config: Config, bridge_factor: float) -> float:
    """Adhesion probability of one contact between a median T-cell and a median blast."""
    tc = config.tcells
    cd3 = tc.cd3_median / (tc.cd3_median + tc.cd3_engagement_half_density)
    bridges = bridge_factor * config.disease.blast_cd19_median * cd3
    return -math.expm1(-config.drug.adhesion_beta * bridges)


def engaged_at_steady_state(t_cells: float, targets: float, other: float, rate: float, synapse_h: float) -> float:
    """T-cells in a synapse when formation ``rate P (T - E)(B - E) / N`` (``rate = k P``, per hour)
    balances their end ``E / tau``: the smaller root of ``a E^2 - (1 + a (T + B)) E + a T B = 0``,
    ``a = rate tau / N``, written in the form that keeps its precision when ``a T B`` is small."""
    if t_cells <= 0.0 or targets <= 0.0 or rate <= 0.0:
        return 0.0
    a = rate * synapse_h / (t_cells + other + targets)
    b = 1.0 + a * (t_cells + targets)
    disc = max(b * b - 4.0 * a * a * t_cells * targets, 0.0)
    return 2.0 * a * t_cells * targets / (b + math.sqrt(disc))


@dataclass
class LymphoidTissue:
    """Spleen and lymph nodes of one patient (cells)."""

    t_cells: float
    other_cells: float
    blasts: float
    #: T-cells in a synapse, at the synapses' steady state of the last tick
    engaged: float = 0.0
    #: the lymphoid T-cells' capacity to make cytokines (0-1) and their lagged engaged share
    competence: float = 1.0
    lagged_share: float = 0.0
    #: blasts killed so far (cells)
    killed: float = 0.0

    @classmethod
    def for_patient(cls, config: Config, blood_volume_ul: float, prephase_hazard: float = 0.0) -> LymphoidTissue:
        """The tissue at entry; ``prephase_hazard`` is the dexamethasone hazard integrated before
        time 0 (a pre-phase's debulking, which the marrow's first slow step applies too)."""
        lc = config.lymphoid
        t = lc.t_cells_per_blood_t_cell * config.patient.t_cells_per_ul * blood_volume_ul if lc.enabled else 0.0
        marrow_blasts = config.baseline_marrow_blast_fraction * config.patient.marrow_nucleated_cells
        blasts = lc.blasts_per_marrow_blast * marrow_blasts * math.exp(-prephase_hazard)
        if t <= 0.0 or blasts < 1.0:
            blasts = 0.0
        return cls(t_cells=t, other_cells=lc.other_cells_per_t_cell * t, blasts=blasts)

    @property
    def idle(self) -> bool:
        """No blasts and no synapses: a step would engage, kill and release nothing, now or later
        (cleared blasts never return), so the tissue need not be stepped. Its competence would go on
        recovering, but it only matters for engaged T-cells."""
        return self.blasts <= 0.0 and self.engaged <= 0.0

    def step(
        self,
        config: Config,
        dt_hours: float,
        bridge_factor: float,
        lysis: float,
        extra_death_per_day: float = 0.0,
    ) -> float:
        """Advance one tick: synapses at their steady state, killing (a completed synapse kills with
        probability ``lysis``), then the blasts' own kinetics (``extra_death_per_day``:
        dexamethasone) and the competence. Returns the blasts killed (cells)."""
        tc = config.tcells
        rate = tc.contacts_per_hour * synapse_probability(config, bridge_factor) if bridge_factor > 0.0 else 0.0
        self.engaged = engaged_at_steady_state(self.t_cells, self.blasts, self.other_cells, rate, tc.synapse_hours)
        killed = min(self.blasts, self.engaged * lysis * dt_hours / tc.synapse_hours)
        d = config.disease
        net = d.blast_birth_rate_per_day - d.blast_death_rate_per_day - extra_death_per_day
        self.blasts = (self.blasts - killed) * math.exp(net * dt_hours / 24.0)
        if self.blasts < 1.0:
            self.blasts = 0.0
        self.killed += killed
        share = self.engaged / self.t_cells if self.t_cells > 0.0 else 0.0
        self.competence, self.lagged_share = competence_step(
            config.cytokines, self.competence, self.lagged_share, share, dt_hours
        )
        return killed

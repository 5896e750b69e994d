"""The clinical course over years: cycles given by response, transplant, relapse, death.

The lattice run (:mod:`blinasim.core`) covers the induction, where synapses
form and the drug's kill rate is made. The course continues the same patient
from the end of the lattice run to ``course.follow_up_days``, event-driven, on
a step of ``course.step_days``, with no agent and no per-tick cost:

* **Disease** is a stochastic birth-death population per phenotype in the
  marrow (CD19+, CD19-negative, myeloid) and a CD19+ population in a
  **sanctuary** outside the marrow (extramedullary / CNS; its baseline share
  of the disease is ``patient.sanctuary_fraction``). Each step draws births
  (Poisson) and deaths (binomial) per population; above
  :data:`DETERMINISTIC_CELLS` cells the expectation is used, which is exact to
  far below the noise. Extinction is therefore a stochastic event.
* **CD19 loss at division** goes on in the follow-up as in the lattice: of each
  step's divisions of the CD19+ marrow cells (their birth rate times the step),
  a share ``disease.cd19_loss_per_division`` gives a CD19-negative daughter
  (Poisson, on its own stream :data:`CD19_LOSS_STREAM`). Blinatumomab in later
  cycles then kills the CD19+ cells and spares these, so a relapse during or
  after the consolidation can be CD19-negative although none was left at the
  end of the lattice run. Not represented in the follow-up: CD19 loss in the
  sanctuary (its cells reseed the marrow as CD19+) and lineage switch (the
  lattice's, which follows the cytokine surge of the induction).
* **Drug in later cycles**: while a cycle infuses, CD19+ cells die at the
  per-cell kill hazard that the lattice measured during its own infusions
  (:func:`kill_hazard_per_day`: killed blast cells per CD19+ blast cell-day);
  the sanctuary at ``course.sanctuary_kill_factor`` of it (lower drug exposure
  and T-cell access, [Liu2023]; [Sigmund2020]), optionally saturating in the
  sanctuary's size (``course.sanctuary_kill_half_cells``, :func:`sanctuary_kill`).
  During the lattice run the sanctuary follows the hazard measured in each
  record interval. A chemotherapy arm's courses kill the sanctuary at
  ``chemotherapy.sanctuary_kill_factor`` of the regimen's marrow kill (the
  blinatumomab factor was fitted on blinatumomab trials alone).
* **Sanctuary seeding**: sanctuary cells home to the marrow at
  ``course.sanctuary_seeding_per_day``.
* **The plan** (``course.plan``): the cycles of the trial (:data:`PLANS`);
  non-responders stop after the response cycles; a relapse ends the plan.
  Plan ``chemotherapy`` follows a salvage-chemotherapy arm
  (:func:`chemotherapy_plan`): the induction courses of the lattice run, then
  for responders ``chemotherapy.consolidation_courses`` more, in which blasts of
  every phenotype die at the regimen's blast hazard
  (:class:`blinasim.clinical.combination.SalvageRegimen`); transplant, relapse
  and death as for blinatumomab.
* **Transplant**: a responder in remission receives an allogeneic HSCT with
  probability ``course.hsct_uptake``, ``course.hsct_delay_days`` after the
  response assessment; conditioning and graft-versus-leukemia remove
  ``course.hsct_log_kill`` logs of the disease (each cell survives with
  probability 10**-log_kill) at once, and the graft's alloreactive T-cells go on killing
  leukemic cells of every phenotype at ``course.gvl_kill_per_day`` ([Kolb2008]). In a share
  ``course.gvl_escape_probability`` of the patients (drawn on its own stream
  :data:`GVL_ESCAPE_STREAM`) the graft does not hold the leukemia: no graft-versus-leukemia
  kill, so the residue the conditioning left grows back to a relapse ([Marks2008]: relapse
  20% at 5 years after transplants in first remission). Transplant-related death strikes with
  ``course.trm_probability`` at an exponential time of mean ``course.trm_mean_days``; it
  stands for every non-relapse death after the transplant (its sources count them all), so
  the remission hazard below stops from the transplant to a relapse.
* **Relapse**: marrow blasts past ``endpoints.relapse_blast_fraction`` after a
  response, or a sanctuary mass past ``course.sanctuary_detect_cells``
  (extramedullary relapse); its type is the dominant phenotype.
* **Ph+ disease on a TKI** (:mod:`blinasim.clinical.tki`): from ``treatment.tki_start_day``
  every population of a Ph+ patient divides and dies at the rates of the steady-state mean
  BCR::ABL1 inhibition of the daily dosing interval (the TKI is taken to the end of
  follow-up); the T-cell suppression acts through the kill hazard the lattice measured.
* **Death**: from disease at an exponential time with median
  ``course.failure_survival_median_days``, counted after a relapse from the relapse
  and without response from the start of treatment (``course.failure_survival_from``
  ``treatment_start``, the origin of its source's overall survival, so a refractory
  patient can die inside the induction; ``assessment`` counts it from the response
  assessment instead); in remission at ``course.remission_death_per_year``;
  transplant-related as above. **Later therapy rescues a few**: of the patients facing
  death from disease, a share ``course.failure_rescued_share`` (drawn on its own stream
  :data:`RESCUE_STREAM`) is rescued by later salvage and transplant and dies only at the
  remission hazard, as the long-term survivors of the historical series do
  ([GokbugetRef2016]: 6% alive at 3 years after second salvage; [Fielding2007]: 7% at 5
  years after relapse). The others die at the exponential time of a shorter median
  (:func:`failure_short_median_days`), so the overall median stays the source's; at share
  0 every draw is as it was without the rescue.
* **Treatment-related death of salvage chemotherapy** (plan ``chemotherapy``,
  :func:`chemotherapy_death_day`): while a course's aplasia lasts (from its start to the
  next course, ``chemotherapy.interval_days``) the patient dies at
  ``chemotherapy.toxic_death_per_neutropenic_day`` per day with neutrophils below
  ``chemotherapy.toxic_death_neutrophils_per_ul`` (infection in severe neutropenia: its
  risk grows with the depth and the duration of neutropenia, [Bodey1966]). The neutrophils
  are the run's modelled counts (:mod:`blinasim.clinical.blood_counts`) where the lattice
  covers the course; a course the lattice does not cover (consolidation) repeats the
  neutropenia of the last course it covered, shifted to its start. One exponential draw
  (stream ``CHEMO_TOXIC_DEATH`` of :mod:`blinasim.kernels.rng`, not the course's
  generator, so the other draws of the arm are unchanged) is the patient's tolerance of
  cumulative hazard; a death before the response day makes the patient a non-responder.
  Calibrated to TOWER's treatment-related fatal adverse events of the standard-care arm
  ([SteinFranklin2019], docs/validation.md).

Every draw comes from generators seeded by the run seed (the course's stream
:data:`COURSE_STREAM`; the CD19 losses' :data:`CD19_LOSS_STREAM`; the rescue's
:data:`RESCUE_STREAM`; the graft's escape's :data:`GVL_ESCAPE_STREAM`; the treatment-related
death's ``CHEMO_TOXIC_DEATH``), so a run is
bit-identical for a seed whichever model (numba or Mesa reference) made its lattice part.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from blinasim.clinical.combination import CombinationDrugs, chemotherapy_assessment_days, chemotherapy_regimen
from blinasim.clinical.tki import TkiExposure, ph_blast_rates
from blinasim.kernels.rng import CHEMO_TOXIC_DEATH, draw_uniform
from blinasim.params.schema import Config

#: the event codes of ``event_cause`` (CF flag_values / flag_meanings)
EVENT_CAUSES = (
    "none",
    "relapse_cd19_positive",
    "relapse_cd19_negative",
    "lineage_switch",
    "death_disease",
    "death_remission",
    "death_transplant",
    "death_treatment",
)
(
    NONE,
    RELAPSE_CD19_POS,
    RELAPSE_CD19_NEG,
    LINEAGE_SWITCH,
    DEATH_DISEASE,
    DEATH_REMISSION,
    DEATH_TRANSPLANT,
    DEATH_TREATMENT,
) = range(8)
_RELAPSE_CODE = {"cd19_positive": RELAPSE_CD19_POS, "cd19_negative": RELAPSE_CD19_NEG, "lineage_switch": LINEAGE_SWITCH}

#: the scalar time-to-event outputs of a run (the DESIGN contract), in Dataset order
TIME_TO_EVENT = (
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
    "cycles_given",
)

#: populations of the course: marrow CD19+, marrow CD19-negative, marrow myeloid, sanctuary CD19+
POS, NEG, MYE, SANCT = range(4)
#: above this many cells a population follows its expectation (the noise is < 0.1%)
DETERMINISTIC_CELLS = 1e6
#: the generator's stream id (distinct from the lattice's streams)
COURSE_STREAM = 0xC0
#: the stream of the CD19 losses of the follow-up, apart from the course's generator, so that a
#: course in which no CD19-negative cell is born draws exactly as it did without them
CD19_LOSS_STREAM = 0xC1
#: the stream of the rescue by later therapy, apart from the course's generator, so that at share 0
#: every other draw of the course is unchanged
RESCUE_STREAM = 0xC2
#: the stream of the graft's escape (``course.gvl_escape_probability``), apart from the course's
#: generator, so that at probability 0 every other draw of the course is unchanged
GVL_ESCAPE_STREAM = 0xC3
#: the stream of the patient's regrowth factor (``course.regrowth_log_sd``), apart from the course's
#: generator, so that at log-sd 0 every other draw of the course is unchanged
REGROWTH_STREAM = 0xC4
#: the regrowth factor's normal deviate is clipped to this many standard deviations
REGROWTH_CLIP_SD = 2.0


def regrowth_factor(config: Config, seed: int) -> float:
    """The patient's regrowth factor: the division and death rates of its leukemia in the follow-up are
    those of the lattice times this factor (``exp(log_sd z)``, ``z`` a standard normal deviate clipped to
    :data:`REGROWTH_CLIP_SD`, drawn on :data:`REGROWTH_STREAM`); exactly 1.0, with no draw, at log-sd 0."""
    log_sd = config.course.regrowth_log_sd
    if log_sd == 0.0:
        return 1.0
    z = np.random.default_rng([seed & 0xFFFFFFFFFFFFFFFF, REGROWTH_STREAM]).standard_normal()
    return math.exp(log_sd * min(max(z, -REGROWTH_CLIP_SD), REGROWTH_CLIP_SD))


def sanctuary_kill(c, hazard: float, cells: float) -> float:
    """Blinatumomab's kill hazard per sanctuary cell (1/day) when the marrow's per-cell hazard is ``hazard``
    and the sanctuary holds ``cells``: ``course.sanctuary_kill_factor`` of it, times ``K / (K + cells)`` with
    ``K`` = ``course.sanctuary_kill_half_cells`` (the T-cells that reach the sanctuary are limited, so a large
    sanctuary loses at most about ``K`` x that hazard cells a day; [DePillis2005]'s saturating kill); ``K`` 0:
    no saturation, the exact product."""
    kill = c.sanctuary_kill_factor * hazard
    half = c.sanctuary_kill_half_cells
    return kill if half == 0.0 else kill * half / (half + cells)


def failure_short_median_days(c) -> float:
    """The median survival of the patients whom later therapy does not rescue (``c``: the course section).

    The rescued share ``p`` dies only at the remission hazard ``mu``, so the overall survival at the
    source's median ``M`` is ``p exp(-mu M) + (1 - p) 2**(-M / m) = 1/2``, solved here for ``m``
    (``M`` itself at share 0).
    """
    share, median = c.failure_rescued_share, c.failure_survival_median_days
    if share == 0.0:
        return median
    rescued_alive = share * math.exp(-c.remission_death_per_year / 365.0 * median)
    return median * math.log(2.0) / -math.log((0.5 - rescued_alive) / (1.0 - share))


#: cycles of each plan: (infusion days, days off) per cycle, the cycles after which response is assessed
#: (non-responders stop), and whether response is MRD response (MRD trials) or CR/CRh. The names follow
#: the label and the protocol engine (clinical.protocol): induction (cycles 1-2) and consolidation
#: (cycles 3-5) are 4 on / 2 off; maintenance (the label's "continued therapy", cycles 6-9) 4 on / 8 off.
PLANS: dict[str, dict] = {
    # MT103-211 (Topp 2015): 4 weeks on / 2 off; CR/CRh within 2 cycles -> up to 3 more cycles.
    "mt103_211": {"cycles": [(28, 14)] * 5, "response_cycles": 2, "mrd": False},
    # TOWER (Kantarjian 2017): 2 induction cycles; responders 3 consolidation cycles (4 on / 2 off), then
    # maintenance 4 weeks every 12 weeks up to 12 months.
    "tower": {"cycles": [(28, 14)] * 5 + [(28, 56)] * 4, "response_cycles": 2, "mrd": False},
    # BLAST (Gokbuget 2018): up to 4 cycles; response is the complete MRD response after cycle 1.
    "blast": {"cycles": [(28, 14)] * 4, "response_cycles": 1, "mrd": True},
}


def chemotherapy_plan(config: Config, seed: int, t_end_lattice: float) -> tuple[list[tuple[float, float]], int, float]:
    """Plan ``chemotherapy``: the courses as (start, end of exposure), the induction courses
    (response is assessed after them; non-responders stop) and the last assessment day.

    The induction courses are those of the lattice run (``chemotherapy.courses`` every
    ``chemotherapy.interval_days``); responders go on to ``chemotherapy.consolidation_courses``
    more, every ``interval_days`` from the later of the last assessment and the end of the
    lattice run (the lattice gives only the induction)."""
    ch, t = config.chemotherapy, config.treatment
    regimen = chemotherapy_regimen(config, seed)
    days = regimen.course_days if regimen is not None else ch.course_days
    induction = [
        (t.chemotherapy_start_day + k * ch.interval_days, t.chemotherapy_start_day + k * ch.interval_days + days)
        for k in range(ch.courses)
    ]
    assessed = chemotherapy_assessment_days(config)
    assessment_day = assessed[-1] if assessed else induction[-1][1]
    first = max(assessment_day, t_end_lattice)
    consolidation = [
        (first + k * ch.interval_days, first + k * ch.interval_days + days) for k in range(ch.consolidation_courses)
    ]
    return induction + consolidation, len(assessed) if assessed else ch.courses, assessment_day


def plan_cycles(config: Config) -> tuple[list[tuple[float, float]], int, bool]:
    """The plan's cycles as (start day, end of infusion), the response cycles and whether response is MRD."""
    c = config.course
    if c.plan == "custom":
        spec = {"cycles": [(c.custom_on_days, c.custom_off_days)] * c.custom_cycles, "response_cycles": 1}
        spec["mrd"] = c.custom_mrd_response
    else:
        spec = PLANS[c.plan]
    start = config.treatment.start_day
    out = []
    for on, off in spec["cycles"]:
        out.append((start, start + on))
        start += on + off
    return out, spec["response_cycles"], spec["mrd"]


@dataclass(frozen=True)
class LatticeRun:
    """What the course needs of the lattice run (all arrays on the record times)."""

    times: np.ndarray
    #: blast cells (marrow + blood) by phenotype: CD19+, CD19-negative (B-lineage), myeloid
    cells: np.ndarray  # (n, 3)
    #: blasts killed in each record interval (cells)
    kills: np.ndarray
    dose_rate: np.ndarray
    #: the blinatumomab cycle in progress at each record (0 before the first)
    cycle: np.ndarray | None
    #: marrow MRD (leukemic / mononuclear marrow cells)
    mrd: np.ndarray
    marrow_nucleated: float
    marrow_mononuclear: float
    #: CR/CRh (1/0/NaN), its day; complete MRD response (1/0/NaN), its day; relapse day and type
    cr_crh: float
    response_day: float
    mrd_response: float
    mrd_response_day: float
    relapse_day: float
    relapse_type: str
    #: blood neutrophils per uL on the record times (None: not recorded; no treatment-related death)
    neutrophils: np.ndarray | None = None


@dataclass
class CourseResult:
    """The time-to-event outputs of a run and the course's coarse time series."""

    os_days: float
    os_event: int
    rfs_days: float
    rfs_event: float
    efs_days: float
    efs_event: int
    days_to_mrd_negative: float
    event_cause: int
    transplanted: int
    transplant_day: float
    cycles_given: int
    #: the cause of death (a death code of :data:`EVENT_CAUSES`; NONE if alive at the end of follow-up)
    death_cause: int = NONE
    #: the course grid (days) and marrow MRD, sanctuary cells on it
    times: np.ndarray = field(default_factory=lambda: np.zeros(0))
    mrd: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sanctuary: np.ndarray = field(default_factory=lambda: np.zeros(0))


def lattice_run(ds, mononuclear_fraction_of_other: float | None = None) -> LatticeRun:
    """The :class:`LatticeRun` of a run Dataset (its lattice part; ``blinasim.core.output``)."""
    if mononuclear_fraction_of_other is None:
        mononuclear_fraction_of_other = json.loads(ds.attrs["config"])["marrow"]["mononuclear_fraction_of_other"]
    blasts = ds.blasts.sum("compartment").values
    neg = ds.blasts_cd19_negative.sum("compartment").values
    switched = ds.blasts_lineage_switched.sum("compartment").values
    marrow = {
        name: float(ds[name].sel(compartment="marrow").values[-1]) for name in ("blasts", "normal_b_cells", "t_cells")
    }
    other = float(ds.other_marrow_cells.values[-1])
    lymphoid = sum(marrow.values())
    return LatticeRun(
        times=ds.time.values,
        cells=np.stack([blasts - neg, neg - switched, switched], axis=1),
        kills=ds.kills.values,
        dose_rate=ds.dose_rate.values,
        cycle=ds.cycle.values,
        mrd=ds.mrd.values,
        marrow_nucleated=lymphoid + other,
        marrow_mononuclear=lymphoid + mononuclear_fraction_of_other * other,
        cr_crh=float(ds.cr_crh.values),
        response_day=float(ds.response_day.values),
        mrd_response=float(ds.mrd_response.values),
        mrd_response_day=float(ds.mrd_response_day.values),
        relapse_day=float(ds.relapse_day.values),
        relapse_type=str(ds.relapse_type.values),
        neutrophils=ds.neutrophils_per_ul.values if "neutrophils_per_ul" in ds else None,
    )


def kill_hazard_per_day(run: LatticeRun) -> np.ndarray:
    """Per-cell kill hazard of CD19+ blasts (1/day) in each record interval: killed cells over
    CD19+ cell-days (mean of the interval's ends); NaN where no CD19+ blast was present."""
    dt = np.diff(run.times, prepend=run.times[0])
    pos = run.cells[:, POS]
    mean_pos = 0.5 * (pos + np.concatenate([pos[:1], pos[:-1]]))
    with np.errstate(invalid="ignore", divide="ignore"):
        h = np.where((mean_pos > 0) & (dt > 0), run.kills / (mean_pos * dt), np.nan)
    return h


def infusion_hazard(run: LatticeRun) -> float:
    """The per-cell kill hazard the lattice measured over the infused intervals of its last cycle
    (the cycle closest to the deep disease of the later cycles), else of any cycle; 0 if none measured."""
    h = kill_hazard_per_day(run)
    infused = (run.dose_rate > 0) & np.isfinite(h)
    if run.cycle is not None and infused.any():
        last = run.cycle == run.cycle[infused].max()
        infused &= last
    if not infused.any():
        return 0.0
    dt = np.diff(run.times, prepend=run.times[0])
    pos = run.cells[:, POS]
    cell_days = (pos * dt)[infused]
    return float(run.kills[infused].sum() / cell_days.sum()) if cell_days.sum() > 0 else 0.0


def neutropenic_intervals(
    times: np.ndarray, neutrophils: np.ndarray, threshold_per_ul: float, windows: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    """The (start, end) day intervals with neutrophils below ``threshold_per_ul`` inside the
    aplasia ``windows`` (one per course: its start to the next course), in time order.

    A record interval counts when the count at its end is below the threshold. Where the run
    (``times``) covers a window its counts are used; the part of a window the run does not cover
    repeats the neutropenic intervals of the last window the run covered entirely, shifted to its
    start (nothing if the run covered none).
    """
    t = np.asarray(times, dtype=np.float64)
    anc = np.asarray(neutrophils, dtype=np.float64)
    end = float(t[-1])
    low = np.nan_to_num(anc, nan=np.inf) < threshold_per_ul
    out: list[tuple[float, float]] = []
    template: list[tuple[float, float]] = []  # offsets from the start of the last covered window
    for start, stop in windows:
        mine = [
            (float(t[i - 1]), float(t[i]))
            for i in range(1, len(t))
            if low[i] and start - 1e-9 <= t[i - 1] and t[i] <= stop + 1e-9
        ]
        covered = min(stop, end)
        later = [(start + a, start + b) for a, b in template if start + a >= covered - 1e-9 and start + a < stop]
        out += mine + later
        if stop <= end + 1e-9:
            template = [(a - start, b - start) for a, b in mine]
    return out


def chemotherapy_death_day(intervals: list[tuple[float, float]], hazard_per_day: float, tolerance: float) -> float:
    """The day cumulative hazard ``hazard_per_day`` x (neutropenic days so far) first reaches
    ``tolerance`` (a unit-exponential draw); ``inf`` if it never does."""
    if hazard_per_day <= 0.0:
        return math.inf
    cumulative = 0.0
    for a, b in intervals:
        step = hazard_per_day * (b - a)
        if cumulative + step >= tolerance:
            return a + (tolerance - cumulative) / hazard_per_day
        cumulative += step
    return math.inf


def _step(rng: np.random.Generator, n: float, birth: float, death: float, dt: float) -> float:
    """One step of a birth-death population of ``n`` cells (rates per day)."""
    if n <= 0:
        return 0.0
    if n >= DETERMINISTIC_CELLS:
        return n * math.exp((birth - death) * dt)
    k = round(n)
    dead = rng.binomial(k, -math.expm1(-death * dt)) if death > 0 else 0
    born = rng.poisson(k * birth * dt) if birth > 0 else 0
    return float(k - dead + born)


def _thin(rng: np.random.Generator, n: float, survive: float) -> float:
    if n <= 0:
        return 0.0
    if n >= DETERMINISTIC_CELLS / survive:
        return n * survive
    return float(rng.binomial(round(n), survive))


def _poisson_cells(rng: np.random.Generator, expected: float) -> float:
    """Cells arriving in one step (seeded from the sanctuary, or CD19-negative daughters): Poisson with
    mean ``expected``, its mean once it is large; no draw when nothing is expected."""
    if expected <= 0.0:
        return 0.0
    if expected >= DETERMINISTIC_CELLS:
        return expected
    return float(rng.poisson(expected))


def _relapse_type(marrow: np.ndarray) -> int:
    if marrow[MYE] > 0.5 * marrow[:3].sum():
        return LINEAGE_SWITCH
    if marrow[NEG] + marrow[MYE] > 0.5 * marrow[:3].sum():
        return RELAPSE_CD19_NEG
    return RELAPSE_CD19_POS


def follow(run: LatticeRun, config: Config, seed: int) -> CourseResult:
    """Continue the patient of ``run`` to ``course.follow_up_days`` (see the module text)."""
    c, dis, ep = config.course, config.disease, config.endpoints
    rng = np.random.default_rng([seed & 0xFFFFFFFFFFFFFFFF, COURSE_STREAM])
    t_end_lattice = float(run.times[-1])
    horizon = max(c.follow_up_days, t_end_lattice) if c.plan != "none" else t_end_lattice
    birth = np.array([dis.blast_birth_rate_per_day, dis.blast_birth_rate_per_day, dis.myeloid_birth_rate_per_day])
    death = np.array([dis.blast_death_rate_per_day, dis.blast_death_rate_per_day, dis.myeloid_death_rate_per_day])
    sanct_birth, sanct_death0 = dis.blast_birth_rate_per_day, dis.blast_death_rate_per_day
    # A Ph+ patient on a TKI: the rates at the mean inhibition of a steady-state dosing day, from its start.
    tki_inhibition = TkiExposure(config).steady_state_mean("abl1")
    tki_start = config.treatment.tki_start_day

    def on_tki(b: np.ndarray, d: np.ndarray, sb: float, sd: float) -> tuple[np.ndarray, np.ndarray, float, float]:
        rates = [ph_blast_rates(config, x, y, tki_inhibition) for x, y in zip(b, d, strict=True)]
        sanct = ph_blast_rates(config, sb, sd, tki_inhibition)
        return np.array([x for x, _ in rates]), np.array([y for _, y in rates]), *sanct

    # The follow-up's regrowth: the patient's residual clone divides and dies at its own pace.
    factor = regrowth_factor(config, seed)
    rates = {False: (birth, death, sanct_birth, sanct_death0)}
    rates[True] = tuple(x * factor for x in rates[False]) if factor != 1.0 else rates[False]
    rates_tki = {k: on_tki(*v) for k, v in rates.items()} if tki_inhibition > 0.0 else rates

    def rates_at(t: float) -> tuple[np.ndarray, np.ndarray, float, float]:
        """Marrow birth and death by phenotype, and the sanctuary's, at day ``t`` (the patient's
        regrowth from the end of the lattice run; a TKI's effect from its start)."""
        table = rates_tki if tki_inhibition > 0.0 and t >= tki_start else rates
        return table[bool(t >= t_end_lattice)]

    # The normal marrow at the end of the lattice run: leukemic cells L give blast fraction
    # L / (L + normal nucleated) and MRD L / (L + normal mononuclear); L cannot exceed the marrow.
    leukemic_end = float(run.mrd[-1]) * run.marrow_mononuclear if np.isfinite(run.mrd[-1]) else 0.0
    normal_nucleated = max(run.marrow_nucleated - leukemic_end, 1.0)
    normal_mononuclear = max(run.marrow_mononuclear - leukemic_end, 1.0)
    capacity = config.patient.marrow_nucleated_cells
    f = ep.relapse_blast_fraction
    relapse_cells = f / (1.0 - f) * normal_nucleated if f < 1 else math.inf

    chemo = c.plan == "chemotherapy"
    regimen = chemotherapy_regimen(config, seed) if chemo else None
    courses = CombinationDrugs(config, config.treatment.start_day, seed) if chemo else None
    # The sanctuary through the lattice run, at the hazard measured in each interval (a chemotherapy
    # arm: at the regimen's blast hazard during its courses).
    h = kill_hazard_per_day(run)
    last_h = 0.0
    sanct = config.patient.sanctuary_fraction * float(run.cells[0].sum())
    seed_rate = c.sanctuary_seeding_per_day
    sanct_path = np.zeros(len(run.times))
    sanct_path[0] = sanct
    for i in range(1, len(run.times)):
        dt = run.times[i] - run.times[i - 1]
        if np.isfinite(h[i]):
            last_h = h[i]
        kill = sanctuary_kill(c, last_h, sanct) if run.dose_rate[i] > 0 else 0.0
        if courses is not None:
            exposed = courses.chemotherapy_active(float(run.times[i - 1]))
            kill = config.chemotherapy.sanctuary_kill_factor * regimen.blast_kill_per_day if exposed else 0.0
        _, _, s_birth, s_death = rates_at(run.times[i - 1])
        sanct = _step(rng, sanct, s_birth, s_death + kill + seed_rate, dt)
        sanct_path[i] = sanct

    if chemo:
        cycles, response_cycles, assessment_day = chemotherapy_plan(config, seed, t_end_lattice)
        mrd_based = False
    else:
        cycles, response_cycles, mrd_based = plan_cycles(config) if c.plan != "none" else ([], 0, False)
        assessment_day = cycles[response_cycles - 1][1] if cycles else t_end_lattice
    responded = (run.mrd_response == 1.0) if mrd_based else (run.cr_crh == 1.0)
    assessable = not math.isnan(run.mrd_response if mrd_based else run.cr_crh)
    # Treatment-related death in the aplasia of the chemotherapy courses (induction first: a death
    # before the response day leaves the patient a non-responder).
    ch = config.chemotherapy
    toxic = chemo and ch.toxic_death_per_neutropenic_day > 0.0 and run.neutrophils is not None
    if toxic:
        tolerance = -math.log1p(-float(draw_uniform(seed, 0, CHEMO_TOXIC_DEATH, 0, 0)))

        def toxic_death(courses_given: list[tuple[float, float]]) -> float:
            windows = [(s, s + ch.interval_days) for s, _ in courses_given]
            low = neutropenic_intervals(run.times, run.neutrophils, ch.toxic_death_neutrophils_per_ul, windows)
            return chemotherapy_death_day(low, ch.toxic_death_per_neutropenic_day, tolerance)

        if responded and toxic_death(cycles[:response_cycles]) < run.response_day:
            responded = False
    response_day = (run.mrd_response_day if mrd_based else run.response_day) if responded else assessment_day
    # An MRD plan treats patients in hematologic remission: all are in remission from day 0, and
    # relapse-free survival runs from the start; an R/R plan's patients enter remission at the response.
    in_remission = responded or mrd_based
    remission_day = 0.0 if mrd_based else response_day
    # Cycles: responders get the whole plan; non-responders only the response cycles.
    allowed = cycles if responded else cycles[:response_cycles]
    # The cycles the lattice run did not cover are given by the course.
    later = [(s, e) for s, e in allowed if e > t_end_lattice]
    # Later cycles kill CD19+ blasts at the hazard the lattice measured; later chemotherapy courses kill
    # blasts of every phenotype at the regimen's hazard.
    k_inf = regimen.blast_kill_per_day if regimen is not None else infusion_hazard(run)

    marrow = run.cells[-1].astype(np.float64).copy()
    mrd0 = float(run.mrd[-1])
    days_to_mrd_negative = math.nan
    below = np.flatnonzero(run.mrd < c.mrd_negative_threshold)
    if len(below):
        days_to_mrd_negative = float(run.times[below[0]])

    # Events already decided by the lattice run.
    relapse_day, cause = math.nan, NONE
    if not math.isnan(run.relapse_day):
        relapse_day, cause = float(run.relapse_day), _RELAPSE_CODE.get(run.relapse_type, RELAPSE_CD19_POS)

    transplanted, transplant_day = 0, math.nan
    if c.plan != "none" and in_remission and math.isnan(relapse_day) and rng.random() < c.hsct_uptake:
        # Not before the end of the lattice run (the induction the lattice covers).
        transplant_day = float(max(response_day + c.hsct_delay_days, t_end_lattice))
        if transplant_day >= horizon:
            transplant_day = math.nan
    trm_day = math.nan
    if not math.isnan(transplant_day) and rng.random() < c.trm_probability:
        trm_day = transplant_day + rng.exponential(c.trm_mean_days)
    remission_death_day = (
        t_end_lattice + rng.exponential(365.0 / c.remission_death_per_year)
        if c.remission_death_per_year > 0
        else math.inf
    )
    failure_delay = rng.exponential(failure_short_median_days(c) / math.log(2.0))
    rescued = c.failure_rescued_share > 0.0 and (
        np.random.default_rng([seed & 0xFFFFFFFFFFFFFFFF, RESCUE_STREAM]).random() < c.failure_rescued_share
    )
    # The graft fails to control this patient's leukemia (drawn only for a planned transplant).
    escapes = (
        not math.isnan(transplant_day)
        and c.gvl_escape_probability > 0.0
        and np.random.default_rng([seed & 0xFFFFFFFFFFFFFFFF, GVL_ESCAPE_STREAM]).random() < c.gvl_escape_probability
    )

    # Event-driven follow-up on the course grid.
    n_steps = max(0, math.ceil((horizon - t_end_lattice) / c.step_days - 1e-9))
    times = t_end_lattice + c.step_days * np.arange(n_steps + 1)
    if n_steps:
        times[-1] = min(times[-1], horizon)
    mrd_path = np.zeros(len(times))
    sanct_course = np.zeros(len(times))
    mrd_path[0], sanct_course[0] = mrd0, sanct
    given_after = 0
    done_transplant = False
    p_loss = dis.cd19_loss_per_division
    loss_rng = np.random.default_rng([seed & 0xFFFFFFFFFFFFFFFF, CD19_LOSS_STREAM])
    for i in range(1, len(times)):
        t0, t1 = times[i - 1], times[i]
        dt = t1 - t0
        if not math.isnan(relapse_day) and relapse_day <= t0:
            mrd_path[i:] = np.nan
            sanct_course[i:] = np.nan
            break
        infusing = any(s <= t0 < e for s, e in later)
        kill = k_inf if infusing else 0.0
        gvl = c.gvl_kill_per_day if done_transplant and not escapes else 0.0
        cytotoxic = kill if chemo else 0.0  # chemotherapy does not need CD19
        seeded = sanct * seed_rate * dt
        b, d, s_birth, s_death = rates_at(t0)
        # CD19 loss at division: the CD19+ marrow's divisions of this step, each with its daughter
        # CD19-negative at the lattice's rate (drawn on its own stream; the newborn cells join after the step).
        lost = _poisson_cells(loss_rng, marrow[POS] * b[POS] * dt * p_loss)
        marrow[POS] = _step(rng, marrow[POS], b[POS], d[POS] + kill + gvl, dt)
        marrow[NEG] = _step(rng, marrow[NEG], b[NEG], d[NEG] + cytotoxic + gvl, dt)
        if lost > 0.0:
            marrow[POS] = max(marrow[POS] - lost, 0.0)
            marrow[NEG] += lost
        marrow[MYE] = _step(rng, marrow[MYE], b[MYE], d[MYE] + cytotoxic + gvl, dt)
        sanct_kill = config.chemotherapy.sanctuary_kill_factor * kill if chemo else sanctuary_kill(c, kill, sanct)
        sanct_death = s_death + sanct_kill + gvl + seed_rate
        sanct = _step(rng, sanct, s_birth, sanct_death, dt)
        marrow[POS] += _poisson_cells(rng, seeded)
        if not done_transplant and not math.isnan(transplant_day) and t0 <= transplant_day < t1:
            done_transplant = True
            transplanted = 1
            survive = 10.0 ** (-c.hsct_log_kill)
            marrow = np.array([_thin(rng, x, survive) for x in marrow])
            sanct = _thin(rng, sanct, survive)
            later = []  # no blinatumomab after the transplant
        total = marrow.sum()
        if total > capacity:  # a packed marrow: growth stops at its size
            marrow *= capacity / total
            total = capacity
        mrd_path[i] = total / (total + normal_mononuclear)
        sanct_course[i] = sanct
        if math.isnan(days_to_mrd_negative) and mrd_path[i] < c.mrd_negative_threshold:
            days_to_mrd_negative = float(t1)
        if in_remission and math.isnan(relapse_day):
            if marrow.sum() >= relapse_cells:
                relapse_day, cause = float(t1), _relapse_type(marrow)
            elif sanct >= c.sanctuary_detect_cells:
                relapse_day, cause = float(t1), RELAPSE_CD19_POS
        if math.isnan(relapse_day):
            given_after = sum(1 for s, e in later if s < t1)
    if not transplanted:
        trm_day, transplant_day = math.nan, math.nan
    elif remission_death_day >= transplant_day:
        # After the transplant every non-relapse death is the transplant's (its source's non-relapse
        # mortality counts them all): the remission hazard stops from the transplant to a relapse, and
        # the exponential clock resumes there (only a rescued patient can still die of it).
        resume = relapse_day if not math.isnan(relapse_day) else math.inf
        remission_death_day = resume + (remission_death_day - transplant_day)
    # Treatment-related death: in the courses given (none after a relapse or the transplant).
    toxic_day = math.inf
    if toxic:
        stop = min(x for x in (relapse_day, transplant_day, math.inf) if not math.isnan(x))
        toxic_day = toxic_death([(s, e) for s, e in allowed if s < stop])

    # Death: the earliest of the competing causes.
    if in_remission:
        failure_day = relapse_day + failure_delay if not math.isnan(relapse_day) else math.inf
        remission_end = relapse_day if not math.isnan(relapse_day) else math.inf
        # Rescued after the relapse: the remission hazard goes on past it.
        in_remission_death = remission_death_day if remission_death_day < remission_end or rescued else math.inf
    else:
        # Without response: death from disease at the delay counted from the start of treatment (its source's
        # origin: deaths can fall inside the induction) or, as before, from the response assessment.
        failure_day = failure_delay if c.failure_survival_from == "treatment_start" else assessment_day + failure_delay
        in_remission_death = remission_death_day if rescued else math.inf
    if rescued:
        failure_day = math.inf
    trm = trm_day if not math.isnan(trm_day) and (math.isnan(relapse_day) or trm_day < relapse_day) else math.inf
    deaths = {DEATH_DISEASE: failure_day, DEATH_REMISSION: in_remission_death, DEATH_TRANSPLANT: trm}
    deaths[DEATH_TREATMENT] = toxic_day
    if c.plan == "none":  # no course: the run ends with the lattice run, censored
        deaths = dict.fromkeys(deaths, math.inf)
    death_cause = min(deaths, key=deaths.get)
    death_day = deaths[death_cause]
    if death_day > horizon:
        os_days, os_event = horizon, 0
    else:
        os_days, os_event = float(death_day), 1
    if transplanted and os_event and os_days < transplant_day:
        # Died (in remission or of the salvage's toxicity) before the planned transplant: never transplanted.
        transplanted, transplant_day = 0, math.nan
    # A relapse after death does not happen.
    if not math.isnan(relapse_day) and os_event and relapse_day > os_days:
        relapse_day, cause = math.nan, NONE
    first_cause = cause
    if math.isnan(relapse_day) and os_event:
        first_cause = death_cause
    # RFS from the start of remission; EFS from the start (no response: an event at day 0).
    if in_remission:
        first = min(relapse_day if not math.isnan(relapse_day) else math.inf, os_days if os_event else math.inf)
        rfs_event = 1.0 if math.isfinite(first) else 0.0
        rfs_days = (first if math.isfinite(first) else os_days) - remission_day
        efs_days, efs_event = (first, 1) if math.isfinite(first) else (os_days, 0)
    else:
        rfs_days, rfs_event = math.nan, math.nan
        efs_days, efs_event = 0.0, 1
        if not assessable:
            efs_days, efs_event = os_days, int(os_event)
    cycles_given = sum(1 for s, e in allowed if s < min(t_end_lattice, os_days)) + given_after
    if os_event and death_cause == DEATH_TREATMENT and days_to_mrd_negative > os_days:
        days_to_mrd_negative = math.nan  # not reached alive
    grid = np.concatenate([run.times, times[1:]])
    mrd_all = np.concatenate([run.mrd, mrd_path[1:]])
    sanct_all = np.concatenate([sanct_path, sanct_course[1:]])
    after_death = grid > os_days if os_event else np.zeros(len(grid), bool)
    mrd_all[after_death] = np.nan
    sanct_all[after_death] = np.nan
    return CourseResult(
        os_days=float(os_days),
        os_event=int(os_event),
        rfs_days=float(rfs_days),
        rfs_event=float(rfs_event),
        efs_days=float(efs_days),
        efs_event=int(efs_event),
        days_to_mrd_negative=days_to_mrd_negative,
        event_cause=int(first_cause),
        transplanted=int(transplanted),
        transplant_day=float(transplant_day),
        cycles_given=int(cycles_given),
        death_cause=int(death_cause) if os_event else NONE,
        times=grid,
        mrd=mrd_all,
        sanctuary=sanct_all,
    )

"""Clinical read-outs of a run, computed from its Dataset.

The functions take plain arrays or a run Dataset, so they work on fresh runs,
stored results and hand-made trajectories alike. Definitions (the MT103-211
and BLAST trials, docs/references.md; thresholds in ``[endpoints]`` of the
config):

* **Assessment days**: the protocol's marrow assessments, the same for every arm
  (blinatumomab, chemotherapy, a checkpoint inhibitor alone, no treatment):
  ``endpoints.assessment_days`` (days after ``treatment.start_day``; the trials'
  days are ``blinasim.trials.trial.ASSESSMENT_DAYS``), or by default the end of
  the infusion of each of the first ``response_cycles`` cycles
  (:func:`assessment_days`).
* **Best response on the assessment days**, as the trials define it: marrow
  blasts below 5% and no circulating blasts, with counts from the blood-count
  model (:mod:`blinasim.clinical.blood_counts`): **CR** neutrophils > 1,000/uL
  and platelets > 100/nL (MT103-211, TOWER, INO-VATE); **CRh** neutrophils
  > 500/uL and platelets > 50/nL (MT103-211, TOWER); **CRi** (TOWER) one of the
  two CR counts reached. CR > CRh > CRi; the combined endpoints are CR/CRh,
  CR/CRh/CRi, and INO-VATE's CR/CRi (CR, or blasts cleared with incomplete
  recovery of any degree).
* **Complete MRD response**: MRD below 1e-4 on an assessment day (BLAST: after
  cycle 1, its one assessment; MT103-211 and MT103-205: within the first two
  cycles; TOWER: within the 12 weeks of induction).
* **Relapse**: after a CR/CRh, marrow blasts regrow past 5%; or after a
  complete MRD response, MRD returns to >= 1e-4. Its type comes from the
  phenotype mix of the marrow blasts at relapse: lineage switch if most are
  myeloid, CD19-negative if most lack CD19, else CD19-positive.

Every yes/no endpoint that virtual trials, the calibration and the reports
count is defined once, in :data:`YES_NO_ENDPOINTS`: a read-out of a run, a
comparison and a threshold (CRS of any grade is ``max_crs_grade >= 1``, CR/CRh
is ``cr_crh >= 1``, a seizure of grade >= 3 is ``seizures >= 1``, ...). A patient whose read-out is NaN is not assessable
for that endpoint and is left out of its rate. The read-outs a virtual trial
records per patient are :func:`patient_read_outs`.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from blinasim.clinical.blood_counts import blood_counts
from blinasim.clinical.course import TIME_TO_EVENT
from blinasim.clinical.protocol import build_schedule
from blinasim.params.schema import Config, validate_config
from blinasim.stats import SurvivalCurve, kaplan_meier  # noqa: F401  (re-exported: the library-based estimate)

RELAPSE_TYPES = ("none", "cd19_positive", "cd19_negative", "lineage_switch")


#: Response categories, best first is highest (:func:`response`).
NO_RESPONSE, BLASTS_CLEARED, CRI, CRH, CR = range(5)


@dataclass(frozen=True)
class Response:
    """The best response of one run on the assessment days (each 1.0, 0.0, or NaN: not assessable).

    ``cr``, ``crh`` and ``cri`` are exclusive (the best category reached); ``cr_crh``,
    ``cr_crh_cri`` and INO-VATE's ``cr_cri`` combine them; ``day`` is the first assessment day
    with a CR or CRh (the start of the remission; NaN if none).
    """

    cr: float
    crh: float
    cri: float
    cr_crh: float
    cr_crh_cri: float
    cr_cri: float
    day: float

    @classmethod
    def from_best(cls, best: int | None, day: float) -> Response:
        """The response of the best category reached (``None``: no assessment within the run)."""
        if best is None:
            return cls(*(math.nan,) * 7)
        return cls(
            float(best == CR),
            float(best == CRH),
            float(best == CRI),
            float(best >= CRH),
            float(best >= CRI),
            float(best >= BLASTS_CLEARED),
            day,
        )


@dataclass(frozen=True)
class Endpoints:
    """The scalar read-outs of one run (NaN where not assessable)."""

    response: Response
    mrd_response: float
    mrd_response_day: float
    relapse_day: float
    relapse_type: str

    @property
    def cr(self) -> float:
        return self.response.cr

    @property
    def crh(self) -> float:
        return self.response.crh

    @property
    def cr_crh(self) -> float:
        return self.response.cr_crh

    @property
    def response_day(self) -> float:
        return self.response.day


def assessment_days(config: Config) -> list[float]:
    """The days of the protocol's marrow assessments (days since the simulation start).

    ``endpoints.assessment_days`` (after ``treatment.start_day``) when set: the same days for
    every arm. Otherwise the end of the infusion of each of the first ``endpoints.response_cycles``
    cycles of the planned blinatumomab schedule; an arm without one (chemotherapy, a checkpoint
    inhibitor alone, no treatment) is assessed where that schedule's cycles would end
    (``treatment.days_on`` on, ``treatment.days_off`` off, up to ``treatment.cycles`` cycles), so
    it is read on the same days as the blinatumomab arm of the same settings (the issue's rule:
    every arm on the same days; the chemotherapy course's own plan keeps
    :func:`blinasim.clinical.combination.chemotherapy_assessment_days` for its later courses).
    """
    t = config.treatment
    if config.endpoints.assessment_days:
        return [t.start_day + d for d in config.endpoints.assessment_days]
    n = config.endpoints.response_cycles
    ends: dict[int, float] = {}
    for seg in build_schedule(t, config.patient).segments:
        if seg.cycle <= n:
            ends[seg.cycle] = max(ends.get(seg.cycle, 0.0), seg.end_day)
    if ends:
        return [ends[c] for c in sorted(ends)]
    cycles = min(n, t.cycles) if t.cycles > 0 else n
    return [t.start_day + k * t.days_on + (k - 1) * t.days_off for k in range(1, cycles + 1)]


def _value_at(times: np.ndarray, values: np.ndarray, day: float) -> float:
    """The recorded value at ``day`` (the last record at or before it); NaN if after the run."""
    if day > times[-1] + 1e-9:
        return math.nan
    i = int(np.searchsorted(times, day + 1e-9, side="right")) - 1
    return float(values[max(i, 0)])


def category(blast_fraction: float, peripheral_blasts: float, anc: float, platelets: float, config: Config) -> int:
    """The response category of one assessment (:data:`CR`, :data:`CRH`, :data:`CRI`,
    :data:`BLASTS_CLEARED` or :data:`NO_RESPONSE`), by the trials' definitions.

    Blasts below ``endpoints.cr_blast_fraction`` in the marrow and none in the blood (below
    ``endpoints.peripheral_blasts_per_ul``) are needed for any of them; then CR needs both
    counts above the CR thresholds, CRh both above the CRh thresholds, CRi (TOWER) one of the
    two above its CR threshold. Thresholds are exceeded strictly ("> 1,000/uL").
    """
    e = config.endpoints
    if not (blast_fraction < e.cr_blast_fraction and peripheral_blasts < e.peripheral_blasts_per_ul):
        return NO_RESPONSE
    if anc > e.cr_neutrophils_per_ul and platelets > e.cr_platelets_per_nl:
        return CR
    if anc > e.crh_neutrophils_per_ul and platelets > e.crh_platelets_per_nl:
        return CRH
    if anc > e.cr_neutrophils_per_ul or platelets > e.cr_platelets_per_nl:
        return CRI
    return BLASTS_CLEARED


def response(times, blast_fraction, peripheral_blasts, neutrophils, platelets, days, config: Config) -> Response:
    """The best response on the assessment ``days`` (:class:`Response`).

    Parameters
    ----------
    times
        Record times (days).
    blast_fraction, peripheral_blasts, neutrophils, platelets
        On those times: marrow blasts / nucleated marrow cells, blood blasts per uL,
        neutrophils per uL, platelets per nL (:mod:`blinasim.clinical.blood_counts`).
    days
        The assessment days (:func:`assessment_days`); those after the run are not assessed.
    config
        Thresholds in ``[endpoints]``.

    Returns
    -------
    Response
        NaN everywhere if no assessment day lies within the run.
    """
    best: int | None = None
    first_remission = math.nan
    for day in days:
        bf = _value_at(times, blast_fraction, day)
        if math.isnan(bf):
            continue
        values = (_value_at(times, v, day) for v in (peripheral_blasts, neutrophils, platelets))
        got = category(bf, *values, config)
        if got >= CRH and math.isnan(first_remission):
            first_remission = day
        best = got if best is None else max(best, got)
    return Response.from_best(best, first_remission)


def mrd_response(times, mrd, days, config: Config) -> tuple[float, float]:
    """(complete MRD response, day): MRD below ``endpoints.mrd_threshold`` on an assessment day, and
    the first such day.

    The trials count an MRD response within the cycles they assess: BLAST after cycle 1 (one
    assessment day), MT103-211 and MT103-205 among the CR/CRh responders within the first two
    cycles, TOWER within the 12 weeks of induction. Assessment days after the run are not read;
    NaN if none lies within it.
    """
    assessed = False
    for day in days:
        value = _value_at(times, mrd, day)
        if math.isnan(value):
            continue
        assessed = True
        if value < config.endpoints.mrd_threshold:
            return 1.0, day
    return (0.0, math.nan) if assessed else (math.nan, math.nan)


def relapse(
    times, blast_fraction, mrd, cd19_negative_share, switched_share, response_day, mrd_day, config: Config
) -> tuple[float, str]:
    """(day, type) of the first relapse after a response; (NaN, "none") if none."""
    e = config.endpoints
    candidates = []
    if not math.isnan(response_day):
        after = (times > response_day) & (blast_fraction >= e.relapse_blast_fraction)
        if after.any():
            candidates.append(int(np.argmax(after)))
    if not math.isnan(mrd_day):
        after = (times > mrd_day) & (mrd >= e.mrd_threshold)
        if after.any():
            candidates.append(int(np.argmax(after)))
    if not candidates:
        return math.nan, "none"
    i = min(candidates)
    if switched_share[i] >= 0.5:
        kind = "lineage_switch"
    elif cd19_negative_share[i] >= 0.5:
        kind = "cd19_negative"
    else:
        kind = "cd19_positive"
    return float(times[i]), kind


def normal_hematopoiesis(other_marrow_cells: np.ndarray, config: Config, cells_per_agent: float) -> np.ndarray:
    """Other nucleated marrow cells relative to a normal marrow (lattice at normal cellularity)."""
    reference = config.simulation.lattice_size**2 * config.marrow.normal_cellularity * cells_per_agent
    return np.asarray(other_marrow_cells, dtype=np.float64) / reference


def blood_blasts_per_ul(blood_blast_cells: np.ndarray, config: Config) -> np.ndarray:
    """Circulating blasts per uL from the blood compartment's leukemic cells."""
    return np.asarray(blood_blast_cells, dtype=np.float64) / (config.patient.blood_volume_l * 1e6)


def evaluate(
    times, blast_fraction, mrd, peripheral_blasts, neutrophils, platelets, cd19_negative_share, switched_share, config
) -> Endpoints:
    """All endpoints from a run's series (the one place :func:`assess` and the run's Dataset share)."""
    days = assessment_days(config)
    resp = response(times, blast_fraction, peripheral_blasts, neutrophils, platelets, days, config)
    mrd_ok, mrd_day = mrd_response(times, mrd, days, config)
    relapse_day, relapse_type = relapse(
        times, blast_fraction, mrd, cd19_negative_share, switched_share, resp.day, mrd_day, config
    )
    return Endpoints(resp, mrd_ok, mrd_day, relapse_day, relapse_type)


def assess(ds, config: Config | None = None) -> Endpoints:
    """All endpoints of one run Dataset (its ``config`` attribute is used when not given); blood
    counts are recomputed from ``normal_hematopoiesis`` when the Dataset has none."""
    if config is None:
        config = validate_config(json.loads(ds.attrs["config"]))
    times = np.asarray(ds.time.values, dtype=np.float64)
    bf = np.asarray(ds.marrow_blast_fraction.values, dtype=np.float64)
    mrd = np.asarray(ds.mrd.values, dtype=np.float64)
    if "neutrophils_per_ul" in ds and "platelets_per_nl" in ds:
        anc, plt = ds.neutrophils_per_ul.values, ds.platelets_per_nl.values
    else:
        hem = normal_hematopoiesis(ds.other_marrow_cells.values, config, float(ds.attrs["cells_per_agent"]))
        anc, plt = blood_counts(times, hem, bf, config)
    marrow_blasts = np.asarray(ds.blasts.sel(compartment="marrow").values, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        neg = np.where(marrow_blasts > 0, ds.blasts_cd19_negative.sel(compartment="marrow").values / marrow_blasts, 0)
        sw = np.where(marrow_blasts > 0, ds.blasts_lineage_switched.sel(compartment="marrow").values / marrow_blasts, 0)
    pb = blood_blasts_per_ul(ds.blasts.sel(compartment="blood").values, config)
    return evaluate(times, bf, mrd, pb, anc, plt, neg, sw, config)


def response_before_death(ds, death_day: float, config: Config | None = None) -> Response:
    """The best response of one run Dataset whose patient died on ``death_day`` during the
    assessment period (a treatment-related death, :mod:`blinasim.clinical.course`): only the
    assessments before the death count, and a patient who died before the first one is a
    non-responder (0, not NaN: the trials count such deaths as failures of induction)."""
    if config is None:
        config = validate_config(json.loads(ds.attrs["config"]))
    days = [d for d in assessment_days(config) if d < death_day]
    if not days:
        return Response.from_best(NO_RESPONSE, math.nan)
    times = np.asarray(ds.time.values, dtype=np.float64)
    bf = np.asarray(ds.marrow_blast_fraction.values, dtype=np.float64)
    if "neutrophils_per_ul" in ds and "platelets_per_nl" in ds:
        anc, plt = ds.neutrophils_per_ul.values, ds.platelets_per_nl.values
    else:
        hem = normal_hematopoiesis(ds.other_marrow_cells.values, config, float(ds.attrs["cells_per_agent"]))
        anc, plt = blood_counts(times, hem, bf, config)
    pb = blood_blasts_per_ul(ds.blasts.sel(compartment="blood").values, config)
    got = response(times, bf, pb, anc, plt, days, config)
    return got if not math.isnan(got.cr) else Response.from_best(NO_RESPONSE, math.nan)


# Kaplan-Meier: blinasim.stats (scipy.stats.ecdf), re-exported above for the trial layer.


# ------------------------------------------------------------ yes/no endpoints

_COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}


@dataclass(frozen=True)
class YesNoEndpoint:
    """A yes/no endpoint of one patient: a read-out of the run compared with a threshold.

    Attributes
    ----------
    name
        The endpoint's name (``crs_any``, ...), also the name of its rate.
    source
        The read-out it is judged from: a scalar of the run Dataset (``max_crs_grade``) or
        of :func:`patient_read_outs` (``t_nadir_day``).
    comparison
        ``">="``, ``">"``, ``"<="`` or ``"<"``: the patient has the endpoint when
        ``read-out <comparison> threshold``.
    threshold
        The value compared with.
    description
        What it means, in a few words (report labels).
    """

    name: str
    source: str
    comparison: str
    threshold: float
    description: str

    def __post_init__(self) -> None:
        if self.comparison not in _COMPARISONS:
            raise ValueError(f"comparison {self.comparison!r}: use one of {', '.join(_COMPARISONS)}")

    def holds(self, value: Any) -> Any:
        """Whether a read-out (a number or an array of them) meets the endpoint; NaN never does."""
        return _COMPARISONS[self.comparison](value, self.threshold)

    def flags(self, values: Any) -> np.ndarray:
        """1.0 where the endpoint holds, 0.0 where not, NaN where the read-out is not finite."""
        v = np.asarray(values, dtype=np.float64)
        return np.where(np.isfinite(v), self.holds(v).astype(np.float64), np.nan)

    def count(self, values: Iterable[Any]) -> tuple[int, int]:
        """``(events, assessable)``: the patients with the endpoint and those whose read-out is not NaN."""
        kept = [v for v in values if not (isinstance(v, float) and math.isnan(v))]
        return sum(1 for v in kept if self.holds(v)), len(kept)


#: Responses: read directly from the run's yes/no scalars (:func:`assess`).
RESPONSE_ENDPOINTS: tuple[YesNoEndpoint, ...] = (
    YesNoEndpoint("cr_crh", "cr_crh", ">=", 1.0, "CR or CRh on the assessment days (MT103-211, TOWER)"),
    YesNoEndpoint("cr", "cr", ">=", 1.0, "CR (neutrophils > 1,000/uL and platelets > 100/nL)"),
    YesNoEndpoint("crh", "crh", ">=", 1.0, "CRh (neutrophils > 500/uL and platelets > 50/nL, not CR)"),
    YesNoEndpoint("cri", "cri", ">=", 1.0, "CRi (TOWER: one CR count reached, not CR or CRh)"),
    YesNoEndpoint("cr_crh_cri", "cr_crh_cri", ">=", 1.0, "CR, CRh or CRi (TOWER)"),
    YesNoEndpoint("cr_cri", "cr_cri", ">=", 1.0, "CR or CRi (INO-VATE: blasts cleared, any count recovery)"),
    YesNoEndpoint(
        "mrd_response",
        "mrd_response",
        ">=",
        1.0,
        "complete MRD response on an assessment day (MRD < endpoints.mrd_threshold)",
    ),
)
#: Toxicity: a maximum grade reached during the run.
TOXICITY_ENDPOINTS: tuple[YesNoEndpoint, ...] = (
    YesNoEndpoint("crs_any", "max_crs_grade", ">=", 1.0, "CRS of any grade"),
    YesNoEndpoint("crs_grade3", "max_crs_grade", ">=", 3.0, "CRS grade >= 3"),
    YesNoEndpoint("neurotox_any", "max_neurotoxicity_grade", ">=", 1.0, "neurotoxicity of any grade"),
    YesNoEndpoint("neurotox_grade3", "max_neurotoxicity_grade", ">=", 3.0, "neurotoxicity grade >= 3"),
    # Every modelled seizure is grade 3 (blinasim.clinical.seizures.SEIZURE_GRADE: any clinical seizure is ICANS
    # grade >= 3, [Lee2019]), so one seizure counted in ``seizures`` is a seizure of grade >= 3.
    YesNoEndpoint("seizure", "seizures", ">=", 1.0, "a seizure (ICANS grade >= 3) during the run"),
)
#: Blood kinetics in the first weeks (Klinger 2012), from :func:`kinetics`.
KINETIC_ENDPOINTS: tuple[YesNoEndpoint, ...] = (
    YesNoEndpoint("b_depleted_day2", "blood_b_day2_per_ul", "<", 1.0, "blood B cells below 1/uL at day 2"),
    YesNoEndpoint("t_nadir_day1", "t_nadir_day", "<=", 1.0, "blood T-cell nadir (days 0-3) within the first day"),
    YesNoEndpoint("t_expansion_2x", "t_peak_d14_21_ratio", ">", 2.0, "blood T-cells above twice baseline, days 14-21"),
)
#: The rates a virtual trial reports, in this order.
TRIAL_ENDPOINTS: tuple[YesNoEndpoint, ...] = RESPONSE_ENDPOINTS + TOXICITY_ENDPOINTS
#: Every yes/no endpoint.
YES_NO_ENDPOINTS: tuple[YesNoEndpoint, ...] = TRIAL_ENDPOINTS + KINETIC_ENDPOINTS
ENDPOINT_BY_NAME: dict[str, YesNoEndpoint] = {e.name: e for e in YES_NO_ENDPOINTS}


# ------------------------------------------------------------ a patient's read-outs

#: The scalar endpoints of a run Dataset (0-d variables) that a virtual trial records per patient.
RUN_SCALARS = (
    "cr_crh",
    "cr",
    "crh",
    "cri",
    "cr_crh_cri",
    "cr_cri",
    "response_day",
    "mrd_response",
    "max_crs_grade",
    "max_neurotoxicity_grade",
    "seizures",
    "relapse_day",
    "relapse_type",
    *TIME_TO_EVENT,
)
#: The graded toxicity signals whose cycle-1 peaks the calibration maps to grades.
CYCLE1_SIGNALS = ("crs_signal", "neuro_exposure")


def kinetics(ds, blood_volume_l: float) -> dict[str, float]:
    """Klinger-2012 read-outs of one run: blood B cells at day 2 (per uL), the day of the blood
    T-cell nadir within the first 3 days, and the peak blood T-cell count over days 14-21
    relative to baseline (NaN where the run is too short)."""
    ul = blood_volume_l * 1e6
    t = ds.time.values
    b = ds.normal_b_cells.sel(compartment="blood").values / ul
    tc = ds.t_cells.sel(compartment="blood").values / ul
    out = {"blood_b_day2_per_ul": math.nan, "t_nadir_day": math.nan, "t_peak_d14_21_ratio": math.nan}
    at2 = np.flatnonzero(np.isclose(t, 2.0))
    if at2.size:
        out["blood_b_day2_per_ul"] = float(b[at2[0]])
    early = t <= 3.0 + 1e-9
    if early.sum() > 1 and tc[0] > 0:
        out["t_nadir_day"] = float(t[early][int(np.argmin(tc[early]))])
    window = (t >= 14.0 - 1e-9) & (t <= 21.0 + 1e-9)
    if window.any() and tc[0] > 0:
        out["t_peak_d14_21_ratio"] = float(tc[window].max() / tc[0])
    return out


def cycle1_peaks(ds) -> dict[str, float]:
    """The peak of each graded toxicity signal (:data:`CYCLE1_SIGNALS`) during cycle 1, as
    ``<signal>_peak_cycle1`` (NaN if the run recorded no cycle 1)."""
    cycle1 = ds.cycle.values == 1
    return {
        f"{var}_peak_cycle1": float(ds[var].values[cycle1].max()) if cycle1.any() else math.nan
        for var in CYCLE1_SIGNALS
    }


def patient_read_outs(ds, blood_volume_l: float) -> dict[str, Any]:
    """Everything a virtual trial records of one patient's run: the scalar endpoints
    (:data:`RUN_SCALARS`), the last recorded day (``follow_up_day``), the cycle-1 toxicity peaks
    (:func:`cycle1_peaks`) and the blood kinetics (:func:`kinetics`); plain floats and strings."""
    out: dict[str, Any] = {}
    for name in RUN_SCALARS:
        value = ds[name].values.item()
        out[name] = value if isinstance(value, str) else float(value)
    out["follow_up_day"] = float(ds.time.values[-1])
    out.update(cycle1_peaks(ds))
    out.update(kinetics(ds, blood_volume_l))
    return out

"""Clinical schedule of blinatumomab and the label's rules: which rate is infused when.

A regimen becomes a list of :class:`Segment` (constant-rate pieces, with their
cycle number). Rates are resolved at tick starts, so schedule times are
honoured to the fast clock (6 min by default).

Regimens (the blinatumomab label, BlincytoPI on docs/references.md):

* ``rr_step_up``: R/R B-ALL. Cycle 1: 9 ug/day for 7 days, then 28 ug/day to
  day 28; later cycles 28 ug/day for 28 days. Induction (cycles 1-2) and
  consolidation (cycles 3-5) are 4 weeks on, 2 weeks off; maintenance (the
  label's "continued therapy", cycles 6-9 in TOWER) is 4 weeks on, 8 weeks off
  (``treatment.cycles_before_maintenance``, ``treatment.maintenance_days_off``).
* ``flat``: as ``rr_step_up`` without the step-up (28 ug/day from day 1).
* ``mrd``: MRD-positive B-ALL, 15 ug/m2/day (28 ug/day flat at >= 45 kg),
  4 weeks on, 2 weeks off, no step-up.
* ``none``: no drug.
* ``custom``: ``treatment.schedule`` segments, days counted from
  ``treatment.start_day``. A segment's cycle is its ``cycle`` field; without
  it, a new cycle starts when the infusion-free gap before the segment is
  longer than ``treatment.new_cycle_gap_days`` (the label's rule that an
  interruption of more than 7 days starts a new cycle).

Below ``treatment.bsa_dosing_below_kg`` (45 kg) doses are per m2 of body
surface area (5 then 15 ug/m2/day), never above the flat adult dose
(:func:`dosed_per_m2`); so are the dexamethasone doses of premedication and of
the CRS and neurotoxicity courses (5 mg/m2, at most the adult 20 mg and 8 mg,
:func:`dexamethasone_doses`).

The toxicity rules (:func:`toxicity_rules`) are data: each has a name, the
signal it watches (CRS grade, neurotoxicity grade, a seizure, the seizure
count; at a restart, the days the infusion was interrupted), the level that
fires it and its action; docs/model.md tabulates them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from blinasim.params.schema import PatientConfig, TreatmentConfig

# Times computed as tick * dt carry rounding error; schedule boundaries are
# compared with this tolerance (far below one tick).
EPS_DAY = 1e-9


@dataclass(frozen=True)
class Segment:
    """A constant infusion rate over [start_day, end_day)."""

    start_day: float
    end_day: float
    rate_ug_per_day: float
    cycle: int


@dataclass(frozen=True)
class Schedule:
    """A sorted list of non-overlapping infusion segments."""

    segments: tuple[Segment, ...]

    def rate_at(self, day: float) -> float:
        """Planned infusion rate at a time (ug/day); 0 outside every segment."""
        day += EPS_DAY
        for seg in self.segments:
            if seg.start_day <= day < seg.end_day:
                return seg.rate_ug_per_day
        return 0.0

    def cycle_at(self, day: float) -> int:
        """Cycle number in progress (its infusion or following break); 0 before the first."""
        cycle = 0
        for seg in self.segments:
            if day + EPS_DAY >= seg.start_day:
                cycle = seg.cycle
        return cycle

    def rates_on_grid(self, times_day: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`rate_at`."""
        out = np.zeros(len(times_day), dtype=np.float64)
        t = np.asarray(times_day) + EPS_DAY
        for seg in self.segments:
            out[(t >= seg.start_day) & (t < seg.end_day)] = seg.rate_ug_per_day
        return out

    def cycles_on_grid(self, times_day: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`cycle_at`."""
        out = np.zeros(len(times_day), dtype=np.int16)
        t = np.asarray(times_day) + EPS_DAY
        for seg in self.segments:
            out[t >= seg.start_day] = seg.cycle
        return out


def dosed_per_m2(treatment: TreatmentConfig, patient: PatientConfig) -> bool:
    """Whether this patient's doses are per m2 of body surface area: below ``treatment.bsa_dosing_below_kg``
    (the label: < 45 kg; the MT103-205 cohort sets it above every child's weight, as that trial dosed all
    children per m2). The same decision sets the blinatumomab and the dexamethasone doses."""
    return patient.weight_kg < treatment.bsa_dosing_below_kg


@dataclass(frozen=True)
class DexamethasoneDoses:
    """One patient's dexamethasone doses (mg per administration)."""

    premedication_mg: float
    #: per course ("crs", "neuro"; :data:`DEX_COURSES`): the dose every 8 h of its first 3 days
    course_mg: dict[str, float]


def dexamethasone_doses(config) -> DexamethasoneDoses:
    """Premedication and course doses for this patient: the adult doses, or, for a patient dosed per m2
    (:func:`dosed_per_m2`), the per-m2 doses ([BlincytoPI]: 5 mg/m2 up to 20 mg before the infusion,
    5 mg/m2 up to 8 mg every 8 h for CRS) never above the adult dose. The pre-phase is per m2 for
    everyone (``dexamethasone.prephase_mg_per_m2_day``, at most ``prephase_max_mg_per_day``)."""
    dex = config.dexamethasone
    premed = dex.premedication_mg
    course = {c: getattr(dex, f"{c}_treatment_mg") for c in DEX_COURSES}
    if dosed_per_m2(config.treatment, config.patient):
        bsa = config.patient.body_surface_area_m2
        premed = min(premed, dex.premedication_mg_per_m2 * bsa)
        course = {c: min(mg, getattr(dex, f"{c}_treatment_mg_per_m2") * bsa) for c, mg in course.items()}
    return DexamethasoneDoses(premed, course)


def _doses(treatment: TreatmentConfig, patient: PatientConfig) -> tuple[float, float]:
    """(step-up, target) rates in ug/day for this patient's body size."""
    step, target = treatment.step_up_dose_ug_per_day, treatment.target_dose_ug_per_day
    if dosed_per_m2(treatment, patient):
        bsa = patient.body_surface_area_m2
        step = min(step, treatment.step_up_dose_ug_per_m2_day * bsa)
        target = min(target, treatment.target_dose_ug_per_m2_day * bsa)
    return step, target


def custom_cycles(segments, new_cycle_gap_days: float) -> list[int]:
    """Cycle number of each custom segment (sorted by start): its ``cycle`` field, else inferred.

    An infusing segment opens a new cycle when the infusion-free time since the
    end of the last infusing segment exceeds ``new_cycle_gap_days`` (label: an
    interruption of more than 7 days starts a new cycle); segments at rate 0
    and segments after shorter gaps belong to the cycle in progress. The first
    cycle is 1.
    """
    out: list[int] = []
    cycle, last_infusion_end = 0, None
    for seg in segments:
        if seg.cycle is not None:
            cycle = seg.cycle
        elif seg.dose_ug_per_day > 0 and (
            last_infusion_end is None or seg.start_day - last_infusion_end > new_cycle_gap_days + EPS_DAY
        ):
            cycle += 1
        cycle = max(cycle, 1)
        if seg.dose_ug_per_day > 0:
            last_infusion_end = seg.end_day
        out.append(cycle)
    return out


def build_schedule(treatment: TreatmentConfig, patient: PatientConfig) -> Schedule:
    """Expand a regimen into its infusion segments."""
    t0 = treatment.start_day
    if treatment.regimen == "none" or (treatment.cycles == 0 and treatment.regimen != "custom"):
        return Schedule(())
    if treatment.regimen == "custom":
        segs = sorted(treatment.schedule, key=lambda s: s.start_day)
        cycles = custom_cycles(segs, treatment.new_cycle_gap_days)
        return Schedule(
            tuple(
                Segment(t0 + s.start_day, t0 + s.end_day, s.dose_ug_per_day, c)
                for s, c in zip(segs, cycles, strict=True)
            )
        )
    step, target = _doses(treatment, patient)
    segments: list[Segment] = []
    start = t0
    for c in range(1, treatment.cycles + 1):
        end = start + treatment.days_on
        if treatment.regimen == "rr_step_up" and c == 1 and treatment.step_up_days > 0:
            switch = start + min(treatment.step_up_days, treatment.days_on)
            segments.append(Segment(start, switch, step, c))
            if switch < end:
                segments.append(Segment(switch, end, target, c))
        else:
            segments.append(Segment(start, end, target, c))
        maintenance = treatment.regimen != "mrd" and c > treatment.cycles_before_maintenance
        start = end + (treatment.maintenance_days_off if maintenance else treatment.days_off)
    return Schedule(tuple(segments))


def new_cycle_schedule(schedule: Schedule, clock_day: float) -> Schedule:
    """The schedule after an interruption that starts a new cycle at ``clock_day`` (treatment-clock day).

    The cycle in progress ends at ``clock_day`` (its infusion so far kept, the rest dropped) and
    the next planned cycle starts at ``clock_day``, with no break before it (the interruption was
    one); the cycles after it follow as planned, moved by the same amount. Without a next planned
    cycle, the interrupted cycle is given again in full as the new one (numbered one higher):
    the label restarts the infusion, and a new cycle has its full infusion days.
    """
    c = schedule.cycle_at(clock_day)
    segs = schedule.segments
    kept = [s for s in segs if s.cycle < c]
    kept += [
        replace(s, end_day=min(s.end_day, clock_day))
        for s in segs
        if s.cycle == c and s.start_day < clock_day - EPS_DAY
    ]
    later = [s for s in segs if s.cycle > c]
    if not later:
        later = [replace(s, cycle=c + 1) for s in segs if s.cycle == c]
    shift = clock_day - min(s.start_day for s in later if s.cycle == min(x.cycle for x in later))
    moved = [replace(s, start_day=s.start_day + shift, end_day=s.end_day + shift) for s in later]
    return Schedule(tuple(kept + moved))


def premedication_clock_h(schedule: Schedule, lead_h: float) -> list[float]:
    """Treatment-clock hours of the premedication before each rise of the infusion rate (cycle starts, step-ups)."""
    out: list[float] = []
    prev_end, prev_rate = None, 0.0
    for seg in schedule.segments:
        before = prev_rate if prev_end is not None and abs(prev_end - seg.start_day) < 1e-9 else 0.0
        if seg.rate_ug_per_day > before:
            out.append(seg.start_day * 24.0 - lead_h)
        prev_end, prev_rate = seg.end_day, seg.rate_ug_per_day
    return out


# ------------------------------------------------------------------ clinical rules

INF = float("inf")

# Codes of ``treatment_status`` in the output.
STATUS_OFF = 0  # no infusion planned now (before, between or after cycles)
STATUS_INFUSING = 1
STATUS_HELD = 2  # withheld for toxicity (or waiting out premedication before a restart)
STATUS_DISCONTINUED = 3

#: the signals a rule can watch: the grades of the last tick, the grade of a seizure in it, the seizures so far;
#: and, at a restart, the days the infusion of a cycle was interrupted (``new_cycle`` rules)
SIGNALS = ("crs_grade", "neuro_grade", "seizure", "seizures", "interruption_days")
#: the dexamethasone courses a rule can start (dose per administration: ``dexamethasone.<course>_treatment_mg``)
DEX_COURSES = ("crs", "neuro")
#: hours of a treatment course at full dose (every 8 h for 3 days), before its 4-day taper
COURSE_FULL_DOSE_H = 72.0


@dataclass(frozen=True)
class Rule:
    """One clinical rule: when ``signal`` reaches ``at_least``, take ``action``.

    Actions: ``tocilizumab`` (a dose, at most every ``tocilizumab.redose_after_h``,
    also after the drug is stopped: CRS is still treated), ``discontinue``
    (permanently), ``hold`` and ``new_cycle`` (checked at a restart: when the
    infusion of a cycle was interrupted for longer than ``at_least`` days, the
    restart starts a new cycle, :func:`new_cycle_schedule`). A hold ends when ``resume_signal`` (default: the
    signal itself) has stayed at or below ``resume_at_most`` for
    ``resume_after_days``; a hold longer than ``max_hold_days`` ends treatment.
    ``dexamethasone`` names the course started when the rule fires ("crs" or
    "neuro"). ``discontinue_at_step_up``: a toxicity that occurs while the
    infusion runs at the step-up dose (9 ug/day, or 5 ug/m2/day) ends treatment
    instead of holding it (the label, neurological toxicity grade 3).
    """

    name: str
    signal: str
    at_least: float
    action: str
    resume_signal: str = ""
    resume_at_most: int = 0
    resume_after_days: float = 0.0
    max_hold_days: float = INF
    dexamethasone: str = ""
    discontinue_at_step_up: bool = False


def toxicity_rules(config) -> tuple[Rule, ...]:
    """The toxicity rules of the blinatumomab label (docs/references.md), as data, in the order they are checked.

    Tocilizumab comes first, so CRS that jumps straight to the discontinuation
    grade is treated on the tick it stops the drug; discontinuations come before
    holds; the new-cycle rule acts when a hold ends.
    """
    p = config.protocol
    neuro_hold = {
        "resume_signal": "neuro_grade",
        "resume_at_most": p.neuro_resume_grade,
        "resume_after_days": p.neuro_resume_days,
        "max_hold_days": p.neuro_max_hold_days,
        "dexamethasone": "neuro",
        "discontinue_at_step_up": True,
    }
    return (
        Rule("crs_tocilizumab", "crs_grade", p.tocilizumab_grade, "tocilizumab"),
        Rule("crs_discontinue", "crs_grade", p.crs_discontinue_grade, "discontinue", dexamethasone="crs"),
        Rule("neuro_discontinue", "neuro_grade", p.neuro_discontinue_grade, "discontinue", dexamethasone="neuro"),
        Rule("seizure_discontinue", "seizures", p.seizure_discontinue_count, "discontinue", dexamethasone="neuro"),
        Rule("crs_hold", "crs_grade", p.crs_hold_grade, "hold", resume_at_most=0, dexamethasone="crs"),
        Rule("neuro_hold", "neuro_grade", p.neuro_hold_grade, "hold", **neuro_hold),
        Rule("seizure_hold", "seizure", p.seizure_hold_grade, "hold", **neuro_hold),
        Rule("new_cycle_after_hold", "interruption_days", p.new_cycle_after_hold_days, "new_cycle"),
    )


@dataclass
class _Hold:
    start_h: float
    calm_since_h: float | None = None


@dataclass
class Event:
    """A protocol event: what happened, when (day), and a value (mg, ug/day, grade, count)."""

    day: float
    kind: str
    value: float
    note: str = ""


class ProtocolEngine:
    """The clinical protocol as a state machine, one call per tick.

    The schedule runs on a *treatment clock* that stops while the infusion is
    withheld, so a cycle interrupted by a hold still delivers its infusion days
    (label: continue the same cycle to a total of 28 days of infusion). After
    a hold the infusion restarts at the step-up dose and returns to the planned
    rate after ``protocol.restart_escalation_days``. Dexamethasone is given
    1 h before each rise of the infusion rate (cycle starts, the step-up, the
    escalation after a restart), before a restart after a hold of >= 4 h, as a
    pre-phase for high burden, and as a course for severe CRS and for severe
    neurotoxicity (a course is not doubled while another runs at full dose).
    Each seizure is logged with an anti-epileptic. An interruption of a cycle's
    infusion longer than ``protocol.new_cycle_after_hold_days`` (label: 7 days)
    does not continue the cycle: the restart starts a new cycle
    (rule ``new_cycle_after_hold``, :func:`new_cycle_schedule`), noted on the
    restart event.
    """

    def __init__(self, config, schedule: Schedule, effects, prephase: bool, dt_hours: float):
        self.cfg = config
        self.schedule = schedule
        self.effects = effects  # cytokines.DrugEffects, shared with the cytokine model
        self.rules = toxicity_rules(config)
        self.new_cycle_rules = tuple(r for r in self.rules if r.action == "new_cycle")
        self.step_up_rate, _ = _doses(config.treatment, config.patient)
        self.dex_doses = dexamethasone_doses(config)
        self.dt_h = dt_hours
        self.clock_ticks = 0  # schedule time elapsed, in ticks (exact); equals sim time until a hold
        self.holds: dict[str, _Hold] = {}
        #: when a hold stopped an infusion in progress (h); None when no infusion is interrupted
        self.interrupted_since_h: float | None = None
        self._restart_note = ""
        self.restart_at_h = -INF
        self.escalation_until_ticks = -1
        self.discontinued = False
        self.last_toci_h = -INF
        self.last_rate = 0.0  # rate of the last tick that infused (ug/day): the dose a toxicity "occurred at"
        self.seizures = 0
        self.course_full_dose_until_h = -INF
        self.events: list[Event] = []
        self.status = STATUS_OFF
        self.end_clock_h = max((s.end_day for s in schedule.segments), default=0.0) * 24.0
        lead = config.protocol.premedication_lead_h
        self._premed_clock_h: list[float] = []
        if config.treatment.dexamethasone_premedication:
            self._premed_clock_h = premedication_clock_h(schedule, lead)
        # Premedication due at or before the start is given before the simulation starts.
        for t in [t for t in self._premed_clock_h if t < 0.0]:
            self._give_dex(t, self.dex_doses.premedication_mg, "premedication")
        self._premed_clock_h = sorted(t for t in self._premed_clock_h if t >= 0.0)
        if prephase:
            dex = config.dexamethasone
            mg = min(dex.prephase_mg_per_m2_day * config.patient.body_surface_area_m2, dex.prephase_max_mg_per_day)
            first = min((s.start_day for s in schedule.segments), default=0.0) * 24.0
            for k in range(dex.prephase_days, 0, -1):
                self._give_dex(first - 24.0 * k, mg, "pre-phase")

    # -- events

    def _log(self, t_h: float, kind: str, value: float, note: str = "") -> None:
        self.events.append(Event(t_h / 24.0, kind, float(value), note))

    def _give_dex(self, t_h: float, mg: float, note: str) -> None:
        if mg <= 0:
            return
        self.effects.dex_doses.append((t_h, mg))
        self._log(t_h, "dexamethasone", mg, note)

    def _dex_course(self, t_h: float, course: str) -> None:
        """Label course (CRS grade 3-4; also used for neurotoxicity): a dose every 8 h for 3 days, then a 4-day taper.

        Not started while another course is still at full dose (the patient is
        already on it); a course that is tapering is followed by the new one.
        """
        if not course or t_h < self.course_full_dose_until_h:
            return
        self.course_full_dose_until_h = t_h + COURSE_FULL_DOSE_H
        mg = self.dex_doses.course_mg[course]
        label = {"crs": "CRS", "neuro": "neurotoxicity"}[course]
        for k in range(9):
            self._give_dex(t_h + 8.0 * k, mg, f"{label} course")
        for day, fraction in enumerate((2.0 / 3.0, 1.0 / 2.0, 1.0 / 3.0, 1.0 / 6.0)):
            self._give_dex(t_h + COURSE_FULL_DOSE_H + 24.0 * day, 3.0 * mg * fraction, f"{label} taper")

    # -- the tick

    def step(self, t_h: float, crs_grade: int, neuro_grade: int, seizure: int = 0) -> float:
        """Infusion rate (ug/day) for the tick starting at ``t_h``; applies the rules first.

        ``seizure`` is the grade of a seizure in the last tick (0: none), from
        :class:`blinasim.clinical.seizures.SeizureModel`.
        """
        if seizure > 0:
            self.seizures += 1
            self._log(t_h, "seizure", seizure, f"seizure {self.seizures}")
            self._log(t_h, "anti-epileptic", self.seizures, "levetiracetam")
        signals = {"crs_grade": crs_grade, "neuro_grade": neuro_grade, "seizure": seizure, "seizures": self.seizures}
        for rule in self.rules:
            if rule.action == "tocilizumab":
                g = signals[rule.signal]
                if g >= rule.at_least and t_h - self.last_toci_h >= self.cfg.tocilizumab.redose_after_h:
                    self.last_toci_h = t_h
                    self.effects.toci_doses.append(t_h)
                    self._log(t_h, "tocilizumab", g, rule.name)
        if self.discontinued:
            self.status = STATUS_DISCONTINUED
            return 0.0
        treating = self.clock_h < self.end_clock_h - 1e-9
        for rule in self.rules:
            if rule.action not in ("discontinue", "hold"):
                continue
            g = signals[rule.signal]
            if rule.action == "discontinue":
                if g >= rule.at_least and treating:
                    self._discontinue(t_h, g, rule.name, rule.dexamethasone)
            elif rule.action == "hold":
                self._apply_hold(rule, g, signals, t_h, treating)
            if self.discontinued:
                self.status = STATUS_DISCONTINUED
                return 0.0
        if self.holds or t_h < self.restart_at_h:
            self.status = STATUS_HELD
            return 0.0
        while self._premed_clock_h and self._premed_clock_h[0] < self.clock_h + self.dt_h - 1e-9:
            self._premed_clock_h.pop(0)
            self._give_dex(t_h, self.dex_doses.premedication_mg, "premedication")
        rate = self.schedule.rate_at(self.clock_h / 24.0)
        if self.clock_ticks < self.escalation_until_ticks:
            rate = min(rate, self.step_up_rate)
        if rate > 0 and self.status == STATUS_HELD:
            self._log(t_h, "restart", rate, self._restart_note)
            self._restart_note = ""
        if rate > 0:
            self.last_rate = rate
        self.status = STATUS_INFUSING if rate > 0 else STATUS_OFF
        self.clock_ticks += 1
        return rate

    @property
    def clock_h(self) -> float:
        """Treatment clock in hours."""
        return self.clock_ticks * self.dt_h

    @property
    def cycle(self) -> int:
        """The cycle in progress on the treatment clock (0 before the first)."""
        return self.schedule.cycle_at(self.clock_h / 24.0)

    def _discontinue(self, t_h: float, g: float, note: str, course: str = "") -> None:
        self.discontinued = True
        self.holds.clear()
        self._log(t_h, "discontinue", g, note)
        self._dex_course(t_h, course)

    def _at_step_up_dose(self) -> bool:
        """Whether the infusion in effect when a toxicity occurred ran at (or below) the step-up dose."""
        return 0.0 < self.last_rate <= self.step_up_rate + 1e-9

    def _apply_hold(self, rule: Rule, g: int, signals: dict[str, int], t_h: float, treating: bool) -> None:
        hold = self.holds.get(rule.name)
        if hold is None:
            if g >= rule.at_least and treating:
                if rule.discontinue_at_step_up and self._at_step_up_dose():
                    note = f"{rule.name}: occurred at the step-up dose ({self.last_rate:g} ug/day)"
                    self._discontinue(t_h, g, note, rule.dexamethasone)
                    return
                if not self.holds and self.schedule.rate_at(self.clock_h / 24.0) > 0:
                    self.interrupted_since_h = t_h  # the hold stops an infusion in progress
                self.holds[rule.name] = _Hold(t_h)
                self._log(t_h, "hold", g, rule.name)
                self._dex_course(t_h, rule.dexamethasone)
            return
        g = signals[rule.resume_signal or rule.signal]
        if g > rule.resume_at_most:
            hold.calm_since_h = None
            if (t_h - hold.start_h) / 24.0 > rule.max_hold_days:
                self._discontinue(t_h, g, f"{rule.name}: not resolved within {rule.max_hold_days:g} days")
            return
        if hold.calm_since_h is None:
            hold.calm_since_h = t_h
        if (t_h - hold.calm_since_h) / 24.0 + 1e-9 < rule.resume_after_days:
            return
        del self.holds[rule.name]
        if self.holds:
            return
        p = self.cfg.protocol
        self.restart_at_h = t_h
        if self.cfg.treatment.dexamethasone_premedication and t_h - hold.start_h >= p.premedicate_after_hold_h:
            self._give_dex(t_h, self.dex_doses.premedication_mg, "premedication before restart")
            self.restart_at_h = t_h + p.premedication_lead_h
        self._apply_new_cycle_rules()
        if p.restart_escalation_days > 0:
            self.escalation_until_ticks = self.clock_ticks + round(p.restart_escalation_days * 24.0 / self.dt_h)
            escalation_h = self.escalation_until_ticks * self.dt_h
            planned = self.schedule.rate_at(escalation_h / 24.0)
            if self.cfg.treatment.dexamethasone_premedication and planned > self.step_up_rate:
                escalate = escalation_h - p.premedication_lead_h
                self._premed_clock_h = sorted([*self._premed_clock_h, escalate])

    def _apply_new_cycle_rules(self) -> None:
        """At a restart: an interruption of a cycle's infusion longer than the rule's days starts a new cycle
        (label: "If an interruption due to an adverse event is longer than 7 days, start a new cycle");
        a shorter one continues the same cycle on the treatment clock."""
        since, self.interrupted_since_h = self.interrupted_since_h, None
        if since is None:
            return
        days = (self.restart_at_h - since) / 24.0
        for rule in self.new_cycle_rules:
            if days > rule.at_least + 1e-9:
                interrupted = self.cycle
                self.schedule = new_cycle_schedule(self.schedule, self.clock_h / 24.0)
                self.end_clock_h = max((s.end_day for s in self.schedule.segments), default=0.0) * 24.0
                if self.cfg.treatment.dexamethasone_premedication:
                    lead = self.cfg.protocol.premedication_lead_h
                    times = premedication_clock_h(self.schedule, lead)
                    self._premed_clock_h = sorted(t for t in times if t > self.clock_h + 1e-9)
                self._restart_note = (
                    f"{rule.name}: cycle {self.cycle} (cycle {interrupted} interrupted {days:.2f} days"
                    f" > {rule.at_least:g})"
                )
                return


def needs_prephase(config) -> bool:
    """Pre-phase dexamethasone for this patient (label burden rule, or forced)."""
    t = config.treatment
    if t.dexamethasone_prephase != "auto":
        return t.dexamethasone_prephase == "always"
    p = config.patient
    return (
        config.baseline_marrow_blast_fraction > t.prephase_blast_fraction
        or p.peripheral_blasts_per_ul >= t.prephase_peripheral_blasts_per_ul
    )

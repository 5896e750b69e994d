"""Clinical schedule of blinatumomab: which rate is infused when.

A regimen becomes a list of :class:`Segment` (constant-rate pieces, with their
cycle number). Rates are resolved at tick starts, so schedule times are
honoured to the fast clock (6 min by default).

Regimens (blinatumomab label; BIOLOGY.md):

* ``rr_step_up``: R/R B-ALL. Cycle 1: 9 ug/day for 7 days, then 28 ug/day to
  day 28; later cycles 28 ug/day for 28 days. Cycles 1-5 are followed by a
  2-week break, later cycles by 8 weeks (4 on / 8 off).
* ``flat``: as ``rr_step_up`` without the step-up (28 ug/day from day 1).
* ``mrd``: MRD-positive B-ALL, 15 ug/m2/day (28 ug/day flat at >= 45 kg),
  4 weeks on, 2 weeks off, no step-up.
* ``none``: no drug.
* ``custom``: ``treatment.schedule`` segments, days counted from
  ``treatment.start_day``.

Below ``treatment.bsa_dosing_below_kg`` (45 kg) doses are per m2 of body
surface area (5 then 15 ug/m2/day), never above the flat adult dose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from blinasim.config import PatientConfig, TreatmentConfig


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
        for seg in self.segments:
            if seg.start_day <= day < seg.end_day:
                return seg.rate_ug_per_day
        return 0.0

    def cycle_at(self, day: float) -> int:
        """Cycle number in progress (its infusion or following break); 0 before the first."""
        cycle = 0
        for seg in self.segments:
            if day >= seg.start_day:
                cycle = seg.cycle
        return cycle

    def rates_on_grid(self, times_day: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`rate_at`."""
        out = np.zeros(len(times_day), dtype=np.float64)
        for seg in self.segments:
            out[(times_day >= seg.start_day) & (times_day < seg.end_day)] = seg.rate_ug_per_day
        return out

    def cycles_on_grid(self, times_day: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`cycle_at`."""
        out = np.zeros(len(times_day), dtype=np.int16)
        for seg in self.segments:
            out[times_day >= seg.start_day] = seg.cycle
        return out


def _doses(treatment: TreatmentConfig, patient: PatientConfig) -> tuple[float, float]:
    """(step-up, target) rates in ug/day for this patient's body size."""
    step, target = treatment.step_up_dose_ug_per_day, treatment.target_dose_ug_per_day
    if patient.weight_kg < treatment.bsa_dosing_below_kg:
        bsa = patient.body_surface_area_m2
        step = min(step, treatment.step_up_dose_ug_per_m2_day * bsa)
        target = min(target, treatment.target_dose_ug_per_m2_day * bsa)
    return step, target


def build_schedule(treatment: TreatmentConfig, patient: PatientConfig) -> Schedule:
    """Expand a regimen into its infusion segments."""
    t0 = treatment.start_day
    if treatment.regimen == "none" or (treatment.cycles == 0 and treatment.regimen != "custom"):
        return Schedule(())
    if treatment.regimen == "custom":
        segs = sorted(treatment.schedule, key=lambda s: s.start_day)
        return Schedule(tuple(Segment(t0 + s.start_day, t0 + s.end_day, s.dose_ug_per_day, 1) for s in segs))
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
        long_break = treatment.regimen != "mrd" and c > treatment.cycles_before_long_break
        start = end + (treatment.consolidation_days_off if long_break else treatment.days_off)
    return Schedule(tuple(segments))

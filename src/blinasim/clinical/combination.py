"""Combination drugs of phase 2: checkpoint-inhibitor PK and receptor occupancy,
and the salvage-chemotherapy exposure schedule.

Checkpoint inhibitors are IgG4 (nivolumab, pembrolizumab: anti-PD-1) or IgG1
(ipilimumab: anti-CTLA-4) antibodies with linear one-compartment kinetics over
their clinical range and half-lives of weeks. Doses are IV on the label
schedule from the first blinatumomab infusion day, treated as boluses (a
30-min infusion is instantaneous on a scale of weeks). The level is the exact
sum of decaying doses. PD-1 occupancy is ``RO_max C / (C + EC50)``; it blocks
the PD-1:PD-L1 brake on killing and proliferation (kernels). CTLA-4 blockade
``C / (C + EC50)`` raises activated T-cell proliferation.

Salvage chemotherapy (comparator arm) is a schedule of exposure days: during a
course every blast, normal B cell, other marrow cell and T-cell dies with its
own per-day hazard (kernel ``chemotherapy.cytotoxic_exposure``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from blinasim.params.schema import Config


@dataclass(frozen=True)
class AntibodyPK:
    """Bolus-dosed linear one-compartment antibody."""

    name: str
    dose_mg: float
    interval_days: float
    half_life_days: float
    volume_l: float
    first_dose_day: float

    def concentration_ug_per_ml(self, day: float) -> float:
        """Serum level: sum of the doses given so far, each decaying exponentially."""
        if day < self.first_dose_day:
            return 0.0
        k = math.log(2.0) / self.half_life_days
        n = math.floor((day - self.first_dose_day) / self.interval_days + 1e-9) + 1
        c0 = self.dose_mg / self.volume_l  # mg/L == ug/mL
        total = 0.0
        for i in range(n):
            total += c0 * math.exp(-k * (day - self.first_dose_day - i * self.interval_days))
        return total

    def dose_days(self, until_day: float) -> list[float]:
        out = []
        d = self.first_dose_day
        while d <= until_day + 1e-9:
            out.append(d)
            d += self.interval_days
        return out


class CombinationDrugs:
    """Checkpoint inhibitors and chemotherapy of one patient, queried per tick."""

    def __init__(self, config: Config, first_infusion_day: float):
        t, cp = config.treatment, config.checkpoint
        self.cfg = config
        self.anti_pd1: AntibodyPK | None = None
        if t.checkpoint_inhibitor == "nivolumab":
            self.anti_pd1 = AntibodyPK(
                "nivolumab",
                cp.nivolumab_dose_mg,
                cp.nivolumab_interval_days,
                cp.nivolumab_half_life_days,
                cp.nivolumab_volume_l,
                first_infusion_day,
            )
        elif t.checkpoint_inhibitor == "pembrolizumab":
            self.anti_pd1 = AntibodyPK(
                "pembrolizumab",
                cp.pembrolizumab_dose_mg,
                cp.pembrolizumab_interval_days,
                cp.pembrolizumab_half_life_days,
                cp.pembrolizumab_volume_l,
                first_infusion_day,
            )
        self.anti_ctla4: AntibodyPK | None = None
        if t.ipilimumab:
            self.anti_ctla4 = AntibodyPK(
                "ipilimumab",
                cp.ipilimumab_dose_mg_per_kg * config.patient.weight_kg,
                cp.ipilimumab_interval_days,
                cp.ipilimumab_half_life_days,
                cp.ipilimumab_volume_l,
                first_infusion_day,
            )
        ch = config.chemotherapy
        self.chemo_days: list[tuple[float, float]] = []
        if t.chemotherapy != "none":
            for k in range(ch.courses):
                start = t.chemotherapy_start_day + k * ch.interval_days
                self.chemo_days.append((start, start + ch.course_days))

    def pd1_occupancy(self, day: float) -> float:
        """Fraction of PD-1 receptors blocked by the anti-PD-1 antibody."""
        if self.anti_pd1 is None:
            return 0.0
        cp = self.cfg.checkpoint
        c = self.anti_pd1.concentration_ug_per_ml(day)
        return cp.pd1_occupancy_max * c / (c + cp.pd1_occupancy_ec50_ug_per_ml)

    def ctla4_blockade(self, day: float) -> float:
        """Fraction of CTLA-4 blocked by ipilimumab."""
        if self.anti_ctla4 is None:
            return 0.0
        c = self.anti_ctla4.concentration_ug_per_ml(day)
        return c / (c + self.cfg.checkpoint.ipilimumab_ec50_ug_per_ml)

    def marrow_refill_factor(self, day: float) -> float:
        """Share of normal marrow refill: 0 during a course, ramping back to 1 over
        ``chemotherapy.marrow_recovery_days`` after it (precursors recover first)."""
        factor = 1.0
        recovery = self.cfg.chemotherapy.marrow_recovery_days
        for start, end in self.chemo_days:
            if start <= day + 1e-9 < end:
                return 0.0
            if end <= day + 1e-9 and recovery > 0:
                factor = min(factor, min(1.0, (day - end) / recovery))
        return factor

    def chemotherapy_active(self, day: float) -> bool:
        """Whether a chemotherapy course is running at this time."""
        return any(start <= day + 1e-9 < end for start, end in self.chemo_days)

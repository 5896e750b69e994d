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
own per-day hazard (kernel ``chemotherapy.cytotoxic_exposure``). The hazards
come from the patient's :class:`SalvageRegimen`: one of the four regimens TOWER
allowed (FLAG +/- idarubicin, HiDAC-based, high-dose methotrexate-based,
clofarabine-based; :data:`REGIMENS`), each with its course length, blast log
kill per course, myelosuppression, marrow recovery and lymphodepletion, or the
physician's choice among them (:func:`chemotherapy_regimen`). A regimen's blast
hazard spreads its log kill evenly over the course days::

    h_blast = ln(10) * log_kill * potency_scale * s / course_days

with ``s`` the patient's chemosensitivity, log-normal with sd
``chemotherapy.sensitivity_log_sd`` (drawn from the run seed). All blasts of
the model cycle, so the S-phase specificity of these drugs acts on every blast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from blinasim.kernels.rng import CHEMO_CHOICE, draw_uniform
from blinasim.params.schema import Config

#: the four TOWER regimens (FLAG with and without idarubicin counted apart), in the order of their
#: physician's-choice weights (:func:`regimen_shares`)
REGIMENS = ("flag", "flag_ida", "hidac", "hd_mtx", "clofarabine")
#: ``treatment.chemotherapy`` values that are a salvage arm
CHEMOTHERAPY_ARMS = (*REGIMENS, "physicians_choice", "salvage")


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


@dataclass(frozen=True)
class SalvageRegimen:
    """One patient's salvage regimen: its schedule and per-day kill hazards during a course."""

    name: str
    course_days: float
    courses: int
    interval_days: float
    blast_kill_per_day: float
    normal_b_kill_per_day: float
    other_marrow_kill_per_day: float
    t_cell_kill_per_day: float
    marrow_recovery_days: float
    #: the patient's chemosensitivity multiplier on the blast kill (1 for the generic course)
    sensitivity: float = 1.0


def regimen_shares(config: Config) -> dict[str, float]:
    """Physician's choice: each regimen's probability (the weights, normalised)."""
    ch = config.chemotherapy
    weights = {
        "flag": ch.share_flag * (1.0 - ch.share_flag_ida_of_flag),
        "flag_ida": ch.share_flag * ch.share_flag_ida_of_flag,
        "hidac": ch.share_hidac,
        "hd_mtx": ch.share_hd_mtx,
        "clofarabine": ch.share_clofarabine,
    }
    total = sum(weights.values())
    return {k: v / total for k, v in weights.items()}


def choose_regimen(config: Config, seed: int) -> str:
    """The regimen a patient gets: ``treatment.chemotherapy`` itself, or for ``physicians_choice`` a
    draw from the run seed (stream ``CHEMO_CHOICE``, slot 0) in the proportions of
    :func:`regimen_shares`; the same seed gives the same regimen in every arm."""
    choice = config.treatment.chemotherapy
    if choice != "physicians_choice":
        return choice
    u = float(draw_uniform(seed, 0, CHEMO_CHOICE, 0, 0))
    cumulative = 0.0
    for name, p in regimen_shares(config).items():
        cumulative += p
        if u < cumulative:
            return name
    return REGIMENS[-1]


def chemosensitivity(config: Config, seed: int) -> float:
    """The patient's log-normal blast-kill multiplier (median 1), from the run seed (stream
    ``CHEMO_CHOICE``, slot 1): inverse normal CDF of a uniform draw."""
    sd = config.chemotherapy.sensitivity_log_sd
    if sd == 0:
        return 1.0
    u = float(draw_uniform(seed, 0, CHEMO_CHOICE, 1, 0))
    u = min(max(u, 1e-12), 1.0 - 1e-12)
    return math.exp(sd * NormalDist().inv_cdf(u))


def chemotherapy_regimen(config: Config, seed: int) -> SalvageRegimen | None:
    """The patient's :class:`SalvageRegimen` (``None`` without chemotherapy). ``salvage`` is the generic
    course of ``chemotherapy.blast_kill_per_day`` etc. (uncalibrated, no chemosensitivity draw)."""
    ch = config.chemotherapy
    name = choose_regimen(config, seed)
    if name == "none":
        return None
    if name == "salvage":
        return SalvageRegimen(
            "salvage",
            ch.course_days,
            ch.courses,
            ch.interval_days,
            ch.blast_kill_per_day,
            ch.normal_b_kill_per_day,
            ch.other_marrow_kill_per_day,
            ch.t_cell_kill_per_day,
            ch.marrow_recovery_days,
        )
    days = getattr(ch, f"{name}_course_days")
    s = chemosensitivity(config, seed)
    blast = math.log(10.0) * getattr(ch, f"{name}_blast_log_kill") * ch.potency_scale * s / days
    return SalvageRegimen(
        name,
        days,
        ch.courses,
        ch.interval_days,
        blast,
        blast * ch.normal_b_relative_kill,
        getattr(ch, f"{name}_other_marrow_kill_per_day"),
        getattr(ch, f"{name}_t_cell_kill_per_day"),
        getattr(ch, f"{name}_marrow_recovery_days"),
        s,
    )


def chemotherapy_assessment_days(config: Config) -> list[float]:
    """Response assessment of a chemotherapy arm: before each next course (count recovery), i.e.
    ``interval_days`` after the start of each of the first ``min(courses, endpoints.response_cycles)``
    courses (TOWER: response within 12 weeks, [Kantarjian2017])."""
    ch, t = config.chemotherapy, config.treatment
    n = min(ch.courses, config.endpoints.response_cycles)
    return [t.chemotherapy_start_day + (k + 1) * ch.interval_days for k in range(n)]


class CombinationDrugs:
    """Checkpoint inhibitors and chemotherapy of one patient, queried per tick."""

    def __init__(self, config: Config, first_infusion_day: float, seed: int = 0):
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
        #: the patient's salvage regimen (None without chemotherapy); ``seed`` is the run seed
        self.regimen = chemotherapy_regimen(config, seed)
        self.chemo_days: list[tuple[float, float]] = []
        if self.regimen is not None:
            for k in range(self.regimen.courses):
                start = t.chemotherapy_start_day + k * self.regimen.interval_days
                self.chemo_days.append((start, start + self.regimen.course_days))

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
        the regimen's marrow recovery days after it (precursors recover first)."""
        factor = 1.0
        if self.regimen is None:
            return factor
        recovery = self.regimen.marrow_recovery_days
        for start, end in self.chemo_days:
            if start <= day + 1e-9 < end:
                return 0.0
            if end <= day + 1e-9 and recovery > 0:
                factor = min(factor, min(1.0, (day - end) / recovery))
        return factor

    def chemotherapy_active(self, day: float) -> bool:
        """Whether a chemotherapy course is running at this time."""
        return any(start <= day + 1e-9 < end for start, end in self.chemo_days)
